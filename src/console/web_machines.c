// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the page does with one machine (web.h):
 *   POST /api/v1/machines/ID/replication  {"state": "paused"|"running"}:
 *        stored, and handed to the agent in the answer to its next
 *        heartbeat (docs/agent-console.md), which pauses or resumes
 *   GET  /api/v1/machines/ID/timeline[?points=N]  the chart's series and
 *        the event log
 * Another account's machine answers 404 like one that does not exist.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "machines.h"
#include "web.h"
#include "web_db.h"

#define POINTS_DEFAULT 120

void web_replication_post(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	char user[USER_NAME_MAX + 1], by[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2];
	struct machine_ref m;
	struct account a;
	struct audit_who w;
	const char *state;
	int64_t now = console_now();
	json_t *req = NULL, *r = NULL;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)) || web_json_body(rq, rp, &req))
		return;
	state = json_string_value(json_object_get(req, "state"));
	if (!state || (strcmp(state, REPLICATION_PAUSED) && strcmp(state, REPLICATION_RUNNING))) {
		reply_error(rp, 400, "malformed",
			    "malformed request: \"state\" must be \"paused\" or \"running\"");
		goto out;
	}
	if (auth_own_machine(rq, rp, &a, machine_id, &m))
		goto out;
	if (m.deregistered_at) {
		reply_error(rp, 409, "deregistered", "machine %s is deregistered: it no longer "
			    "replicates", machine_id);
		goto out;
	}
	snprintf(by, sizeof(by), "%s@%s", user, a.name);
	rc = audit_who_user(rq, &a, user, &w);
	if (!rc)
		rc = db_begin(rq->db);
	if (!rc)
		rc = replication_request_set(rq->db, m.ref, state, by, now);
	if (!rc) {
		struct audit_rec ar = { .account_id = a.id, .machine_ref = m.ref,
					.action = strcmp(state, REPLICATION_PAUSED) ? "machine.resume"
										    : "machine.pause" };

		rc = audit_request(rq, &w, &ar, now);
	}
	if (!rc)
		rc = db_commit(rq->db);
	if (!rc)
		rc = replication_request_get(rq->db, m.ref, &r);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	reply_json(rp, 202, json_pack("{s:s, s:o}", "machine_id", machine_id, "replication_request",
				      r ? r : json_null()));
out:
	json_decref(req);
}

void web_timeline_get(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	char user[USER_NAME_MAX + 1], *end;
	const char *q = request_query(rq, "points");
	unsigned points = POINTS_DEFAULT;
	struct machine_ref m;
	struct account a;
	json_t *tl = NULL;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)))
		return;
	if (q) {
		unsigned long v = strtoul(q, &end, 10);

		if (!*end && end != q)
			points = v < 1 ? 1 : (unsigned)(v < 100000 ? v : 100000);
	}
	if (points > rq->c->history_max)
		points = rq->c->history_max;
	if (auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	rc = machine_timeline_json(rq->db, m.ref, points, &tl);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	json_object_set_new(tl, "machine_id", json_string(machine_id));
	/* the chart breaks its line where reports stopped for longer than this */
	json_object_set_new(tl, "heartbeat_interval", json_integer(rq->c->heartbeat_interval_s));
	reply_json(rp, 200, tl);
}
