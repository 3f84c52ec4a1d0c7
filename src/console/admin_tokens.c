// SPDX-License-Identifier: GPL-2.0-or-later
/* admin create-token, list-tokens, revoke-token (admin.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"
#include "tokens.h"

struct token_opts {
	const char *label;
	uint64_t expires_s;
	int64_t max_uses;
	int json;
};

static int token_opt(void *ctx, int c, const char *arg)
{
	struct token_opts *o = ctx;
	char *end;

	switch (c) {
	case 'l':
		if (strlen(arg) > TOKEN_LABEL_MAX)
			return bad_usage("admin create-token", "--label: at most %d characters",
					 TOKEN_LABEL_MAX);
		o->label = arg;
		return 0;
	case 'e':
		if (parse_seconds(arg, &o->expires_s))
			return bad_usage("admin create-token", "--expires '%s' is not a duration "
					 "(for example 7d, 12h, 30m)", arg);
		return 0;
	case 'm':
		errno = 0;
		o->max_uses = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || o->max_uses < 1 || o->max_uses > 1000000000)
			return bad_usage("admin create-token", "--max-uses '%s' must be a number "
					 "from 1 up", arg);
		return 0;
	case 'j':
		o->json = 1;
		return 0;
	}
	return 2;
}

/* token.create and token.revoke, as the page's (web_tokens.c). */
static int audit_token(struct admin *a, int64_t account_id, const char *action, int64_t id,
		       const char *label, int64_t expires_at, int64_t max_uses)
{
	char target[48];
	json_t *d = token_audit_detail(id, label, expires_at, max_uses, target, sizeof(target));
	int rc;

	if (!d)
		return -ENOMEM;
	rc = admin_audit_write(a, &(struct audit_rec){ .account_id = account_id, .action = action,
						       .target = target, .detail = d },
			       console_now());
	json_decref(d);
	return rc;
}

int admin_create_token(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE create-token ACCOUNT [--label L] [--expires DUR]\n"
		"           [--max-uses N]\n"
		"An installation token for ACCOUNT. The token is printed once, alone on\n"
		"stdout; the console keeps only its SHA-256. Each registration with it\n"
		"counts one use; registering still needs a free license.\n"
		"  --label L       a note shown by list-tokens\n"
		"  --expires DUR   refuse it after DUR (for example 7d, 12h); default never\n"
		"  --max-uses N    refuse it after N registrations; default unlimited\n";
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
		{ "max-uses", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct token_opts o = { .label = "" };
	struct account acct;
	char secret[SECRET_STR_MAX], when[64];
	int64_t id = 0, expires = 0;
	int rc = admin_parse(argc, argv, help, opts, token_opt, &o, 1);

	if (rc || (rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	if (o.expires_s)
		expires = console_now() + (int64_t)o.expires_s;
	rc = db_begin(a->db);
	if (!rc)
		rc = token_create(a->db, acct.id, o.label, expires, o.max_uses, secret, &id);
	if (!rc)
		rc = audit_token(a, acct.id, "token.create", id, o.label, expires, o.max_uses);
	if (!rc)
		rc = db_commit(a->db);
	if (rc) {
		db_rollback(a->db);
		fprintf(stderr, PROG " admin: cannot create a token: %s\n", strerror(-rc));
		return 1;
	}
	printf("%s\n", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	fflush(stdout);
	if (expires)
		admin_time(expires, when, sizeof(when));
	fprintf(stderr, "token %lld for account %s%s%s%s; expires %s; ", (long long)id, acct.name,
		o.label[0] ? " (\"" : "", o.label, o.label[0] ? "\")" : "",
		expires ? when : "never");
	if (o.max_uses)
		fprintf(stderr, "at most %lld use%s\n", (long long)o.max_uses,
			o.max_uses == 1 ? "" : "s");
	else
		fprintf(stderr, "unlimited uses\n");
	fprintf(stderr, "This is the only time the token is shown: the console stores its hash.\n");
	return 0;
}

int admin_list_tokens(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE list-tokens ACCOUNT [--json]\n"
		"ACCOUNT's installation tokens: id, label, state (active, revoked, expired,\n"
		"exhausted), uses. Secrets are never stored, so never shown.\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct token_opts o = { .label = "" };
	struct account acct;
	json_t *list = NULL, *t;
	size_t i;
	int rc = admin_parse(argc, argv, help, opts, token_opt, &o, 1);

	if (rc || (rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	rc = token_list(a->db, acct.id, console_now(), &list);
	if (rc) {
		fprintf(stderr, PROG " admin: cannot list tokens: %s\n", strerror(-rc));
		return 1;
	}
	if (o.json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(list);
		return 0;
	}
	printf("%-6s %-10s %-11s %-24s %s\n", "ID", "STATE", "USES", "EXPIRES", "LABEL");
	json_array_foreach(list, i, t) {
		char uses[32], when[64] = "never";
		const json_t *max = json_object_get(t, "max_uses"), *exp = json_object_get(t, "expires_at");

		if (json_is_integer(max))
			snprintf(uses, sizeof(uses), "%lld/%lld",
				 (long long)json_integer_value(json_object_get(t, "uses")),
				 (long long)json_integer_value(max));
		else
			snprintf(uses, sizeof(uses), "%lld",
				 (long long)json_integer_value(json_object_get(t, "uses")));
		if (json_is_integer(exp))
			admin_time(json_integer_value(exp), when, sizeof(when));
		printf("%-6lld %-10s %-11s %-24s %s\n",
		       (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "state")), uses, when,
		       json_string_value(json_object_get(t, "label")));
	}
	json_decref(list);
	return 0;
}

int admin_revoke_token(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE revoke-token ID\n"
		"Refuse the token from now on (machines it registered stay registered).\n"
		"IDs are shown by create-token and list-tokens.\n";
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct token_opts o = { .label = "" };
	struct account acct;
	int64_t id, account_id = 0;
	char *end;
	int rc = admin_parse(argc, argv, help, opts, token_opt, &o, 1);

	if (rc)
		return rc;
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || *end || end == argv[optind] || id < 1)
		return bad_usage(argv[0], "'%s' is not a token id (a number; see list-tokens)",
				 argv[optind]);
	if ((rc = admin_open(a)))
		return rc;
	rc = db_begin(a->db);
	if (!rc)
		rc = token_revoke(a->db, id, &account_id);
	if (!rc)
		rc = audit_token(a, account_id, "token.revoke", id, NULL, 0, 0);
	if (!rc)
		rc = db_commit(a->db);
	else
		db_rollback(a->db);
	if (rc == -ENOENT) {
		fprintf(stderr, PROG " admin: no token %lld (list-tokens ACCOUNT shows the ids)\n",
			(long long)id);
		return 1;
	}
	if (rc && rc != -EALREADY) {
		fprintf(stderr, PROG " admin: cannot revoke token %lld: %s\n", (long long)id,
			strerror(-rc));
		return 1;
	}
	if (account_by_id(a->db, account_id, &acct))
		snprintf(acct.name, sizeof(acct.name), "?");
	printf("token %lld of account %s %s\n", (long long)id, acct.name,
	       rc == -EALREADY ? "was already revoked" : "revoked");
	return 0;
}
