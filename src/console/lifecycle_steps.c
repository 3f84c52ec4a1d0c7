// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What moves the lifecycle besides operators (lifecycle.h): the end of its
 * staging jobs, the agent's cutover point, and the bounds of every wait,
 * checked at each heartbeat, staging sync and read of the lifecycle.
 */
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "jobs.h"
#include "lifecycle_store.h"
#include "machines.h"

#define CONSOLE_OWNER AUDIT_CONSOLE

/* A state the lifecycle moved to by itself (a launch's end, a failed
 * cutover): lifecycle.state in the audit log, by the console, with why. */
static int audit_auto(struct db *db, const struct lc_row *r, enum lc_state from, const char *why,
		      int64_t job, int64_t now)
{
	const struct audit_who w = { AUDIT_CONSOLE, "", AUDIT_CONSOLE };
	struct machine_ref m;
	json_t *d;
	int rc;

	if (r->state == from)
		return 0;
	rc = machine_lookup(db, r->machine_id, &m);
	if (rc)
		return rc;
	d = json_pack("{s:s, s:s, s:s, s:o}", "from", lc_state_name(from), "to",
		      lc_state_name(r->state), "reason", why, "job",
		      job ? json_integer(job) : json_null());
	if (!d)
		return -ENOMEM;
	rc = audit_write(db, &w, &(struct audit_rec){ .account_id = m.account_id,
				.machine_ref = r->machine_ref, .action = "lifecycle.state",
				.detail = d }, now);
	json_decref(d);
	return rc;
}

struct ended_job {
	int64_t machine_ref;
	int64_t staging_ref;
	char kind[32];
	int ok;
	json_t *params;
	json_t *result;
	char error[256];
};

static int ended_load(struct db *db, int64_t id, struct ended_job *j)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT machine_ref, staging_ref, kind, state, params, result,"
				     " error FROM staging_jobs WHERE id = ?");

	if (rc)
		return rc;
	memset(j, 0, sizeof(*j));
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		j->machine_ref = db_column_int64(st, 0);
		j->staging_ref = db_int_or(st, 1, 0);
		snprintf(j->kind, sizeof(j->kind), "%s", db_text(st, 2));
		j->ok = !strcmp(db_text(st, 3), JOB_SUCCEEDED);
		j->params = json_loads(db_text(st, 4), 0, NULL);
		j->result = json_loads(db_text(st, 5), 0, NULL);
		snprintf(j->error, sizeof(j->error), "%s", db_text(st, 6));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading an ended job");
	}
	db_finalize(st);
	return rc;
}

static void launch_ended(struct lc_row *r, const struct ended_job *j, int64_t now)
{
	const char *state = json_string_value(json_object_get(j->result, "state"));
	const char *addr = json_string_value(json_object_get(j->result, "address"));
	int cutover = !strcmp(r->inst_purpose, "cutover");

	if (j->ok) {
		snprintf(r->inst_state, sizeof(r->inst_state), "%s",
			 state && !strcmp(state, INSTANCE_EXPORTED) ? INSTANCE_EXPORTED : INSTANCE_UP);
		snprintf(r->inst_address, sizeof(r->inst_address), "%s", addr ? addr : "");
		if (cutover && r->state == LC_CUTTING_OVER)
			lc_move(r, LC_CUTOVER, now);
		return;
	}
	if (cutover && r->state == LC_CUTTING_OVER) {
		lc_move(r, LC_READY_FOR_CUTOVER, now);
		r->cut_at = r->cut_job = 0;
		r->cut_by[0] = r->cut_agent[0] = '\0';
	} else if (!cutover && r->state == LC_TESTING) {
		lc_move(r, LC_READY_FOR_TEST, now);
	}
}

