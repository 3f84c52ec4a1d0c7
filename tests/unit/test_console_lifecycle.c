// SPDX-License-Identifier: GPL-2.0-or-later
/* console lifecycle_rules.c (the transition table, the agent's cutover
 * report) and lifecycle.c / lifecycle_steps.c on a real SQLite file: the
 * jobs each step makes, what their ends move, the cutover's bounded wait. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"
#include "console_test_db.h"
#include "db.h"
#include "jobs.h"
#include "lifecycle.h"
#include "machines.h"
#include "staging_servers.h"
#include "staging_sync.h"

/* ---- the table ---- */

struct row {
	enum lc_state from;
	int launching, instance_ok, registered;
	enum lc_action a;
	int ok;
	enum lc_state to;
};

static const struct row table[] = {
	{ LC_READY_FOR_TEST, 0, 0, 1, LCA_TEST, 1, LC_TESTING },
	{ LC_READY_FOR_TEST, 0, 0, 0, LCA_TEST, 1, LC_TESTING },
	{ LC_READY_FOR_TEST, 0, 0, 1, LCA_MARK_READY, 0, 0 },
	{ LC_READY_FOR_TEST, 0, 0, 1, LCA_CUTOVER, 0, 0 },
	{ LC_READY_FOR_TEST, 0, 0, 1, LCA_REVERT, 0, 0 },
	{ LC_READY_FOR_TEST, 0, 0, 1, LCA_FINALIZE, 0, 0 },
	{ LC_TESTING, 1, 0, 1, LCA_TEST, 0, 0 },
	{ LC_TESTING, 1, 0, 1, LCA_MARK_READY, 0, 0 }, /* launch not ended */
	{ LC_TESTING, 1, 0, 1, LCA_REVERT, 0, 0 },     /* launch not ended */
	{ LC_TESTING, 0, 1, 1, LCA_MARK_READY, 1, LC_READY_FOR_CUTOVER },
	{ LC_TESTING, 0, 1, 1, LCA_REVERT, 1, LC_READY_FOR_TEST },
	{ LC_TESTING, 0, 1, 1, LCA_CUTOVER, 0, 0 },
	{ LC_TESTING, 0, 1, 1, LCA_FINALIZE, 0, 0 },
	{ LC_READY_FOR_CUTOVER, 0, 0, 1, LCA_CUTOVER, 1, LC_CUTTING_OVER },
	{ LC_READY_FOR_CUTOVER, 0, 0, 0, LCA_CUTOVER, 0, 0 }, /* no agent */
	{ LC_READY_FOR_CUTOVER, 0, 0, 1, LCA_TEST, 0, 0 },
	{ LC_READY_FOR_CUTOVER, 0, 0, 1, LCA_REVERT, 0, 0 },
	{ LC_READY_FOR_CUTOVER, 0, 0, 1, LCA_FINALIZE, 0, 0 },
	{ LC_READY_FOR_CUTOVER, 0, 0, 1, LCA_MARK_READY, 0, 0 },
	{ LC_CUTTING_OVER, 0, 0, 1, LCA_TEST, 0, 0 },
	{ LC_CUTTING_OVER, 0, 0, 1, LCA_MARK_READY, 0, 0 },
	{ LC_CUTTING_OVER, 0, 0, 1, LCA_CUTOVER, 0, 0 },
	{ LC_CUTTING_OVER, 1, 0, 1, LCA_REVERT, 0, 0 },
	{ LC_CUTTING_OVER, 0, 0, 1, LCA_FINALIZE, 0, 0 },
	{ LC_CUTOVER, 0, 1, 1, LCA_FINALIZE, 1, LC_FINALIZED },
	{ LC_CUTOVER, 0, 1, 1, LCA_REVERT, 1, LC_READY_FOR_CUTOVER },
	{ LC_CUTOVER, 0, 1, 1, LCA_TEST, 0, 0 },
	{ LC_CUTOVER, 0, 1, 1, LCA_CUTOVER, 0, 0 },
	{ LC_CUTOVER, 0, 1, 1, LCA_MARK_READY, 0, 0 },
	{ LC_FINALIZED, 0, 1, 0, LCA_TEST, 0, 0 },
	{ LC_FINALIZED, 0, 1, 0, LCA_REVERT, 0, 0 },
	{ LC_FINALIZED, 0, 1, 0, LCA_FINALIZE, 0, 0 },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *t = &table[i];
		struct lc_facts f = { t->from, t->launching, t->instance_ok, t->registered };
		enum lc_state to = LC_NSTATES;
		char why[512] = "";
		int rc = lc_transition(&f, t->a, &to, why, sizeof(why));

		if (t->ok) {
			if (rc)
				fail_msg("row %zu: %s from %s refused: %s", i, lc_action_name(t->a),
					 lc_state_name(t->from), why);
			assert_int_equal(to, t->to);
		} else {
			if (rc != -EPERM)
				fail_msg("row %zu: %s from %s allowed", i, lc_action_name(t->a),
					 lc_state_name(t->from));
			/* the 409's text names the state and what is allowed */
			assert_non_null(strstr(why, lc_state_name(t->from)));
			assert_non_null(strstr(why, "allowed now: "));
		}
	}
}

