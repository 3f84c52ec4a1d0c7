// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A machine's recovery points and staging jobs, for operators and the page:
 *   GET  /api/v1/machines/ID/points     the points its staging servers report
 *   GET  /api/v1/machines/ID/jobs       its newest jobs with their logs
 *   POST /api/v1/machines/ID/jobs       {"kind": K[, "params": {}]}: queue one
 *   GET  /api/v1/machines/ID/jobs/N     one job
 * Another account's machine answers 404 like one that does not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_auth.h"
#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "jobs.h"
#include "staging_sync.h"
#include "web.h"

void api_points_get(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	struct machine_ref m;
	struct account a;
	json_t *pts = NULL;
	int rc;

	if (auth_operator(rq, rp, &a) || auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	rc = points_machine_json(rq->db, m.ref, &pts);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	json_object_set_new(pts, "machine_id", json_string(machine_id));
	reply_json(rp, 200, pts);
}

void api_jobs_list(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	struct machine_ref m;
	struct account a;
	json_t *jobs = NULL;
	int rc;

	if (auth_operator(rq, rp, &a) || auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	rc = jobs_machine_json(rq->db, m.ref, JOB_LIST_DEFAULT, &jobs);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, json_pack("{s:s, s:o}", "machine_id", machine_id, "jobs", jobs));
}

void api_job_get(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param, *job = rq->param2;
	struct machine_ref m;
	struct account a;
	json_t *j = NULL;
	char *end;
	long long id = strtoll(job, &end, 10);
	int rc;

	if (auth_operator(rq, rp, &a) || auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	rc = *end || end == job || id < 1 ? -ENOENT : job_json(rq->db, m.ref, id, &j);
	if (rc == -ENOENT)
		reply_error(rp, 404, "no_such_job", "machine %s has no job %s", machine_id, job);
	else if (rc)
		reply_internal(rp, rc);
	else
		reply_json(rp, 200, j);
}

static int audit_job(struct request *rq, const struct audit_who *w, const struct account *a,
		     const struct machine_ref *m, const char *kind, int64_t id, int64_t now)
{
	json_t *d = json_pack("{s:I, s:s}", "job", (json_int_t)id, "kind", kind);
	struct audit_rec r = { .account_id = a->id, .machine_ref = m->ref, .action = "job.create",
			       .detail = d };
	int rc = d ? audit_request(rq, w, &r, now) : -ENOMEM;

	json_decref(d);
	return rc;
}

void api_jobs_post(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	char user[USER_NAME_MAX + 1], owner[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2];
	struct machine_ref m;
	struct account a;
	json_t *req = NULL, *params, *j = NULL;
	const char *kind;
	struct audit_who w;
	int64_t id = 0, now = console_now();
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)) || web_json_body(rq, rp, &req))
		return;
	kind = json_string_value(json_object_get(req, "kind"));
	params = json_object_get(req, "params");
	if (!kind || (params && !json_is_object(params))) {
		reply_error(rp, 400, "malformed", "malformed request: {\"kind\": KIND[, \"params\": "
			    "{...}]} is required");
		goto out;
	}
	if (job_kind_lifecycle(kind)) {
		reply_error(rp, 400, "lifecycle_kind", "'%s' jobs are the launch lifecycle's steps: "
			    "POST /api/v1/machines/%s/lifecycle {\"action\": ...} (docs/launch.md)",
			    kind, machine_id);
		goto out;
	}
	if (!job_kind_known(kind)) {
		reply_error(rp, 400, "unknown_kind", "unknown job kind '%s' (known: refresh-points)",
			    kind);
		goto out;
	}
	if (auth_own_machine(rq, rp, &a, machine_id, &m))
		goto out;
	snprintf(owner, sizeof(owner), "%s@%s", user, a.name);
	rc = audit_who_user(rq, &a, user, &w);
	if (!rc)
		rc = db_begin(rq->db);
	if (!rc)
		rc = job_create(rq->db, m.ref, kind, params, owner, now, &id);
	if (!rc)
		rc = audit_job(rq, &w, &a, &m, kind, id, now);
	if (!rc)
		rc = db_commit(rq->db);
	if (!rc)
		rc = job_json(rq->db, m.ref, id, &j);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	reply_json(rp, 201, j);
out:
	json_decref(req);
}
