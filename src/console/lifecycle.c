// SPDX-License-Identifier: GPL-2.0-or-later
/* Operators' lifecycle actions and what they see of it (lifecycle.h). */
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "jobs.h"
#include "lifecycle_store.h"
#include "machines.h"

int lc_size_valid(const struct lc_size *size)
{
	return !size || ((!size->cpus || (size->cpus >= LC_CPUS_MIN && size->cpus <= LC_CPUS_MAX)) &&
			 (!size->memory_mib || (size->memory_mib >= LC_MEMORY_MIB_MIN &&
						size->memory_mib <= LC_MEMORY_MIB_MAX)));
}

static int act_test(struct db *db, struct lc_row *r, int64_t point, const struct lc_size *size,
		    const char *by, int64_t now, int64_t *job, char *why, size_t whylen)
{
	struct lc_point p;
	int rc = lc_point_find(db, r->machine_ref, point, 0, 1, &p);

	if (rc == -ENOENT) {
		if (point)
			snprintf(why, whylen, "machine %s has no recovery point %lld on an active "
				 "staging server (GET .../points lists them)", r->machine_id,
				 (long long)point);
		else
			snprintf(why, whylen, "machine %s has no recovery point yet: a test launches "
				 "from one (they appear after its initial copy and each sync)",
				 r->machine_id);
		return rc;
	}
	return rc ? rc : lc_launch(db, r, "test", &p, size, by, now, job);
}

/* *at: the requested_at of the machine's latest cutover, 0 if none. */
static int last_cutover_request(struct db *db, int64_t machine_ref, int64_t *at)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT params FROM staging_jobs WHERE machine_ref = ? AND "
				     "kind = '" JOB_KIND_CUTOVER_POINT "' ORDER BY id DESC LIMIT 1");

	*at = 0;
	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	rc = db_step(st);
	if (rc == DB_ROW) {
		json_t *params = json_loads(db_text(st, 0), 0, NULL);

		*at = json_integer_value(json_object_get(params, "requested_at"));
		json_decref(params);
	}
	rc = rc == DB_ROW || rc == DB_DONE ? 0 : db_err(db, rc, "reading the last cutover request");
	db_finalize(st);
	return rc;
}

static int act_cutover(struct db *db, struct lc_row *r, const struct lc_size *size, const char *by,
		       int64_t now, int64_t *job)
{
	char line[512], when[32];
	struct tm tm;
	json_t *params;
	int64_t at;
	time_t t;
	int rc = last_cutover_request(db, r->machine_ref, &at);

	if (rc)
		return rc;
	/* requested_at names the request to the agent, which makes one point
	 * per value: a cutover in the same second as the last (after a revert
	 * or a failure) must not be answered with that one's point */
	at = now > at ? now : at + 1;
	t = (time_t)at;
	params = json_pack("{s:I}", "requested_at", (json_int_t)at);
	if (!params)
		return -ENOMEM;
	/* the launch comes later, from the wait: it reads the size here */
	if (size && size->cpus)
		json_object_set_new(params, "cpus", json_integer(size->cpus));
	if (size && size->memory_mib)
		json_object_set_new(params, "memory_mib", json_integer(size->memory_mib));
	rc = job_console_start(db, r->machine_ref, JOB_KIND_CUTOVER_POINT, params, by, now, job);
	json_decref(params);
	if (rc)
		return rc;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof(line), "waiting for the agent's cutover point (asked at %s): it makes "
		 "it (with its freeze when the tracker runs) after its next heartbeat", when);
	rc = job_console_log(db, *job, now, line);
	r->cut_at = at;
	snprintf(r->cut_by, sizeof(r->cut_by), "%s", by);
	r->cut_job = *job;
	r->cut_agent[0] = '\0';
	return rc;
}

static int act_finalize(struct db *db, struct lc_row *r, const char *by, int64_t now, int64_t *job)
{
	char line[LC_BY_MAX + 64];
	json_t *result;
	int rc, ended;

	rc = job_console_start(db, r->machine_ref, JOB_KIND_FINALIZE, NULL, by, now, job);
	/* the license is free at once; the agent hears it at its next heartbeat */
	if (!rc)
		rc = machine_deregister(db, r->machine_ref, now);
	snprintf(line, sizeof(line), "finalized by %s", by);
	if (!rc)
		rc = machine_event(db, r->machine_ref, MACHINE_STATE_DEREGISTERED, line, now);
	if (!rc)
		rc = job_console_log(db, *job, now, "the machine is deregistered: its license is free; "
				     "its agent uninstalls itself at its next heartbeat");
	if (rc)
		return rc;
	result = json_pack("{s:b, s:I}", "deregistered", 1, "deregistered_at", (json_int_t)now);
	rc = result ? job_end(db, *job, now, result, NULL, &ended) : -ENOMEM;
	json_decref(result);
	r->fin_at = now;
	snprintf(r->fin_by, sizeof(r->fin_by), "%s", by);
	return rc;
}

