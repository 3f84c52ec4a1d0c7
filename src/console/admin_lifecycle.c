// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * admin lifecycle and admin points: the launch lifecycle for people and
 * scripts at the console's host, the same steps as the API's (lifecycle.h,
 * docs/launch.md). The cutover's wait and its timeout are moved on by the
 * running server (its heartbeats and staging syncs), not by this command.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"
#include "jobs.h"
#include "lifecycle.h"
#include "machines.h"
#include "staging_sync.h"

struct lc_opts {
	int json;
	long long point;
	struct lc_size size;
};

static int lc_opt(void *ctx, int c, const char *arg)
{
	struct lc_opts *o = ctx;
	char *end;

	if (c == 'j') {
		o->json = 1;
		return 0;
	}
	if (c == 'c' || c == 'm') {
		long long v = strtoll(arg, &end, 10);

		if (c == 'c' && (*end || end == arg || v < LC_CPUS_MIN || v > LC_CPUS_MAX))
			return bad_usage("admin lifecycle", "--cpus '%s' is not %d to %d", arg,
					 LC_CPUS_MIN, LC_CPUS_MAX);
		if (c == 'm' && (*end || end == arg || v < LC_MEMORY_MIB_MIN || v > LC_MEMORY_MIB_MAX))
			return bad_usage("admin lifecycle", "--memory-mib '%s' is not %d to %d", arg,
					 LC_MEMORY_MIB_MIN, LC_MEMORY_MIB_MAX);
		if (c == 'c')
			o->size.cpus = v;
		else
			o->size.memory_mib = v;
		return 0;
	}
	if (c != 'p')
		return 2;
	o->point = strtoll(arg, &end, 10);
	if (*end || end == arg || o->point < 1)
		return bad_usage("admin lifecycle", "--point '%s' is not a point id (see " PROG
				 " admin points ACCOUNT MACHINE)", arg);
	return 0;
}

/* The account's machine, or 1 with the message printed. */
static int find_machine(struct admin *a, const char *cmd, const char *account,
			const char *machine_id, struct machine_ref *m)
{
	struct account acct;
	int rc = admin_account(a, account, &acct);

	if (rc)
		return rc;
	rc = machine_lookup(a->db, machine_id, m);
	if (rc == -ENOENT || (!rc && m->account_id != acct.id)) {
		fprintf(stderr, PROG " %s: account %s has no machine %s (see " PROG " admin --db %s "
			"list-machines %s)\n", cmd, acct.name, machine_id, a->db_path, acct.name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " %s: cannot read machine %s: %s\n", cmd, machine_id,
			strerror(-rc));
		return 1;
	}
	return 0;
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
}

static void print_lifecycle(const json_t *lc)
{
	const json_t *inst = json_object_get(lc, "instance"), *cut = json_object_get(lc, "cutover");
	const json_t *jobs = json_object_get(lc, "jobs"), *allowed = json_object_get(lc, "allowed"), *j;
	char when[64];
	size_t i;

	admin_time(json_integer_value(json_object_get(lc, "since")), when, sizeof(when));
	printf("machine %s: %s since %s\n", json_string_value(json_object_get(lc, "machine_id")),
	       json_string_value(json_object_get(lc, "state")), when);
	if (json_is_object(inst))
		printf("instance: %s (%s, point %lld) %s%s%s\n",
		       json_string_value(json_object_get(inst, "name")),
		       json_string_value(json_object_get(inst, "purpose")),
		       (long long)json_integer_value(json_object_get(inst, "point")),
		       json_string_value(json_object_get(inst, "state")),
		       json_is_string(json_object_get(inst, "address")) ? " at " : "",
		       json_is_string(json_object_get(inst, "address"))
			       ? json_string_value(json_object_get(inst, "address")) : "");
	if (json_is_object(cut)) {
		admin_time(json_integer_value(json_object_get(cut, "requested_at")), when, sizeof(when));
		printf("cutover: requested by %s at %s\n",
		       json_string_value(json_object_get(cut, "requested_by")), when);
	}
	printf("allowed:");
	json_array_foreach(allowed, i, j)
		printf(" %s", json_string_value(j));
	printf("%s\n", json_array_size(allowed) ? "" : " nothing now");
	if (json_array_size(jobs))
		printf("%-6s %-14s %-10s %-30s %s\n", "JOB", "KIND", "STATE", "OWNER", "ERROR");
	json_array_foreach(jobs, i, j)
		printf("%-6lld %-14s %-10s %-30s %s\n",
		       (long long)json_integer_value(json_object_get(j, "id")),
		       json_string_value(json_object_get(j, "kind")),
		       json_string_value(json_object_get(j, "state")),
		       json_string_value(json_object_get(j, "owner")),
		       json_is_string(json_object_get(j, "error"))
			       ? json_string_value(json_object_get(j, "error")) : "");
}

