// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * admin create-user: the password comes from a file or standard input, never
 * the command line (argv is readable by every local user through /proc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "atomic_file.h"
#include "auth.h"
#include "cli.h"
#include "console.h"
#include "db.h"

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* One line from stdin; with echo off when it is a terminal. */
static int read_stdin_password(const char *prompt, char **out)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return -ENODATA;
	}
	chomp(line);
	*out = line;
	return 0;
}

static int read_password(const char *file, char **out)
{
	char *again = NULL;
	size_t len;
	int rc;

	if (file) {
		rc = read_small_file(file, out, &len, PW_MAX_LEN + 2);
		if (rc) {
			fprintf(stderr, PROG " admin: cannot read --password-file %s: %s\n", file,
				strerror(-rc));
			return rc;
		}
		chomp(*out);
		return 0;
	}
	rc = read_stdin_password("Password: ", out);
	if (!rc && isatty(STDIN_FILENO)) {
		rc = read_stdin_password("Again: ", &again);
		if (!rc && strcmp(*out, again)) {
			fprintf(stderr, PROG " admin: the passwords differ\n");
			rc = -EINVAL;
		}
		if (again) {
			OPENSSL_cleanse(again, strlen(again));
			free(again);
		}
	} else if (rc) {
		fprintf(stderr, PROG " admin: no password on standard input (pipe it in, or use "
				"--password-file FILE)\n");
	}
	if (rc && *out) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

struct user_opts {
	const char *pwfile;
	const char *role;
};

static int user_opt(void *ctx, int c, const char *arg)
{
	struct user_opts *o = ctx;

	if (c == 'p')
		o->pwfile = arg;
	else if (c == 'r')
		o->role = arg;
	else
		return 2;
	return 0;
}

int admin_create_user(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE create-user ACCOUNT NAME [--password-file FILE]\n"
		"           [--role admin|operator|viewer]\n"
		"A console user of ACCOUNT. The password (at least 8 characters) is the\n"
		"first line of FILE or of standard input (asked twice, unechoed, on a\n"
		"terminal); never an argument. The user signs in as NAME@ACCOUNT and\n"
		"can register agents with NAME, the password and the account.\n"
		"--role (default admin): a viewer sees the machines but cannot launch,\n"
		"cut over or finalize them (docs/launch.md); operator and admin can.\n";
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct user_opts o = { .pwfile = NULL, .role = ROLE_ADMIN };
	const char *name, *why = "";
	struct account acct;
	struct pw_record rec;
	char *password = NULL;
	int rc = admin_parse(argc, argv, help, opts, user_opt, &o, 2);

	if (rc)
		return rc;
	if (!user_role_valid(o.role))
		return bad_usage(argv[0], "--role '%s' is not one of admin, operator, viewer", o.role);
	name = argv[optind + 1];
	if (!user_name_valid(name))
		return bad_usage(argv[0], "user name '%s': 1 to %d characters, no spaces or ':'",
				 name, USER_NAME_MAX);
	if ((rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	if (read_password(o.pwfile, &password))
		return 1;
	rc = 1;
	if (password_acceptable(password, &why)) {
		fprintf(stderr, PROG " admin: %s\n", why);
		goto out;
	}
	if (password_hash(password, PW_ITERATIONS, &rec)) {
		fprintf(stderr, PROG " admin: cannot hash the password\n");
		goto out;
	}
	/* the user and its role together: no admin left behind by a failure */
	rc = db_begin(a->db);
	if (!rc)
		rc = user_create(a->db, acct.id, name, &rec);
	if (!rc)
		rc = user_set_role(a->db, acct.id, name, o.role);
	if (!rc) {
		char target[USER_NAME_MAX + ACCOUNT_NAME_MAX + 8];
		json_t *d = json_pack("{s:s}", "role", o.role);

		snprintf(target, sizeof(target), "user %s@%s", name, acct.name);
		rc = d ? admin_audit_write(a, &(struct audit_rec){ .account_id = acct.id,
						.action = "user.create", .target = target,
						.detail = d }, console_now())
		       : -ENOMEM;
		json_decref(d);
	}
	if (!rc)
		rc = db_commit(a->db);
	if (rc)
		db_rollback(a->db);
	switch (rc) {
	case 0:
		printf("created user %s@%s (%s)\n", name, acct.name, o.role);
		rc = 0;
		break;
	case -EEXIST:
		fprintf(stderr, PROG " admin: account %s already has a user %s\n", acct.name, name);
		rc = 1;
		break;
	default:
		fprintf(stderr, PROG " admin: cannot create user %s\n", name);
		rc = 1;
		break;
	}
out:
	OPENSSL_cleanse(password, strlen(password));
	free(password);
	return rc;
}
