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
#include "hb_store.h"
#include "lifecycle.h"
#include "placement.h"
#include "web_db.h"

#define STATUS_MAX (256u * 1024)
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

/* 410 to a deregistered machine's agent: `finalized` when the lifecycle
 * ended its migration, `removed` (and by whom) when an operator removed it,
 * so the agent can say so; `deregistered` when it was its own uninstall. */
static void gone(struct request *rq, struct reply *rp, const struct machine_ref *m)
{
	char by[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2], when[32];
	time_t t = (time_t)m->deregistered_at;
	int64_t fin_at = 0;
	struct tm tm;

	/* finalized after its cutover: the agent uninstalls itself */
	if (!lifecycle_finalized(rq->db, m->ref, by, sizeof(by), &fin_at)) {
		t = (time_t)fin_at;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		reply_error(rp, 410, "finalized",
			    "machine %s was finalized by %s at %s: it runs from its cutover "
			    "instance now; this agent stops and uninstalls itself", m->machine_id,
			    by, when);
		json_object_set_new(rp->body, "finalized_by", json_string(by));
		json_object_set_new(rp->body, "finalized_at", json_integer(fin_at));
		return;
	}
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
	json_t *doc = NULL, *cutover = NULL;
	char *text = NULL;
	int64_t now = console_now();
	int rc;

	if (auth_agent(rq, rp, machine_id, &m))
		return;
	if (m.deregistered_at) {
		gone(rq, rp, &m);
		return;
	}
	{
		unsigned wait;

		rc = hb_take(rq->c->hb_limiter, rq->db, m.ref, &wait);
		if (rc) {
			reply_internal(rp, rc);
			return;
		}
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
	rc = hb_store(rq->db,
		      &(struct heartbeat){ .ref = m.ref, .doc = doc, .text = text, .state = state,
					   .now = now, .history_max = rq->c->history_max,
					   .cutover_timeout_s = rq->c->cutover_timeout_s },
		      &cutover);
	if (rc == -ESTALE) {
		/* removed or finalized while this heartbeat came in: the
		 * answer it gets from now on */
		struct machine_ref now_m;

		gone(rq, rp, machine_lookup(rq->db, m.machine_id, &now_m) ? &m : &now_m);
		goto out;
	}
	if (rc) {
		reply_internal(rp, rc);
		goto out;
	}
	{
		json_t *ans = json_pack("{s:b, s:i}", "ok", 1, "heartbeat_interval",
					(int)rq->c->heartbeat_interval_s), *r = NULL;
		struct placement pl;

		/* pause or resume asked in the web page: the agent applies it */
		if (!replication_request_get(rq->db, m.ref, &r) && r)
			json_object_set_new(ans, "replication", r);
		/* a cutover waits for the agent's final point */
		if (cutover)
			json_object_set_new(ans, "cutover", cutover);
		cutover = NULL;
		/* where to replicate: a drain or a pin moves the agent; placed
		 * nowhere, its configured address stays (no member) */
		if (!placement_get(rq->db, m.ref, &pl) && pl.ref)
			json_object_set_new(ans, "staging",
					    json_pack("{s:s, s:s}", "server", pl.server, "address",
						      pl.address));
		reply_json(rp, 200, ans);
	}
out:
	json_decref(cutover);
	free(text);
	json_decref(doc);
}