int admin_lifecycle(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE lifecycle ACCOUNT MACHINE\n"
		"           [show|test [--point ID]|mark-ready|cutover|revert|finalize] [--json]\n"
		"           [--cpus N] [--memory-mib N]   (test and cutover)\n"
		"The launch lifecycle of MACHINE (docs/launch.md, \"Lifecycle\"):\n"
		"  show        its state, instance, allowed actions and jobs (the default)\n"
		"  test        launch a test copy from the newest point (or --point ID)\n"
		"              with the inventory's CPUs and memory (or --cpus, --memory-mib)\n"
		"  mark-ready  the test is good: its instance is destroyed\n"
		"  cutover     the agent makes a final point; the cutover copy launches from it\n"
		"  revert      TESTING -> READY_FOR_TEST, CUTOVER -> READY_FOR_CUTOVER\n"
		"              (the instance is destroyed)\n"
		"  finalize    after CUTOVER: the license is freed, the agent uninstalls itself\n"
		"Staging servers run the launch and destroy jobs at their next sync with the\n"
		"running console; 'show' follows them. An action the state does not allow\n"
		"is refused (exit 1) with what is allowed. --json prints the API's documents.\n";
	static const struct option opts[] = {
		{ "point", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory-mib", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lc_opts o = { 0, 0, { 0, 0 } };
	const char *verb = "show";
	char why[512], from[24];
	struct machine_ref m;
	struct audit_who w;
	struct audit_rec ar;
	enum lc_action act;
	json_t *lc = NULL, *job = NULL;
	int64_t id = 0;
	int rc, npos = 2;

	/* the verb is optional: count the positional arguments first */
	{
		int pos = 0;

		for (int i = 1; i < argc; i++)
			if (argv[i][0] != '-' && strcmp(argv[i - 1], "--point") &&
			    strcmp(argv[i - 1], "--cpus") && strcmp(argv[i - 1], "--memory-mib"))
				pos++;
		npos = pos >= 3 ? 3 : 2;
	}
	rc = admin_parse(argc, argv, help, opts, lc_opt, &o, npos);
	if (rc)
		return rc;
	if (npos == 3)
		verb = argv[optind + 2];
	if (strcmp(verb, "show") && lc_action_parse(verb, &act))
		return bad_usage(argv[0], "unknown action '%s' (show, test, mark-ready, cutover, "
				 "revert, finalize)", verb);
	if (o.point && strcmp(verb, "test"))
		return bad_usage(argv[0], "--point goes with test only");
	if ((o.size.cpus || o.size.memory_mib) && strcmp(verb, "test") && strcmp(verb, "cutover"))
		return bad_usage(argv[0], "--cpus and --memory-mib go with test and cutover only");
	if ((rc = admin_open(a)) ||
	    (rc = find_machine(a, argv[0], argv[optind], argv[optind + 1], &m)))
		return rc;
	if (strcmp(verb, "show")) {
		int64_t now = console_now();

		admin_who(&w);
		rc = db_begin(a->db);
		if (!rc)
			rc = lifecycle_state(a->db, m.ref, from, sizeof(from));
		if (!rc)
			rc = lifecycle_act(a->db, m.ref, act, o.point, &o.size, w.actor, now, &id, why,
					   sizeof(why));
		if (rc == -EPERM || rc == -ENOENT) {
			db_rollback(a->db);
			fprintf(stderr, PROG " %s: %s\n", argv[0], why);
			return 1;
		}
		if (!rc)
			rc = lifecycle_audit_record(a->db, &(struct lifecycle_audit){
				.account_id = m.account_id, .machine_ref = m.ref, .action = act,
				.from = from, .point = o.point, .size = &o.size, .job = id }, &ar);
		if (!rc) {
			rc = audit_write(a->db, &w, &ar, now);
			json_decref((json_t *)ar.detail);
		}
		if (!rc)
			rc = db_commit(a->db);
		if (!rc && id)
			rc = job_json(a->db, m.ref, id, &job);
		if (rc) {
			db_rollback(a->db);
			fprintf(stderr, PROG " %s: cannot %s machine %s: %s\n", argv[0], verb,
				m.machine_id, strerror(-rc));
			return 1;
		}
	}
	rc = lifecycle_json(a->db, m.ref, JOB_LIST_DEFAULT, &lc);
	if (rc) {
		json_decref(job);
		fprintf(stderr, PROG " %s: cannot read machine %s's lifecycle: %s\n", argv[0],
			m.machine_id, strerror(-rc));
		return 1;
	}
	if (o.json && strcmp(verb, "show")) {
		json_t *ans = json_pack("{s:s, s:O, s:O, s:o}", "machine_id", m.machine_id, "state",
					json_object_get(lc, "state"), "instance",
					json_object_get(lc, "instance"), "job",
					job ? job : json_null());

		print_json(ans);
		json_decref(ans);
	} else if (o.json) {
		print_json(lc);
	} else {
		if (job)
			printf("%s: job %lld (%s) %s\n", verb,
			       (long long)json_integer_value(json_object_get(job, "id")),
			       json_string_value(json_object_get(job, "kind")),
			       json_string_value(json_object_get(job, "state")));
		json_decref(job);
		print_lifecycle(lc);
	}
	json_decref(lc);
	return 0;
}

int admin_points(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE points ACCOUNT MACHINE [--json]\n"
		"MACHINE's recovery points as its staging servers last reported them,\n"
		"newest first (the ids 'lifecycle ... test --point ID' takes).\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lc_opts o = { 0, 0, { 0, 0 } };
	struct machine_ref m;
	json_t *pts = NULL, *p;
	size_t i;
	int rc = admin_parse(argc, argv, help, opts, lc_opt, &o, 2);

	if (rc || (rc = admin_open(a)) ||
	    (rc = find_machine(a, argv[0], argv[optind], argv[optind + 1], &m)))
		return rc;
	rc = points_machine_json(a->db, m.ref, &pts);
	if (rc) {
		fprintf(stderr, PROG " %s: cannot list machine %s's points: %s\n", argv[0],
			m.machine_id, strerror(-rc));
		return 1;
	}
	if (o.json) {
		json_object_set_new(pts, "machine_id", json_string(m.machine_id));
		print_json(pts);
		json_decref(pts);
		return 0;
	}
	printf("%-8s %-24s %-11s %-12s %-7s %s\n", "POINT", "TIME", "ORIGIN", "CONSISTENCY",
	       "PINNED", "STAGING");
	json_array_foreach(json_object_get(pts, "points"), i, p) {
		const char *origin = json_string_value(json_object_get(p, "origin"));
		const char *cons = json_string_value(json_object_get(p, "consistency"));
		char when[64];

		admin_time(json_integer_value(json_object_get(p, "time_ns")) / 1000000000LL, when,
			   sizeof(when));
		printf("%-8lld %-24s %-11s %-12s %-7s %s\n",
		       (long long)json_integer_value(json_object_get(p, "id")), when,
		       origin ? origin : "-", cons ? cons : "-",
		       json_is_true(json_object_get(p, "pinned")) ? "yes" : "no",
		       json_string_value(json_object_get(p, "staging")));
	}
	if (!json_array_size(json_object_get(pts, "points")))
		printf("(no recovery point reported yet)\n");
	json_decref(pts);
	return 0;
}
