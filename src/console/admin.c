// SPDX-License-Identifier: GPL-2.0-or-later
/* `livemig-console admin`: dispatch, accounts and the CA (admin.h). */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "cli.h"
#include "db.h"
#include "log.h"

static const char admin_help[] =
	"Usage: " PROG " admin --db FILE COMMAND [ARGS]\n"
	"\n"
	"Manage the console's database directly (safe while 'serve' runs).\n"
	"\n"
	"  create-account NAME --licenses N     a new account with N licenses\n"
	"  set-licenses NAME N                  change an account's license total\n"
	"  list-accounts                        accounts with licenses in use\n"
	"  create-user ACCOUNT NAME [--password-file FILE]\n"
	"                                       a console user (password read from stdin)\n"
	"  create-token ACCOUNT [--label L] [--expires 7d] [--max-uses N]\n"
	"                                       an installation token, printed once\n"
	"  list-tokens ACCOUNT [--json]         tokens (never their secrets)\n"
	"  revoke-token ID                      refuse a token from now on\n"
	"  list-machines ACCOUNT [--json]       registered machines with inventory\n"
	"  init-ca DIR [--cn NAME]              create the agent CA (DIR/ca.pem, DIR/ca.key 0600)\n"
	"  add-staging NAME                     a staging server's sync secret, printed once\n"
	"  list-staging [--json]                staging servers and their last sync\n"
	"  remove-staging NAME                  refuse a staging server's secret from now on\n"
	"\n"
	"  --db FILE   the SQLite database (created if missing; not needed for init-ca)\n"
	"Each command takes --help.\n";

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

static int no_opts(void *ctx, int c, const char *arg)
{
	(void)ctx;
	(void)c;
	(void)arg;
	return 2;
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int admin_open(struct admin *a)
{
	char err[512];
	int rc;

	if (!a->db_path) {
		fprintf(stderr, PROG " admin: --db FILE is required (the console's SQLite database, "
				"as given to 'serve --db')\n");
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

void admin_time(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int parse_count(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 1000000000)
		return -EINVAL;
	*out = v;
	return 0;
}

static int licenses_opt(void *ctx, int c, const char *arg)
{
	if (c != 'l')
		return 2;
	if (parse_count(arg, ctx))
		return bad_usage("admin create-account", "--licenses '%s' is not a number from 0 up", arg);
	return 0;
}

static int cmd_create_account(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE create-account NAME --licenses N\n"
				   "A new account with N licenses (one per source machine).\n";
	static const struct option opts[] = {
		{ "licenses", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t n = -1;
	const char *name;
	int rc = admin_parse(argc, argv, help, opts, licenses_opt, &n, 1);

	if (rc)
		return rc;
	name = argv[optind];
	if (n < 0)
		return bad_usage(argv[0], "--licenses N is required (0 is allowed)");
	if (!account_name_valid(name))
		return bad_usage(argv[0], "account name '%s': use 1 to 63 characters of A-Z a-z 0-9 "
				 "_ - . (not starting with a dot)", name);
	if ((rc = admin_open(a)))
		return rc;
	rc = account_create(a->db, name, n);
	if (rc == -EEXIST) {
		fprintf(stderr, PROG " admin: account '%s' already exists (change its licenses with "
				"set-licenses %s N)\n", name, name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin: cannot create account '%s': %s\n", name, strerror(-rc));
		return 1;
	}
	printf("created account %s with %lld license%s\n", name, (long long)n, n == 1 ? "" : "s");
	return 0;
}

static int cmd_set_licenses(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE set-licenses NAME N\n"
				   "Set an account's license total. Lowering it below the number in\n"
				   "use deregisters nothing: new machines are refused until enough\n"
				   "are deregistered.\n";
	struct account acct;
	int64_t n, in_use = 0;
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 2);

	if (rc)
		return rc;
	if (parse_count(argv[optind + 1], &n))
		return bad_usage(argv[0], "'%s' is not a number from 0 up", argv[optind + 1]);
	if ((rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	rc = account_set_licenses(a->db, acct.id, n);
	if (!rc)
		rc = licenses_in_use(a->db, acct.id, &in_use);
	if (rc) {
		fprintf(stderr, PROG " admin: cannot set licenses: %s\n", strerror(-rc));
		return 1;
	}
	printf("account %s: %lld license%s, %lld in use\n", acct.name, (long long)n,
	       n == 1 ? "" : "s", (long long)in_use);
	if (in_use > n)
		fprintf(stderr, "note: more machines are registered than licensed; new machines are "
				"refused until %lld are deregistered\n", (long long)(in_use - n));
	return 0;
}

static int cmd_list_accounts(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE list-accounts\n";
	sqlite3_stmt *st;
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 0);

	if (rc || (rc = admin_open(a)))
		return rc;
	if (db_prepare(a->db, &st,
		       "SELECT a.name, a.licenses, (SELECT COUNT(*) FROM machines m"
		       " WHERE m.account_id = a.id AND m.deregistered_at IS NULL) FROM accounts a"
		       " ORDER BY a.name"))
		return 1;
	printf("%-32s %8s %8s\n", "ACCOUNT", "LICENSES", "IN-USE");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%-32s %8lld %8lld\n", db_text(st, 0), (long long)sqlite3_column_int64(st, 1),
		       (long long)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : 1;
}

static int cn_opt(void *ctx, int c, const char *arg)
{
	if (c != 'n')
		return 2;
	*(const char **)ctx = arg;
	return 0;
}

static int cmd_init_ca(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin init-ca DIR [--cn NAME]\n"
		"Create the agent CA: DIR/ca.key (EC P-256, mode 0600) and DIR/ca.pem\n"
		"(valid 10 years). Give ca.pem to staging (--ca) and both to 'serve'\n"
		"(--agent-ca-cert, --agent-ca-key). Never replaces an existing CA.\n";
	static const struct option opts[] = {
		{ "cn", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cn = "livemig agent CA";
	char err[512];
	int rc = admin_parse(argc, argv, help, opts, cn_opt, &cn, 1);

	(void)a;
	if (rc)
		return rc;
	rc = agent_ca_init(argv[optind], cn, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG " admin init-ca: %s\n", err);
		return 1;
	}
	printf("created %s/ca.pem and %s/ca.key (keep ca.key secret; staging needs only ca.pem)\n",
	       argv[optind], argv[optind]);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct admin *a, int argc, char **argv);
} commands[] = {
	{ "create-account", cmd_create_account },
	{ "set-licenses", cmd_set_licenses },
	{ "list-accounts", cmd_list_accounts },
	{ "create-user", admin_create_user },
	{ "create-token", admin_create_token },
	{ "list-tokens", admin_list_tokens },
	{ "revoke-token", admin_revoke_token },
	{ "list-machines", admin_list_machines },
	{ "init-ca", cmd_init_ca },
	{ "add-staging", admin_add_staging },
	{ "list-staging", admin_list_staging },
	{ "remove-staging", admin_remove_staging },
};

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
			fputs(admin_help, stdout);
			return 0;
		case ':':
			return bad_usage("admin", "option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("admin", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("admin", "a command is required\n%s", admin_help);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
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
	sqlite3_close(a.db);
	return rc;
}
