// SPDX-License-Identifier: GPL-2.0-or-later
/* admin list-machines: the account's machines with an inventory summary (admin.h). */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "machines.h"
#include "util.h"

struct list_opts {
	int json;
	uint64_t timeout_s;
};

static int list_opt(void *ctx, int c, const char *arg)
{
	struct list_opts *o = ctx;

	if (c == 'j') {
		o->json = 1;
		return 0;
	}
	if (c == 't') {
		if (parse_seconds(arg, &o->timeout_s))
			return bad_usage("admin list-machines", "--heartbeat-timeout '%s' is not a "
					 "duration (for example 30s)", arg);
		return 0;
	}
	return 2;
}

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : "-";
}

static void disks_text(const json_t *disks, char *buf, size_t n)
{
	const json_t *d;
	size_t i, used = 0;
	char size[32];

	snprintf(buf, n, "-");
	json_array_foreach(disks, i, d) {
		const json_t *sz = json_object_get(d, "size");

		if (json_is_number(sz))
			fmt_bytes((uint64_t)json_number_value(sz), size, sizeof(size));
		else
			snprintf(size, sizeof(size), "?");
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s %s",
					 i ? ", " : "", str(d, "name"), size);
	}
}

int admin_list_machines(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE list-machines ACCOUNT [--json]\n"
		"           [--heartbeat-timeout DUR]\n"
		"ACCOUNT's registered machines: id, host, state, OS, disks, last report.\n"
		"A machine silent longer than --heartbeat-timeout (default 30s, as\n"
		"'serve') shows as DISCONNECTED.\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "heartbeat-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_opts o = { .timeout_s = DEFAULT_HEARTBEAT_TIMEOUT_S };
	struct account acct;
	int64_t in_use = 0;
	json_t *list = NULL, *m;
	size_t i;
	int rc = admin_parse(argc, argv, help, opts, list_opt, &o, 1);

	if (rc || (rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	rc = licenses_in_use(a->db, acct.id, &in_use);
	if (!rc)
		rc = machines_list_json(a->db, acct.id, (unsigned)o.timeout_s, console_now(), &list);
	if (rc) {
		fprintf(stderr, PROG " admin: cannot list machines: %s\n", strerror(-rc));
		return 1;
	}
	if (o.json) {
		json_t *doc = json_pack("{s:s, s:{s:I, s:I}, s:o}", "account", acct.name, "licenses",
					"total", (json_int_t)acct.licenses, "in_use",
					(json_int_t)in_use, "machines", list);

		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
		return 0;
	}
	printf("account %s: %lld of %lld licenses in use\n", acct.name, (long long)in_use,
	       (long long)acct.licenses);
	printf("%-24s %-20s %-15s %-9s %-24s %-20s %s\n", "MACHINE", "HOST", "STATE", "IDENTITY",
	       "OS", "LAST SEEN", "DISKS");
	json_array_foreach(list, i, m) {
		const json_t *inv = json_object_get(m, "inventory_summary");
		char seen[64], disks[512];

		admin_time(json_integer_value(json_object_get(m, "last_seen")), seen, sizeof(seen));
		disks_text(json_object_get(inv, "disks"), disks, sizeof(disks));
		printf("%-24s %-20s %-15s %-9s %-24s %-20s %s\n", str(m, "machine_id"),
		       str(m, "hostname"), str(m, "state"),
		       str(json_object_get(m, "identity"), "source"), str(inv, "os"), seen, disks);
	}
	json_decref(list);
	return 0;
}
