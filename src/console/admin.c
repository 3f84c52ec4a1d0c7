// SPDX-License-Identifier: GPL-2.0-or-later
/* `livemig-console admin`: the one command table, its dispatch and help,
 * and the helpers every command shares (admin.h). */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "log.h"

int admin_parse(int argc, char **argv, const char *help, const struct option *longopts,
		admin_opt_fn on_opt, void *ctx, int npos)
{
	int c, rc;

	optind = 0; /* GNU: start over on this new argument vector */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			exit(0);
		}
		if (c == ':')
			return bad_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return bad_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
		rc = on_opt(ctx, c, optarg);
		if (rc)
			return rc;
	}
	if (argc - optind < npos)
		return bad_usage(argv[0], "missing argument\n%s", help);
	if (argc - optind > npos)
		return bad_usage(argv[0], "unexpected argument '%s'", argv[optind + npos]);
	return 0;
}

int admin_no_opts(void *ctx, int c, const char *arg)
{
	(void)ctx;
	(void)c;
	(void)arg;
	return 2;
}

int admin_json_opt(void *ctx, int c, const char *arg)
{
	(void)arg;
	if (c != 'j')
		return 2;
	*(int *)ctx = 1;
	return 0;
}

const struct option admin_help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int admin_open(struct admin *a)
{
	char err[512];
	int rc;

	if (!a->db_path) {
		fprintf(stderr, PROG " admin: --db FILE is required (the console's SQLite database, "
				"or its postgresql:// URI, as given to 'serve --db')\n");
		return 2;
	}
	rc = db_open(a->db_path, 1, &a->db, err, sizeof(err));
	if (!rc)
		rc = db_migrate(a->db, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG " admin: %s\n", err);
		return 1;
	}
	return 0;
}

int admin_account(struct admin *a, const char *name, struct account *out)
{
	int rc = account_find(a->db, name, out);

	if (rc == -ENOENT)
		fprintf(stderr,
			PROG " admin: no account '%s' (create it with: " PROG " admin --db %s "
			"create-account %s --licenses N)\n", name, a->db_path, name);
	else if (rc)
		fprintf(stderr, PROG " admin: cannot read account '%s': %s\n", name, strerror(-rc));
	return rc ? 1 : 0;
}

void admin_who(struct audit_who *w)
{
	struct passwd *pw = getpwuid(geteuid());

	snprintf(w->actor, sizeof(w->actor), PROG " admin (%.64s)", pw ? pw->pw_name : "?");
	w->role[0] = '\0';
	snprintf(w->from, sizeof(w->from), "%s", AUDIT_FROM_LOCAL);
}

int admin_audit_write(struct admin *a, const struct audit_rec *r, int64_t now)
{
	struct audit_who w;

	admin_who(&w);
	return audit_write(a->db, &w, r, now);
}

void admin_time(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Every admin command: its name, its synopsis and one line of help (the
 * usage text is made from this table), and the function that runs it. */
static const struct admin_command commands[] = {
	{ "create-account", "NAME --licenses N", "a new account with N licenses",
	  admin_create_account },
	{ "set-licenses", "NAME N", "change an account's license total", admin_set_licenses },
	{ "list-accounts", "", "accounts with licenses in use", admin_list_accounts },
	{ "create-user", "ACCOUNT NAME [--password-file FILE] [--role R]",
	  "a console user (password read from stdin)", admin_create_user },
	{ "create-token", "ACCOUNT [--label L] [--expires 7d] [--max-uses N]",
	  "an installation token, printed once", admin_create_token },
	{ "list-tokens", "ACCOUNT [--json]", "tokens (never their secrets)", admin_list_tokens },
	{ "revoke-token", "ID", "refuse a token from now on", admin_revoke_token },
	{ "list-machines", "ACCOUNT [--json]", "registered machines with inventory",
	  admin_list_machines },
	{ "remove-machine", "ACCOUNT MACHINE [--yes]",
	  "free its license, revoke its certificate, stop its agent", admin_remove_machine },
	{ "init-ca", "DIR [--cn NAME]", "create the agent CA (DIR/ca.pem, DIR/ca.key 0600)",
	  admin_init_ca },
	{ "server-cert", "--out PREFIX --dns NAME|--ip ADDR... [--owner USER]",
	  "a server's TLS key and certificate from the server CA", admin_server_cert },
	{ "add-staging", "NAME", "a staging server's sync secret, printed once", admin_add_staging },
	{ "list-staging", "[--json]", "staging servers and their last sync", admin_list_staging },
	{ "remove-staging", "NAME", "refuse a staging server's secret from now on",
	  admin_remove_staging },
	{ "pin-staging", "MACHINE SERVER", "place a machine on a staging server and keep it there",
	  admin_pin_staging },
	{ "unpin-staging", "MACHINE", "drop a machine's pin", admin_unpin_staging },
	{ "drain-staging", "SERVER", "move a staging server's machines to the others",
	  admin_drain_staging },
	{ "undrain-staging", "SERVER", "a drained staging server takes machines again",
	  admin_undrain_staging },
	{ "placement", "[--json]", "each machine's staging server", admin_placement },
	{ "points", "ACCOUNT MACHINE [--json]", "a machine's recovery points", admin_points },
	{ "lifecycle", "ACCOUNT MACHINE [show|test [--point ID]|mark-ready|cutover|revert|finalize] [--json]",
	  "test, cut over, revert, finalize (docs/launch.md)", admin_lifecycle },
	{ "audit", "ACCOUNT|--console [--machine ID] [--action A] [--actor A] [--limit N] [--json]",
	  "who changed what, when, from where (newest first)", admin_audit },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void admin_usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " admin --db FILE COMMAND [ARGS]\n\n"
		   "Manage the console's database directly (safe while 'serve' runs).\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char left[128];

		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].synopsis);
		if (strlen(left) <= 36)
			fprintf(f, "  %-36s %s\n", left, commands[i].summary);
		else
			fprintf(f, "  %s\n  %-36s %s\n", left, "", commands[i].summary);
	}
	fprintf(f, "\n  --db FILE   the SQLite database (created if missing), or the PostgreSQL\n"
		   "              database's postgresql:// URI; not needed for init-ca and\n"
		   "              server-cert\n"
		   "Each command takes --help.\n");
}

int admin_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin a = { .db_path = NULL };
	int c, rc = -1;

	/* Errors go to stderr as plain messages; the log prefix would only
	 * repeat the program name. */
	log_init(PROG " admin", LOG_LVL_WARN, 0);
	opterr = 0;
	/* '+': stop at the command; its own options are parsed after it. */
	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a.db_path = optarg;
			break;
		case 'h':
			admin_usage(stdout);
			return 0;
		case ':':
			return bad_usage("admin", "option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("admin", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		bad_usage("admin", "a command is required");
		admin_usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			char name[64];

			/* Messages then say "livemig-console admin create-user: ..." */
			snprintf(name, sizeof(name), "admin %s", commands[i].name);
			argv[optind] = name;
			rc = commands[i].fn(&a, argc - optind, argv + optind);
			break;
		}
	}
	if (rc == -1)
		return bad_usage("admin", "unknown command '%s'", argv[optind]);
	db_close(a.db);
	return rc;
}
