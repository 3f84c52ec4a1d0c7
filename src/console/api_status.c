// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POST /api/v1/machines/ID/status: an agent's heartbeat, carrying its
 * status document (docs/control.md, "The status document"). Kept as the
 * latest status and in a bounded history; last_seen moves forward.
 * The answer carries the operators' requests to the agent
 * (docs/agent-console.md): replication paused or resumed, the cutover
 * point; a finalized, removed or deregistered machine gets 410.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_auth.h"
#include "console.h"
#include "db.h"
#include "hb_limit.h"
#include "web_db.h"

#define STATUS_MAX (256u * 1024)
#define LIFECYCLE_CUTTING_OVER "CUTTING_OVER"
#define STATE_MAX  32

/* States are upper-case words (docs/control.md); anything else is refused
 * rather than shown to operators. */
static int state_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > STATE_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
			return 0;
	return 1;
}

/*
 * A machine's lifecycle event: its newest status_history row under a
 * lifecycle state (READY_FOR_TEST ... FINALIZED, docs/launch.md), or with
 * `deregistration` the row made at the deregistration's time under
 * DEREGISTERED. *out: its doc (NULL when none), its state into st_out.
 */
static int lifecycle_event(sqlite3 *db, int64_t ref, int deregistration, char *st_out, size_t n,
			   json_t **out)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st, deregistration ?
			    "SELECT h.state, h.doc FROM status_history h"
			    " JOIN machines m ON m.id = h.machine_ref"
			    " WHERE h.machine_ref = ? AND h.state = 'DEREGISTERED'"
			    " AND h.received_at = m.deregistered_at ORDER BY h.id DESC LIMIT 1" :
			    "SELECT state, doc FROM status_history WHERE machine_ref = ? AND state IN"
			    " ('READY_FOR_TEST', 'TESTING', 'READY_FOR_CUTOVER', 'CUTTING_OVER',"
			    " 'CUTOVER', 'FINALIZED') ORDER BY id DESC LIMIT 1");

	*out = NULL;
	st_out[0] = '\0';
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(st_out, n, "%s", db_text(st, 0));
		*out = json_loads(db_text(st, 1), 0, NULL);
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(db, rc, "reading a lifecycle event");
	sqlite3_finalize(st);
	return rc;
}

/* While the machine is CUTTING_OVER: {"requested_at", "requested_by"} of
 * the cutover, which the agent answers with one consistent point. */
static json_t *cutover_request(sqlite3 *db, int64_t ref)
{
	char state[32];
	json_t *ev = NULL, *r = NULL;
	const json_t *at;
	const char *by;

	if (lifecycle_event(db, ref, 0, state, sizeof(state), &ev) || !ev ||
	    strcmp(state, LIFECYCLE_CUTTING_OVER))
		goto out;
	at = json_object_get(ev, "requested_at");
	by = json_string_value(json_object_get(ev, "requested_by"));
	if (json_is_integer(at) && by)
		r = json_pack("{s:I, s:s}", "requested_at", json_integer_value(at), "requested_by",
			      by);
out:
	json_decref(ev);
	return r;
}

/* 410 "finalized" (by whom, when) when the machine's migration was
 * finalized: its agent uninstalls itself. 1 when it was, else 0. */
static int finalized(struct request *rq, struct reply *rp, const struct machine_ref *m)
{
	char state[32];
	json_t *ev = NULL;
	const char *by;
	int is;

	if (lifecycle_event(rq->db, m->ref, 1, state, sizeof(state), &ev) || !ev)
		return 0;
	by = json_string_value(json_object_get(ev, "finalized_by"));
	is = by && *by;
	if (is) {
		reply_error(rp, 410, "finalized",
			    "machine %s was finalized by %s: its migration is over and its license "
			    "is free; the agent uninstalls itself", m->machine_id, by);
		json_object_set_new(rp->body, "finalized_by", json_string(by));
		json_object_set_new(rp->body, "finalized_at", json_integer(m->deregistered_at));
	}
	json_decref(ev);
	return is;
}

/* 410 to a deregistered machine's agent: `finalized` when the lifecycle
 * ended its migration, `removed` (and by whom) when an operator removed it,
 * so the agent can say so; `deregistered` when it was its own uninstall. */
static void gone(struct request *rq, struct reply *rp, const struct machine_ref *m)
{
	char by[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2], when[32];
	time_t t = (time_t)m->deregistered_at;
	struct tm tm;

	if (finalized(rq, rp, m))
		return;
	if (machine_removed_by(rq->db, m->ref, by, sizeof(by)) || !by[0]) {
		reply_error(rp, 410, "deregistered",
			    "machine %s is deregistered: register it again to report status",
			    m->machine_id);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	reply_error(rp, 410, "removed",
		    "machine %s was removed by the console operator %s at %s: its license is "
		    "free and staging refuses its certificate", m->machine_id, by, when);
	json_object_set_new(rp->body, "removed_by", json_string(by));
	json_object_set_new(rp->body, "removed_at", json_integer(m->deregistered_at));
}

void api_status_post(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	struct machine_ref m;
	const char *state;
	json_t *doc = NULL;
	char *text = NULL;
	int rc;

	if (auth_agent(rq, rp, machine_id, &m))
		return;
	if (m.deregistered_at) {
		gone(rq, rp, &m);
		return;
	}
	{
		unsigned wait = hb_take(rq->c->hb_limiter, m.ref);

		if (wait) {
			rp->retry_after = wait;
			reply_error(rp, 429, "too_frequent",
				    "machine %s reports too often (a burst of %d, then one a "
				    "second): retry in %u s", machine_id, HB_BURST, wait);
			return;
		}
	}
	if (rq->len > STATUS_MAX) {
		reply_error(rp, 413, "too_large", "a status document may have at most 256 KiB");
		return;
	}
	if (request_json(rq, rp, &doc))
		return;
	state = json_string_value(json_object_get(doc, "state"));
	if (!state || !state_valid(state)) {
		reply_error(rp, 400, "malformed",
			    "malformed request: \"state\" must be a state name such as "
			    "INITIAL_MIRROR (docs/control.md)");
		goto out;
	}
	text = json_dumps(doc, JSON_COMPACT);
	if (!text) {
		reply_internal(rp, -ENOMEM);
		goto out;
	}
	rc = db_begin(rq->db);
	if (!rc)
		rc = machine_status_store(rq->db, m.ref, text, state, console_now(),
					  rq->c->history_max);
	if (!rc)
		rc = db_commit(rq->db);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	{
		json_t *ans = json_pack("{s:b, s:i}", "ok", 1, "heartbeat_interval",
					(int)rq->c->heartbeat_interval_s), *r = NULL;

		/* pause or resume asked in the web page: the agent applies it */
		if (!replication_request_get(rq->db, m.ref, &r) && r)
			json_object_set_new(ans, "replication", r);
		/* repeated until the machine leaves CUTTING_OVER: a lost answer
		 * costs nothing, the agent acts once per requested_at */
		if ((r = cutover_request(rq->db, m.ref)))
			json_object_set_new(ans, "cutover", r);
		reply_json(rp, 200, ans);
	}
out:
	free(text);
	json_decref(doc);
}
