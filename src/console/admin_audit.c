// SPDX-License-Identifier: GPL-2.0-or-later
/* admin audit: an account's audit log, newest first (admin.h, audit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "machines.h"

struct audit_opts {
	const char *machine, *actor, *action;
	uint64_t since_ago;
	int64_t limit, cursor;
	int json, console;
};

static int count_opt(const char *opt, const char *arg, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > max)
		return bad_usage("admin audit", "%s '%s' must be 1 to %lld", opt, arg, (long long)max);
	*out = v;
	return 0;
}

static int audit_opt(void *ctx, int c, const char *arg)
{
	struct audit_opts *o = ctx;

	switch (c) {
	case 'm': o->machine = arg; return 0;
	case 'a': o->actor = arg; return 0;
	case 'A': o->action = arg; return 0;
	case 'j': o->json = 1; return 0;
	case 'C': o->console = 1; return 0;
	case 'l': return count_opt("--limit", arg, AUDIT_LIST_MAX, &o->limit);
	case 'c': return count_opt("--cursor", arg, INT64_MAX, &o->cursor);
	case 's':
		if (parse_seconds(arg, &o->since_ago))
			return bad_usage("admin audit", "--since '%s' is not a duration (for example "
					 "2h, 7d)", arg);
		return 0;
	}
	return 2;
}

static void print_text(const json_t *records, int64_t next)
{
	const json_t *r;
	char when[64], who[300], *detail;
	size_t i;

	if (!json_array_size(records)) {
		printf("no audit record matches\n");
		return;
	}
	printf("%-23s  %-36s %-15s %-22s %s\n", "TIME", "WHO", "FROM", "ACTION", "WHAT");
	json_array_foreach(records, i, r) {
		const char *role = json_string_value(json_object_get(r, "role"));
		const char *target = json_string_value(json_object_get(r, "target"));
		const char *machine = json_string_value(json_object_get(r, "machine_id"));

		admin_time(json_integer_value(json_object_get(r, "at")), when, sizeof(when));
		snprintf(who, sizeof(who), "%s%s%s%s", json_string_value(json_object_get(r, "actor")),
			 role ? " (" : "", role ? role : "", role ? ")" : "");
		detail = json_dumps(json_object_get(r, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
		printf("%-23s  %-36s %-15s %-22s %s%s%s%s\n", when, who,
		       json_string_value(json_object_get(r, "from")),
		       json_string_value(json_object_get(r, "action")), machine ? "machine " : "",
		       machine ? machine : "", machine && target ? ", " : "", target ? target : "");
		if (detail && strcmp(detail, "{}"))
			printf("%-23s  %s\n", "", detail);
		free(detail);
	}
	if (next)
		printf("(older records: --cursor %lld)\n", (long long)next);
}

int admin_audit(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE audit ACCOUNT [--machine ID] [--actor WHO]\n"
		"           [--action NAME] [--since DUR] [--limit N] [--cursor C] [--json]\n"
		"       " PROG " admin --db FILE audit --console [...]\n"
		"The audit log, newest first: every change to ACCOUNT (its tokens, users,\n"
		"licenses, machines and their launch lifecycle, sign-ins), who made it\n"
		"(USER@ACCOUNT with the role, " PROG " admin (UNIX-USER), agent ID), when\n"
		"and from where (the client's address, or local). --console: the changes\n"
		"that belong to no account (staging servers).\n"
		"  --machine ID    one machine's records\n"
		"  --actor WHO     one actor's, exactly as shown (alice@acme)\n"
		"  --action NAME   one action (machine.remove), or a family (lifecycle.)\n"
		"  --since DUR     the last DUR only (for example 2h, 7d)\n"
		"  --limit N       at most N records (default 50, at most 500); --cursor C\n"
		"                  continues where a page ended\n"
		"  --json          the API's document (docs/console-api.md, \"Audit log\")\n";
	static const struct option opts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'A' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "cursor", required_argument, NULL, 'c' },
		{ "console", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_opts o = { .limit = AUDIT_LIST_DEFAULT };
	struct audit_query q = { .account_id = 0 };
	struct machine_ref m;
	struct account acct = { .id = 0 };
	json_t *list = NULL, *ans;
	int64_t next = 0;
	int rc, console = 0;

	/* --console takes the place of ACCOUNT */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--console"))
			console = 1;
	rc = admin_parse(argc, argv, help, opts, audit_opt, &o, console ? 0 : 1);
	if (rc || (rc = admin_open(a)))
		return rc;
	if (!console && (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	if (o.machine) {
		rc = machine_lookup(a->db, o.machine, &m);
		if (rc || m.account_id != acct.id) {
			fprintf(stderr, PROG " admin audit: account %s has no machine %s (see " PROG
				" admin --db %s list-machines %s)\n", console ? "-" : acct.name,
				o.machine, a->db_path, console ? "ACCOUNT" : acct.name);
			return 1;
		}
		q.machine_ref = m.ref;
	}
	q.account_id = acct.id;
	q.actor = o.actor;
	q.action = o.action;
	q.since = o.since_ago ? console_now() - (int64_t)o.since_ago : 0;
	q.cursor = o.cursor;
	q.limit = (unsigned)o.limit;
	rc = audit_list_json(a->db, &q, &list, &next);
	if (rc) {
		fprintf(stderr, PROG " admin audit: cannot read the audit log: %s\n", strerror(-rc));
		return 1;
	}
	if (o.json) {
		ans = json_pack("{s:o, s:o, s:o}", "account",
				console ? json_null() : json_string(acct.name), "records", list,
				"next_cursor", next ? json_integer(next) : json_null());
		json_dumpf(ans, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(ans);
	} else {
		print_text(list, next);
		json_decref(list);
	}
	return 0;
}
