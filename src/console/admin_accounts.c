// SPDX-License-Identifier: GPL-2.0-or-later
/* admin create-account, set-licenses, list-accounts (admin.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"

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

/* account.create and account.set-licenses (before: -1 for a new account). */
static int audit_account(struct admin *a, const char *name, const char *action, int64_t before,
			 int64_t licenses)
{
	char target[ACCOUNT_NAME_MAX + 16];
	struct account acct;
	json_t *d = json_pack("{s:I}", "licenses", (json_int_t)licenses);
	int rc = d ? account_find(a->db, name, &acct) : -ENOMEM;

	if (!rc && before >= 0)
		json_object_set_new(d, "licenses_before", json_integer(before));
	snprintf(target, sizeof(target), "account %s", name);
	if (!rc)
		rc = admin_audit_write(a, &(struct audit_rec){ .account_id = acct.id,
					.action = action, .target = target, .detail = d },
				       console_now());
	json_decref(d);
	return rc;
}

int admin_create_account(struct admin *a, int argc, char **argv)
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
	rc = db_begin(a->db);
	if (!rc)
		rc = account_create(a->db, name, n);
	if (!rc)
		rc = audit_account(a, name, "account.create", -1, n);
	if (!rc)
		rc = db_commit(a->db);
	if (rc)
		db_rollback(a->db);
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

int admin_set_licenses(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE set-licenses NAME N\n"
				   "Set an account's license total. Lowering it below the number in\n"
				   "use deregisters nothing: new machines are refused until enough\n"
				   "are deregistered.\n";
	struct account acct;
	int64_t n, in_use = 0;
	int rc = admin_parse(argc, argv, help, admin_help_only, admin_no_opts, NULL, 2);

	if (rc)
		return rc;
	if (parse_count(argv[optind + 1], &n))
		return bad_usage(argv[0], "'%s' is not a number from 0 up", argv[optind + 1]);
	if ((rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	rc = db_begin(a->db);
	if (!rc)
		rc = account_set_licenses(a->db, acct.id, n);
	if (!rc)
		rc = audit_account(a, acct.name, "account.set-licenses", acct.licenses, n);
	if (!rc)
		rc = licenses_in_use(a->db, acct.id, &in_use);
	if (!rc)
		rc = db_commit(a->db);
	if (rc) {
		db_rollback(a->db);
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

int admin_list_accounts(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE list-accounts\n";
	struct db_stmt *st;
	int rc = admin_parse(argc, argv, help, admin_help_only, admin_no_opts, NULL, 0);

	if (rc || (rc = admin_open(a)))
		return rc;
	if (db_prepare(a->db, &st,
		       "SELECT a.name, a.licenses, (SELECT COUNT(*) FROM machines m"
		       " WHERE m.account_id = a.id AND m.deregistered_at IS NULL) FROM accounts a"
		       " ORDER BY a.name"))
		return 1;
	printf("%-32s %8s %8s\n", "ACCOUNT", "LICENSES", "IN-USE");
	while ((rc = db_step(st)) == DB_ROW)
		printf("%-32s %8lld %8lld\n", db_text(st, 0), (long long)db_column_int64(st, 1),
		       (long long)db_column_int64(st, 2));
	db_finalize(st);
	return rc == DB_DONE ? 0 : 1;
}