int lifecycle_job_ended(struct db *db, int64_t id, int64_t now)
{
	struct ended_job j;
	struct lc_row r;
	const char *name;
	int64_t cleanup = 0;
	int rc = ended_load(db, id, &j);

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	name = json_string_value(json_object_get(j.params, "name"));
	if (!name || (strcmp(j.kind, JOB_KIND_LAUNCH) && strcmp(j.kind, JOB_KIND_DESTROY)))
		goto out;
	rc = lc_load(db, j.machine_ref, &r);
	if (rc)
		goto out;
	if (strcmp(r.inst_name, name)) {
		/* not the current instance: one that came up after its
		 * lifecycle moved on is not left running */
		if (!strcmp(j.kind, JOB_KIND_LAUNCH) && j.ok)
			rc = lc_destroy(db, j.machine_ref, j.staging_ref, name,
					json_integer_value(json_object_get(j.params, "point")),
					CONSOLE_OWNER, now, &cleanup);
		goto out;
	}
	if (!strcmp(j.kind, JOB_KIND_DESTROY)) {
		lc_instance_clear(&r);
	} else {
		enum lc_state from = r.state;
		char why[320];

		launch_ended(&r, &j, now);
		snprintf(why, sizeof(why), "%s launch job %lld %s%s%s",
			 strcmp(r.inst_purpose, "cutover") ? "the test" : "the cutover", (long long)id,
			 j.ok ? "succeeded" : "failed", j.ok ? "" : ": ", j.ok ? "" : j.error);
		rc = audit_auto(db, &r, from, why, id, now);
		/* a failed launch may leave a pin or a half-made instance:
		 * destroy is idempotent and cleans both */
		if (!rc && !j.ok)
			rc = lc_destroy_instance(db, &r, CONSOLE_OWNER, now, &cleanup);
	}
	if (!rc)
		rc = lc_save(db, &r);
out:
	json_decref(j.params);
	json_decref(j.result);
	return rc;
}

static void fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The agent's report of this cutover, when its latest status has one. */
static int agent_report(struct db *db, const struct lc_row *r, struct cutover_report *rep)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT doc FROM status WHERE machine_ref = ?"), found = 0;

	if (rc)
		return rc;
	db_bind_int64(st, 1, r->machine_ref);
	if (db_step(st) == DB_ROW) {
		json_t *doc = json_loads(db_text(st, 0), 0, NULL);

		found = doc && !cutover_report_parse(doc, rep) && rep->requested_at == r->cut_at;
		json_decref(doc);
	}
	db_finalize(st);
	return found ? 0 : -ENOENT;
}

static int cutover_fail(struct db *db, struct lc_row *r, const char *error, int64_t now)
{
	enum lc_state from = r->state;
	int64_t job = r->cut_job;
	int ended, rc = job_end(db, r->cut_job, now, NULL, error, &ended);

	if (rc)
		return rc;
	lc_move(r, LC_READY_FOR_CUTOVER, now);
	rc = audit_auto(db, r, from, error, job, now);
	if (rc)
		return rc;
	r->cut_at = r->cut_job = 0;
	r->cut_by[0] = r->cut_agent[0] = '\0';
	return lc_save(db, r);
}

/* The size the operator chose with the cutover, kept in its wait's params. */
static int cutover_size(struct db *db, int64_t wait_job, struct lc_size *size)
{
	json_t *params = NULL;
	int rc = job_params_get(db, wait_job, &params);

	memset(size, 0, sizeof(*size));
	if (rc == -ENOENT || rc == -EBADMSG)
		return 0;
	if (rc)
		return rc;
	size->cpus = json_integer_value(json_object_get(params, "cpus"));
	size->memory_mib = json_integer_value(json_object_get(params, "memory_mib"));
	json_decref(params);
	if (!lc_size_valid(size))
		memset(size, 0, sizeof(*size));
	return 0;
}

/*
 * CUTTING_OVER, waiting: launch from the agent's cutover point once it has
 * reported it done and staging has reported the point; fail on the agent's
 * error or after the timeout. Only the agent's point will do: it was made
 * after the agent saw the request, so it holds everything written before.
 * No other point can be ordered against the request: points carry the
 * source's clock, the request the console's, whole seconds apart at best.
 */
