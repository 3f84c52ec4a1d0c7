// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A machine's launch lifecycle (docs/console-api.md, lifecycle.h):
 *   GET  /api/v1/machines/ID/lifecycle  state, instance, allowed actions, jobs
 *   POST /api/v1/machines/ID/lifecycle  {"action": A[, "point": N]}: 202 with
 *        the step's job, 409 when the state does not allow it
 * Scripts use basic auth, the page its session (with the CSRF header on
 * POST). A viewer reads but gets 403 on POST; another account's machine
 * answers 404 like one that does not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_auth.h"
#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "jobs.h"
#include "lifecycle.h"
#include "web.h"

void api_lifecycle_get(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	char user[USER_NAME_MAX + 1];
	struct machine_ref m;
	struct account a;
	json_t *lc = NULL;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)) ||
	    auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	/* reading it also moves its bounded waits on, so a lifecycle whose
	 * agent and staging both went silent still ends */
	rc = db_begin(rq->db);
	if (!rc)
		rc = lifecycle_tick(rq->db, m.ref, console_now(), rq->c->cutover_timeout_s);
	if (!rc)
		rc = db_commit(rq->db);
	if (!rc)
		rc = lifecycle_json(rq->db, m.ref, JOB_LIST_DEFAULT, &lc);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, lc);
}

/* 403 unless the user may change what runs (operator or admin). */
static int may_act(struct request *rq, struct reply *rp, const struct account *a,
		   const char *user)
{
	char role[16];
	int rc = user_role(rq->db, a->id, user, role, sizeof(role));

	if (rc == -ENOENT)
		return reply_error(rp, 403, "forbidden", "user %s@%s no longer exists", user,
				   a->name);
	if (rc)
		return reply_internal(rp, rc);
	if (!strcmp(role, ROLE_VIEWER))
		return reply_error(rp, 403, "forbidden",
				   "user %s@%s is a viewer: launching, cutting over and finalizing "
				   "take the operator or admin role", user, a->name);
	return 0;
}

void api_lifecycle_post(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param, *action;
	char user[USER_NAME_MAX + 1], by[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2], why[512];
	struct machine_ref m;
	struct account a;
	enum lc_action act;
	json_t *req = NULL, *pt, *cpus, *mem, *job = NULL, *lc = NULL;
	struct lc_size size;
	struct audit_who w;
	struct audit_rec ar;
	char from[24];
	int64_t id = 0, now = console_now();
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)) || may_act(rq, rp, &a, user) ||
	    web_json_body(rq, rp, &req))
		return;
	action = json_string_value(json_object_get(req, "action"));
	pt = json_object_get(req, "point");
	cpus = json_object_get(req, "cpus");
	mem = json_object_get(req, "memory_mib");
	size.cpus = json_integer_value(cpus);
	size.memory_mib = json_integer_value(mem);
	if (!action || lc_action_parse(action, &act) ||
	    (pt && (!json_is_integer(pt) || json_integer_value(pt) < 1 || act != LCA_TEST)) ||
	    ((cpus || mem) && act != LCA_TEST && act != LCA_CUTOVER) ||
	    (cpus && (!json_is_integer(cpus) || !size.cpus)) ||
	    (mem && (!json_is_integer(mem) || !size.memory_mib)) || !lc_size_valid(&size)) {
		reply_error(rp, 400, "malformed",
			    "malformed request: {\"action\": \"test\"|\"mark-ready\"|\"cutover\"|"
			    "\"revert\"|\"finalize\"} (\"point\": a positive id, with test only; "
			    "\"cpus\": %d to %d and \"memory_mib\": %d to %d, with test and cutover "
			    "only, else the machine's inventory)", LC_CPUS_MIN, LC_CPUS_MAX,
			    LC_MEMORY_MIB_MIN, LC_MEMORY_MIB_MAX);
		goto out;
	}
	if (auth_own_machine(rq, rp, &a, machine_id, &m))
		goto out;
	snprintf(by, sizeof(by), "%s@%s", user, a.name);
	rc = audit_who_user(rq, &a, user, &w);
	if (!rc)
		rc = db_begin(rq->db);
	if (!rc)
		rc = lifecycle_state(rq->db, m.ref, from, sizeof(from));
	if (!rc)
		rc = lifecycle_act(rq->db, m.ref, act, pt ? json_integer_value(pt) : 0, &size, by, now, &id,
				   why, sizeof(why));
	if (rc == -EPERM || rc == -ENOENT) {
		db_rollback(rq->db);
		reply_error(rp, 409, "conflict", "%s", why);
		goto out;
	}
	if (!rc)
		rc = lifecycle_audit_record(rq->db, &(struct lifecycle_audit){
			.account_id = a.id, .machine_ref = m.ref, .action = act, .from = from,
			.point = pt ? json_integer_value(pt) : 0, .size = &size, .job = id }, &ar);
	if (!rc) {
		rc = audit_request(rq, &w, &ar, now);
		json_decref((json_t *)ar.detail);
	}
	if (!rc)
		rc = db_commit(rq->db);
	if (!rc && id)
		rc = job_json(rq->db, m.ref, id, &job);
	if (!rc)
		rc = lifecycle_json(rq->db, m.ref, 1, &lc);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	reply_json(rp, 202, json_pack("{s:s, s:O, s:O, s:o}", "machine_id", machine_id, "state",
				      json_object_get(lc, "state"), "instance",
				      json_object_get(lc, "instance"), "job",
				      job ? job : json_null()));
out:
	json_decref(lc);
	json_decref(req);
}