int lifecycle_act(struct db *db, int64_t machine_ref, enum lc_action a, int64_t point,
		  const struct lc_size *size, const char *by, int64_t now, int64_t *job, char *why,
		  size_t whylen)
{
	struct lc_facts f;
	struct lc_row r;
	enum lc_state to;
	int rc = lc_load(db, machine_ref, &r);

	*job = 0;
	if (rc)
		return rc;
	lc_facts_of(&r, &f);
	rc = lc_transition(&f, a, &to, why, whylen);
	if (rc)
		return rc;
	switch (a) {
	case LCA_TEST:
		rc = act_test(db, &r, point, size, by, now, job, why, whylen);
		break;
	case LCA_MARK_READY:
	case LCA_REVERT:
		rc = lc_destroy_instance(db, &r, by, now, job);
		if (r.state == LC_CUTOVER) {
			r.cut_at = r.cut_job = 0;
			r.cut_by[0] = r.cut_agent[0] = '\0';
		}
		break;
	case LCA_CUTOVER:
		rc = act_cutover(db, &r, size, by, now, job);
		break;
	case LCA_FINALIZE:
		rc = act_finalize(db, &r, by, now, job);
		break;
	default:
		rc = -EINVAL;
	}
	if (rc)
		return rc;
	lc_move(&r, to, now);
	return lc_save(db, &r);
}

static json_t *instance_json(const struct lc_row *r)
{
	if (!r->inst_name[0])
		return json_null();
	return json_pack("{s:s, s:s, s:I, s:s, s:o, s:I}", "name", r->inst_name, "purpose",
			 r->inst_purpose, "point", (json_int_t)r->inst_point, "state", r->inst_state,
			 "address", r->inst_address[0] ? json_string(r->inst_address) : json_null(),
			 "job", (json_int_t)r->inst_job);
}

int lifecycle_json(struct db *db, int64_t machine_ref, unsigned jobs, json_t **out)
{
	json_t *list = NULL, *o;
	struct lc_facts f;
	struct lc_row r;
	int rc = lc_load(db, machine_ref, &r);

	if (!rc)
		rc = jobs_lifecycle_json(db, machine_ref, jobs, &list);
	if (rc)
		return rc;
	lc_facts_of(&r, &f);
	o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "machine_id", r.machine_id,
		      "state", lc_state_name(r.state), "since", (json_int_t)r.since,
		      "instance", instance_json(&r),
		      "cutover", r.cut_at ? json_pack("{s:I, s:s, s:I}", "requested_at",
						      (json_int_t)r.cut_at, "requested_by", r.cut_by,
						      "job", (json_int_t)r.cut_job)
					  : json_null(),
		      "finalized", r.fin_at ? json_pack("{s:I, s:s}", "finalized_at",
							(json_int_t)r.fin_at, "finalized_by", r.fin_by)
					    : json_null(),
		      "allowed", lc_allowed_json(&f), "jobs", list);
	if (!o)
		return -ENOMEM;
	*out = o;
	return 0;
}

int lifecycle_state(struct db *db, int64_t machine_ref, char *state, size_t n)
{
	struct lc_row r;
	int rc = lc_load(db, machine_ref, &r);

	if (!rc)
		snprintf(state, n, "%s", lc_state_name(r.state));
	return rc;
}

int lifecycle_cutover_request(struct db *db, int64_t machine_ref, json_t **out)
{
	struct lc_row r;
	int rc = lc_load(db, machine_ref, &r);
	struct db_stmt *st;

	*out = NULL;
	if (rc || r.state != LC_CUTTING_OVER || !r.cut_at)
		return rc;
	/* asked until the point is found: the wait job still runs */
	rc = db_prepare(db, &st, "SELECT 1 FROM staging_jobs WHERE id = ? AND state = 'running'");
	if (rc)
		return rc;
	db_bind_int64(st, 1, r.cut_job);
	rc = db_step(st);
	db_finalize(st);
	if (rc == DB_DONE)
		return 0;
	if (rc != DB_ROW)
		return db_err(db, rc, "reading the cutover's wait");
	*out = json_pack("{s:I, s:s}", "requested_at", (json_int_t)r.cut_at, "requested_by",
			 r.cut_by);
	return *out ? 0 : -ENOMEM;
}

int lifecycle_finalized(struct db *db, int64_t machine_ref, char *by, size_t n, int64_t *at)
{
	struct lc_row r;
	int rc = lc_load(db, machine_ref, &r);

	if (rc)
		return rc;
	if (r.state != LC_FINALIZED)
		return -ENOENT;
	snprintf(by, n, "%s", r.fin_by);
	*at = r.fin_at;
	return 0;
}

int lifecycle_registered(struct db *db, int64_t machine_ref)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "DELETE FROM machine_lifecycle WHERE machine_ref = ? AND"
				     " state = 'FINALIZED'");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "starting a lifecycle over");
}