static int cutover_step(struct db *db, struct lc_row *r, int64_t now, unsigned timeout_s)
{
	struct lc_size size;
	struct cutover_report rep;
	struct lc_point p;
	char line[512], when[32];
	int64_t launch = 0;
	int ended, rc = -ENOENT, reported = !agent_report(db, r, &rep);

	if (reported && !strcmp(rep.state, "failed")) {
		snprintf(line, sizeof(line), "the agent could not make the cutover point: %s",
			 rep.error[0] ? rep.error : "no reason given");
		return cutover_fail(db, r, line, now);
	}
	if (reported && !strcmp(rep.state, "done")) {
		if (!rep.point_id && rep.consistent_ns <= 0)
			return cutover_fail(db, r, "the agent reported its cutover point done without "
					    "the point's id or time: upgrade the agent", now);
		/* a final sync's point (no id) is staging's first at its time */
		rc = lc_point_find(db, r->machine_ref, rep.point_id,
				   rep.point_id ? 0 : rep.consistent_ns, 0, &p);
	}
	if (rc == -ENOENT) {
		if (now - r->cut_at < (int64_t)timeout_s)
			return 0;
		fmt_time(r->cut_at, when, sizeof(when));
		if (!reported || strcmp(rep.state, "done"))
			snprintf(line, sizeof(line), "the agent reported no cutover point for the "
				 "request of %s within %u s (--cutover-timeout): is it running and "
				 "reaching the console?", when, timeout_s);
		else
			snprintf(line, sizeof(line), "the agent's cutover point (%s %lld) did not "
				 "reach the console from staging within %u s of the request of %s "
				 "(--cutover-timeout): is staging reaching the console?",
				 rep.point_id ? "point" : "a final sync at ns",
				 (long long)(rep.point_id ? rep.point_id : rep.consistent_ns), timeout_s,
				 when);
		return cutover_fail(db, r, line, now);
	}
	if (rc)
		return rc;
	rc = cutover_size(db, r->cut_job, &size);
	if (!rc)
		rc = lc_launch(db, r, "cutover", &p, &size, r->cut_by, now, &launch);
	fmt_time((int64_t)(p.time_ns / 1000000000LL), when, sizeof(when));
	snprintf(line, sizeof(line), "recovery point %lld on staging %s (%s) is the cutover point: "
		 "launching it (job %lld)", (long long)p.id, p.staging, when, (long long)launch);
	if (!rc)
		rc = job_console_log(db, r->cut_job, now, line);
	if (!rc) {
		json_t *res = json_pack("{s:I, s:s, s:I, s:I}", "point", (json_int_t)p.id, "staging",
					p.staging, "time_ns", (json_int_t)p.time_ns, "launch_job",
					(json_int_t)launch);

		rc = res ? job_end(db, r->cut_job, now, res, NULL, &ended) : -ENOMEM;
		json_decref(res);
	}
	return rc ? rc : lc_save(db, r);
}

/* A launch or destroy job no staging server ended before ?1 (now -
 * LC_JOB_MAX_S): what stale_jobs ends, and lifecycle_heartbeat_due looks
 * for. */
#define STALE_JOB_SQL                                                                    \
	"kind IN ('" JOB_KIND_LAUNCH "', '" JOB_KIND_DESTROY "') AND state IN ('queued',"  \
	" 'delivered', 'running') AND created_at < ?1"