static void test_names(void **state)
{
	enum lc_state s;
	enum lc_action a;
	struct lc_facts f = { LC_CUTOVER, 0, 1, 1 };
	json_t *allowed = lc_allowed_json(&f);

	(void)state;
	for (int i = 0; i < LC_NSTATES; i++) {
		assert_int_equal(lc_state_parse(lc_state_name((enum lc_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	for (int i = 0; i < LCA_NACTIONS; i++) {
		assert_int_equal(lc_action_parse(lc_action_name((enum lc_action)i), &a), 0);
		assert_int_equal(a, i);
	}
	assert_int_equal(lc_state_parse("testing", &s), -EINVAL);
	assert_int_equal(lc_action_parse("launch", &a), -EINVAL);
	assert_int_equal(json_array_size(allowed), 2);
	assert_string_equal(json_string_value(json_array_get(allowed, 0)), "revert");
	assert_string_equal(json_string_value(json_array_get(allowed, 1)), "finalize");
	json_decref(allowed);
}

static int parse_report(const char *text, struct cutover_report *r)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	rc = cutover_report_parse(j, r);
	json_decref(j);
	return rc;
}

static void test_report(void **state)
{
	struct cutover_report r;

	(void)state;
	assert_int_equal(parse_report("{\"state\":\"CHANGE_COPY\"}", &r), -ENOENT);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":5,\"state\":\"done\","
				      "\"consistent_ns\":7,\"point_id\":3}}", &r), 0);
	assert_int_equal(r.requested_at, 5);
	assert_string_equal(r.state, "done");
	assert_int_equal(r.point_id, 3);
	assert_int_equal(r.consistent_ns, 7);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":5,\"state\":\"failed\","
				      "\"error\":\"freeze refused\\nsecond line\"}}", &r), 0);
	assert_string_equal(r.error, "freeze refused");
	assert_int_equal(parse_report("{\"cutover\":[]}", &r), -EINVAL);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":\"5\",\"state\":\"done\"}}", &r),
			 -EINVAL);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":5,\"state\":\"maybe\"}}", &r),
			 -EINVAL);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":5,\"state\":\"done\","
				      "\"point_id\":-1}}", &r), -EINVAL);
	assert_int_equal(parse_report("{\"cutover\":{\"requested_at\":5,\"state\":\"done\","
				      "\"error\":3}}", &r), -EINVAL);
}

/* ---- on a database ---- */

struct fixture {
	char path[64];
	struct db *db;
	int64_t st1, m1;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char secret[SECRET_STR_MAX];
	struct machine_reg r = {
		.machine_id = "m1", .identity_source = "mac", .identity_value = "m1",
		.hostname = "m1", .inventory = "{\"cores\":2,\"memory_bytes\":2147483648}",
		.cert_serial = "01", .cert_fingerprint = "aa", .agent_secret_hash = "m1",
	};
	struct staging_ref s;
	struct machine_ref ref;
	struct account a;