/* Launch and destroy jobs no staging server ended within LC_JOB_MAX_S. */
static int stale_jobs(struct db *db, int64_t machine_ref, int64_t now)
{
	int64_t ids[64];
	int n = 0, rc, ended;
	struct db_stmt *st;
	char why[160];

	rc = db_prepare(db, &st, "SELECT id FROM staging_jobs WHERE " STALE_JOB_SQL
				 " AND (?2 = 0 OR machine_ref = ?2) LIMIT 64");
	if (rc)
		return rc;
	db_bind_int64(st, 1, now - LC_JOB_MAX_S);
	db_bind_int64(st, 2, machine_ref);
	while (n < 64 && (rc = db_step(st)) == DB_ROW)
		ids[n++] = db_column_int64(st, 0);
	db_finalize(st);
	snprintf(why, sizeof(why), "no staging server ended this job within %d s: its server is "
		 "gone or does not store the machine", LC_JOB_MAX_S);
	for (int i = 0; i < n; i++) {
		rc = job_end(db, ids[i], now, NULL, why, &ended);
		if (!rc && ended)
			rc = lifecycle_job_ended(db, ids[i], now);
		if (rc)
			return rc;
	}
	return 0;
}

int lifecycle_tick(struct db *db, int64_t machine_ref, int64_t now, unsigned cutover_timeout_s)
{
	int64_t refs[64];
	int n = 0, rc;
	struct db_stmt *st;

	rc = db_prepare(db, &st, "SELECT l.machine_ref FROM machine_lifecycle l JOIN staging_jobs j"
				 " ON j.id = l.cutover_job WHERE l.state = 'CUTTING_OVER' AND"
				 " j.state = 'running' AND (?1 = 0 OR l.machine_ref = ?1) LIMIT 64");
	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	while (n < 64 && (rc = db_step(st)) == DB_ROW)
		refs[n++] = db_column_int64(st, 0);
	db_finalize(st);
	for (int i = 0; i < n; i++) {
		struct lc_row r;

		rc = lc_load(db, refs[i], &r);
		if (!rc)
			rc = cutover_step(db, &r, now, cutover_timeout_s);
		if (rc)
			return rc;
	}
	return stale_jobs(db, machine_ref, now);
}

int lifecycle_heartbeat_due(struct db *db, int64_t machine_ref, int64_t now)
{
	struct db_stmt *st;
	int rc;

	/* lifecycle_agent_report writes only while CUTTING_OVER, and
	 * lifecycle_tick's cutover step likewise; its stale_jobs only when
	 * such a job is there */
	rc = db_prepare(db, &st, "SELECT CASE WHEN EXISTS (SELECT 1 FROM machine_lifecycle WHERE"
				 " machine_ref = ?2 AND state = 'CUTTING_OVER') OR EXISTS (SELECT 1"
				 " FROM staging_jobs WHERE machine_ref = ?2 AND " STALE_JOB_SQL ")"
				 " THEN 1 ELSE 0 END");
	if (rc)
		return rc;
	db_bind_int64(st, 1, now - LC_JOB_MAX_S);
	db_bind_int64(st, 2, machine_ref);
	rc = db_step(st);
	if (rc == DB_ROW)
		rc = db_column_int64(st, 0) != 0;
	else
		rc = db_err(db, rc, "reading whether the lifecycle has work");
	db_finalize(st);
	return rc;
}

int lifecycle_agent_report(struct db *db, int64_t machine_ref, const json_t *doc, int64_t now)
{
	struct cutover_report rep;
	struct lc_row r;
	char line[400];
	int rc;

	if (cutover_report_parse(doc, &rep))
		return 0;
	rc = lc_load(db, machine_ref, &r);
	if (rc || r.state != LC_CUTTING_OVER || rep.requested_at != r.cut_at ||
	    !strcmp(rep.state, r.cut_agent))
		return rc;
	/* each step the agent reports once in the wait's log */
	if (!strcmp(rep.state, "running"))
		snprintf(line, sizeof(line), "agent: making the cutover point");
	else if (!strcmp(rep.state, "done"))
		snprintf(line, sizeof(line), "agent: cutover point made (point %lld, consistent at "
			 "%lld ns)", (long long)rep.point_id, (long long)rep.consistent_ns);
	else
		snprintf(line, sizeof(line), "agent: failed: %s", rep.error);
	snprintf(r.cut_agent, sizeof(r.cut_agent), "%s", rep.state);
	rc = job_console_log(db, r.cut_job, now, line);
	return rc ? rc : lc_save(db, &r);
}