	if (test_db_open(f->path, "test_console_lifecycle", &f->db))
		return -1;
	assert_int_equal(account_create(f->db, "acme", 5), 0);
	assert_int_equal(account_find(f->db, "acme", &a), 0);
	r.account_id = a.id;
	assert_int_equal(machine_save(f->db, &r, 0, 100), 0);
	assert_int_equal(machine_lookup(f->db, "m1", &ref), 0);
	f->m1 = ref.ref;
	assert_int_equal(staging_add(f->db, "st1", 100, secret), 0);
	assert_int_equal(staging_by_secret(f->db, secret, &s), 0);
	f->st1 = s.ref;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_db_close(f->db, f->path);
	free(f);
	return 0;
}

/* staging st1 reports m1 with points 1 (t=1000 s) and, when t2, 2 (t2 s),
 * and one job's end */
static void sync_st1(struct fixture *f, int64_t now, int64_t t2, int64_t job, const char *end)
{
	char body[1024];
	unsigned unknown;
	json_t *req, *list = NULL;

	if (t2)
		snprintf(body, sizeof(body),
			 "{\"machines\":[{\"machine\":\"m1\",\"points\":[{\"id\":1,\"time\":\"x\","
			 "\"time_ns\":1000000000000,\"origin\":\"periodic\",\"consistency\":\"crash\","
			 "\"pinned\":false},{\"id\":2,\"time\":\"x\",\"time_ns\":%lld000000000,"
			 "\"origin\":\"final-sync\",\"consistency\":\"filesystem\",\"pinned\":false}]}]",
			 (long long)t2);
	else
		snprintf(body, sizeof(body),
			 "{\"machines\":[{\"machine\":\"m1\",\"points\":[{\"id\":1,\"time\":\"x\","
			 "\"time_ns\":1000000000000,\"origin\":\"periodic\",\"consistency\":\"crash\","
			 "\"pinned\":false}]}]");
	if (job) {
		/* staging reports only jobs an earlier answer gave it */
		assert_int_equal(db_begin(f->db), 0);
		assert_int_equal(jobs_for_staging(f->db, f->st1, now, JOB_LEASE_DEFAULT_S, &list), 0);
		assert_int_equal(db_commit(f->db), 0);
		json_decref(list);
		list = NULL;
	}
	if (job)
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
			 ",\"jobs\":[{\"id\":%lld,%s}]", (long long)job, end);
	strcat(body, "}");
	req = json_loads(body, 0, NULL);
	assert_non_null(req);
	{
		char why[256] = "";

		if (sync_request_check(req, why, sizeof(why)))
			fail_msg("sync rejected: %s: %s", why, body);
	}
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(points_report(f->db, f->st1, json_object_get(req, "machines"), now,
				       &unknown), 0);
	if (json_object_get(req, "jobs"))
		assert_int_equal(jobs_apply_reports(f->db, f->st1, json_object_get(req, "jobs"), now),
				 0);
	assert_int_equal(lifecycle_tick(f->db, 0, now, 600), 0);
	assert_int_equal(jobs_for_staging(f->db, f->st1, now, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(db_commit(f->db), 0);
	json_decref(req);
	json_decref(list);
}

static int act(struct fixture *f, enum lc_action a, int64_t now, int64_t *job)
{
	char why[512] = "";
	int rc;

	assert_int_equal(db_begin(f->db), 0);
	rc = lifecycle_act(f->db, f->m1, a, 0, NULL, "alice@acme", now, job, why, sizeof(why));
	if (rc)
		db_rollback(f->db);
	else
		assert_int_equal(db_commit(f->db), 0);
	return rc;
}

static json_t *lc(struct fixture *f)
{
	json_t *o = NULL;

	assert_int_equal(lifecycle_json(f->db, f->m1, 20, &o), 0);
	return o;
}

/* The agent's status as its heartbeat stores it, with its cutover report:
 * state "done" with point_id (a point made with the freeze) or with
 * consistent_ns only (a final sync's point, numbered by staging). */
static void agent_cutover(struct fixture *f, int64_t now, int64_t requested_at, const char *state,
			  int64_t point_id, int64_t consistent_ns)
{
	char text[512];
	json_t *doc;

	snprintf(text, sizeof(text), "{\"state\":\"CHANGE_COPY\",\"cutover\":{\"requested_at\":%lld,"
		 "\"state\":\"%s\",\"point_id\":%lld,\"consistent_ns\":%lld,\"error\":\"\"}}",
		 (long long)requested_at, state, (long long)point_id, (long long)consistent_ns);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(machine_status_store(f->db, f->m1, text, "CHANGE_COPY", now, 10), 0);
	assert_int_equal(lifecycle_agent_report(f->db, f->m1, doc, now), 0);
	assert_int_equal(lifecycle_tick(f->db, f->m1, now, 600), 0);
	assert_int_equal(db_commit(f->db), 0);
	json_decref(doc);
}

static void expect_state(struct fixture *f, const char *state, const char *inst_state)
{
	json_t *o = lc(f);
	const json_t *inst = json_object_get(o, "instance");

	assert_string_equal(json_string_value(json_object_get(o, "state")), state);
	if (inst_state)
		assert_string_equal(json_string_value(json_object_get(inst, "state")), inst_state);
	else
		assert_true(json_is_null(inst));
	json_decref(o);
}

static json_t *job(struct fixture *f, int64_t id)
{
	json_t *j = NULL;

	assert_int_equal(job_json(f->db, f->m1, id, &j), 0);
	return j;
}

static void test_flow(void **state)
{
	struct fixture *f = *state;
	int64_t launch = 0, destroy = 0, wait = 0, cut = 0, fin = 0, at;
	json_t *j, *req = NULL;
	char by[64], name[64];

	/* no point yet: a test has nothing to launch */
	assert_int_equal(act(f, LCA_TEST, 900, &launch), -ENOENT);
	sync_st1(f, 1001, 0, 0, NULL);
	assert_int_equal(act(f, LCA_FINALIZE, 1002, &fin), -EPERM);

	/* a test launch that fails goes back, its job listed with the reason */
	assert_int_equal(act(f, LCA_TEST, 1002, &launch), 0);
	expect_state(f, "TESTING", INSTANCE_LAUNCHING);
	j = job(f, launch);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "launch");
	snprintf(name, sizeof(name), "m1-test-%lld", (long long)launch);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "params"), "name")),
			    name);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "params"), "point")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "params"), "cpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "params"),
							    "memory_mib")), 2048);
	json_decref(j);
	assert_int_equal(act(f, LCA_MARK_READY, 1003, &destroy), -EPERM); /* not up yet */
	sync_st1(f, 1004, 0, 0, NULL); /* delivered */
	sync_st1(f, 1005, 0, launch, "\"state\":\"failed\",\"error\":\"this staging server has no launcher\"");
	expect_state(f, "READY_FOR_TEST", INSTANCE_DESTROYING); /* the cleanup */
	j = job(f, launch);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
	json_decref(j);
	/* the cleanup's destroy job: the newest lifecycle job */
	j = lc(f);
	destroy = json_integer_value(json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "id"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "kind")),
			    "destroy");
	json_decref(j);
	sync_st1(f, 1006, 0, destroy, "\"state\":\"succeeded\",\"result\":{\"destroyed\":true}");
	expect_state(f, "READY_FOR_TEST", NULL);

	/* a test that comes up, marked ready: its instance is destroyed */
	assert_int_equal(act(f, LCA_TEST, 1010, &launch), 0);
	sync_st1(f, 1011, 0, launch, "\"state\":\"succeeded\",\"result\":{\"state\":\"up\",\"address\":\"192.0.2.7\"}");
	expect_state(f, "TESTING", INSTANCE_UP);
	assert_int_equal(act(f, LCA_MARK_READY, 1012, &destroy), 0);
	expect_state(f, "READY_FOR_CUTOVER", INSTANCE_DESTROYING);
	sync_st1(f, 1013, 0, destroy, "\"state\":\"succeeded\",\"result\":{\"destroyed\":true}");
	expect_state(f, "READY_FOR_CUTOVER", NULL);

	/* cutover: the console waits for the agent's point,
	 * never handing its wait to staging */
	assert_int_equal(act(f, LCA_CUTOVER, 1020, &wait), 0);
	expect_state(f, "CUTTING_OVER", NULL);
	j = job(f, wait);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "cutover-point");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
	json_decref(j);
	assert_int_equal(lifecycle_cutover_request(f->db, f->m1, &req), 0);
	assert_non_null(req);
	assert_int_equal(json_integer_value(json_object_get(req, "requested_at")), 1020);
	json_decref(req);
	sync_st1(f, 1021, 0, 0, NULL); /* point 1 is older than the request */
	j = job(f, wait);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
	assert_true(json_is_null(json_object_get(j, "staging")));
	json_decref(j);
	/* the agent's report goes into the wait's log, once per step */
	{
		json_t *doc = json_loads("{\"cutover\":{\"requested_at\":1020,\"state\":\"running\"}}", 0, NULL);

		assert_int_equal(db_begin(f->db), 0);
		assert_int_equal(lifecycle_agent_report(f->db, f->m1, doc, 1022), 0);
		assert_int_equal(lifecycle_agent_report(f->db, f->m1, doc, 1023), 0);
		assert_int_equal(db_commit(f->db), 0);
		json_decref(doc);
		j = job(f, wait);
		assert_int_equal(json_array_size(json_object_get(j, "log")), 2);
		json_decref(j);
	}
	/* a point after the request is not the cutover point until the agent
	 * says it is: the source's clock cannot be ordered against the
	 * console's */
	sync_st1(f, 1030, 1025, 0, NULL); /* point 2 at 1025 s */
	j = job(f, wait);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
	json_decref(j);
	agent_cutover(f, 1030, 1020, "done", 2, 1025000000000LL);
	j = job(f, wait);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "succeeded");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "point")), 2);
	cut = json_integer_value(json_object_get(json_object_get(j, "result"), "launch_job"));
	json_decref(j);
	assert_int_equal(lifecycle_cutover_request(f->db, f->m1, &req), 0);
	assert_null(req); /* asked no more */
	expect_state(f, "CUTTING_OVER", INSTANCE_LAUNCHING);
	j = job(f, cut);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "params"), "purpose")),
			    "cutover");
	assert_null(json_object_get(json_object_get(j, "params"), "hostname_suffix"));
	json_decref(j);
	sync_st1(f, 1031, 1025, cut, "\"state\":\"succeeded\",\"result\":{\"state\":\"up\",\"address\":\"192.0.2.8\"}");
	expect_state(f, "CUTOVER", INSTANCE_UP);

	/* revert and cut over again, then finalize */
	assert_int_equal(act(f, LCA_REVERT, 1040, &destroy), 0);
	expect_state(f, "READY_FOR_CUTOVER", INSTANCE_DESTROYING);
	assert_int_equal(act(f, LCA_CUTOVER, 1041, &wait), 0);
	/* a final sync's point: staging's first at the agent's time, not
	 * point 2 of the first cutover */
	agent_cutover(f, 1041, 1041, "done", 0, 1041000000000LL);
	expect_state(f, "CUTTING_OVER", INSTANCE_DESTROYING);
	sync_st1(f, 1042, 1041, destroy, "\"state\":\"succeeded\",\"result\":{\"destroyed\":true}");
	j = job(f, wait);
	cut = json_integer_value(json_object_get(json_object_get(j, "result"), "launch_job"));
	json_decref(j);
	sync_st1(f, 1043, 1041, cut, "\"state\":\"succeeded\",\"result\":{\"state\":\"up\"}");
	expect_state(f, "CUTOVER", INSTANCE_UP);
	assert_int_equal(lifecycle_finalized(f->db, f->m1, by, sizeof(by), &at), -ENOENT);
	assert_int_equal(act(f, LCA_FINALIZE, 1050, &fin), 0);
	expect_state(f, "FINALIZED", INSTANCE_UP);
	assert_int_equal(lifecycle_finalized(f->db, f->m1, by, sizeof(by), &at), 0);
	assert_string_equal(by, "alice@acme");
	assert_int_equal(at, 1050);
	{
		struct machine_ref m;

		assert_int_equal(machine_lookup(f->db, "m1", &m), 0);
		assert_int_equal(m.deregistered_at, 1050);
	}
	j = job(f, fin);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "succeeded");
	json_decref(j);
	assert_int_equal(act(f, LCA_REVERT, 1051, &destroy), -EPERM);
	/* installed and registered again: a new migration */
	assert_int_equal(lifecycle_registered(f->db, f->m1), 0);
	expect_state(f, "READY_FOR_TEST", NULL);
}

static void test_cutover_bounds(void **state)
{
	struct fixture *f = *state;
	int64_t launch = 0, destroy = 0, wait = 0, cut = 0;
	json_t *j, *o;

	sync_st1(f, 1001, 0, 0, NULL);
	assert_int_equal(act(f, LCA_TEST, 1002, &launch), 0);
	sync_st1(f, 1003, 0, launch, "\"state\":\"succeeded\",\"result\":{\"state\":\"up\"}");
	assert_int_equal(act(f, LCA_MARK_READY, 1004, &destroy), 0);

	/* no point within the timeout (600 s here): back, visibly */
	assert_int_equal(act(f, LCA_CUTOVER, 2000, &wait), 0);
	sync_st1(f, 2599, 0, 0, NULL);
	expect_state(f, "CUTTING_OVER", INSTANCE_DESTROYING);
	sync_st1(f, 2600, 0, 0, NULL);
	o = lc(f);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "READY_FOR_CUTOVER");
	assert_true(json_is_null(json_object_get(o, "cutover")));
	json_decref(o);
	j = job(f, wait);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "--cutover-timeout"));
	json_decref(j);

	/* the agent's failure ends the wait at once */
	assert_int_equal(act(f, LCA_CUTOVER, 3000, &wait), 0);
	{
		json_t *doc = json_loads("{\"cutover\":{\"requested_at\":3000,\"state\":\"failed\","
					 "\"error\":\"fsfreeze: Operation not supported\"}}", 0, NULL);

		assert_int_equal(db_begin(f->db), 0);
		assert_int_equal(machine_status_store(f->db, f->m1, "{\"state\":\"CHANGE_COPY\","
						      "\"cutover\":{\"requested_at\":3000,\"state\":"
						      "\"failed\",\"error\":\"fsfreeze: Operation not "
						      "supported\"}}", "CHANGE_COPY", 3000, 10), 0);
		assert_int_equal(lifecycle_agent_report(f->db, f->m1, doc, 3000), 0);
		assert_int_equal(lifecycle_tick(f->db, f->m1, 3000, 600), 0);
		assert_int_equal(db_commit(f->db), 0);
		json_decref(doc);
	}
	expect_state(f, "READY_FOR_CUTOVER", INSTANCE_DESTROYING);
	j = job(f, wait);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "fsfreeze"));
	json_decref(j);

	/* asked again in the same second: another request, which the agent's
	 * record of the failed one does not answer; then the agent's point
	 * that never reaches the console: back after the timeout, saying
	 * where it stuck */
	assert_int_equal(act(f, LCA_CUTOVER, 3000, &wait), 0);
	{
		json_t *req = NULL;

		assert_int_equal(lifecycle_cutover_request(f->db, f->m1, &req), 0);
		assert_int_equal(json_integer_value(json_object_get(req, "requested_at")), 3001);
		json_decref(req);
		assert_int_equal(db_begin(f->db), 0);
		assert_int_equal(lifecycle_tick(f->db, f->m1, 3001, 600), 0);
		assert_int_equal(db_commit(f->db), 0);
		expect_state(f, "CUTTING_OVER", INSTANCE_DESTROYING);
	}
	agent_cutover(f, 3001, 3001, "done", 77, 3001000000000LL);
	sync_st1(f, 3600, 0, 0, NULL);
	expect_state(f, "CUTTING_OVER", INSTANCE_DESTROYING);
	sync_st1(f, 3601, 0, 0, NULL);
	expect_state(f, "READY_FOR_CUTOVER", INSTANCE_DESTROYING);
	j = job(f, wait);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")),
			       "point 77) did not reach the console from staging"));
	json_decref(j);

	/* a failed cutover launch goes back too */
	assert_int_equal(act(f, LCA_CUTOVER, 4000, &wait), 0);
	agent_cutover(f, 4000, 4000, "done", 2, 4000000000000LL);
	sync_st1(f, 4001, 4000, destroy, "\"state\":\"succeeded\",\"result\":{\"destroyed\":true}");
	j = job(f, wait);
	cut = json_integer_value(json_object_get(json_object_get(j, "result"), "launch_job"));
	json_decref(j);
	assert_true(cut > 0);
	sync_st1(f, 4002, 4000, cut, "\"state\":\"failed\",\"error\":\"not up within 300 s\"");
	expect_state(f, "READY_FOR_CUTOVER", INSTANCE_DESTROYING);

	/* a launch no staging server ends fails after LC_JOB_MAX_S */
	o = lc(f);
	destroy = json_integer_value(json_object_get(json_array_get(json_object_get(o, "jobs"), 0), "id"));
	json_decref(o);
	sync_st1(f, 4002 + LC_JOB_MAX_S + 1, 0, 0, NULL);
	j = job(f, destroy);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
	json_decref(j);
	expect_state(f, "READY_FOR_CUTOVER", NULL);

	/* each move the lifecycle made by itself is in the audit log, by the
	 * console, with why, newest first: the four failed cutovers (the
	 * launch, the point staging never reported, the agent's failure, the
	 * timeout); a test launch coming up
	 * moves no state, so it is not one */
	{
		struct audit_query q = { .account_id = 0, .action = "lifecycle.state", .limit = 10 };
		struct account a;
		json_t *recs = NULL, *r;
		int64_t next;
		const char *want[][3] = {
			{ "CUTTING_OVER", "READY_FOR_CUTOVER", "not up within 300 s" },
			{ "CUTTING_OVER", "READY_FOR_CUTOVER", "did not reach the console" },
			{ "CUTTING_OVER", "READY_FOR_CUTOVER", "fsfreeze" },
			{ "CUTTING_OVER", "READY_FOR_CUTOVER", "--cutover-timeout" },
		};

		assert_int_equal(account_find(f->db, "acme", &a), 0);
		q.account_id = a.id;
		assert_int_equal(audit_list_json(f->db, &q, &recs, &next), 0);
		assert_int_equal(json_array_size(recs), 4);
		for (size_t i = 0; i < 4; i++) {
			const json_t *d;

			r = json_array_get(recs, i);
			d = json_object_get(r, "detail");
			assert_string_equal(json_string_value(json_object_get(r, "actor")), "console");
			assert_string_equal(json_string_value(json_object_get(r, "from")), "console");
			assert_string_equal(json_string_value(json_object_get(r, "machine_id")), "m1");
			assert_string_equal(json_string_value(json_object_get(d, "from")), want[i][0]);
			assert_string_equal(json_string_value(json_object_get(d, "to")), want[i][1]);
			assert_non_null(strstr(json_string_value(json_object_get(d, "reason")), want[i][2]));
		}
		json_decref(recs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_report),
		cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cutover_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
