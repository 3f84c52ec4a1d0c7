// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit log for operators and the page (docs/console-api.md, "Audit log"):
 *   GET /api/v1/audit[?machine=ID&actor=A&action=N&since=T&until=T&limit=N&cursor=C]
 *   GET /api/v1/machines/ID/audit[?actor=...]   the same for one machine
 * The caller's account's records only, newest first; any role may read
 * them. Another account's machine answers 404 like one that does not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_auth.h"
#include "audit.h"

/* An optional query parameter as a positive integer no larger than max. */
static int query_int(struct request *rq, const char *name, int64_t max, int64_t *out)
{
	const char *q = request_query(rq, name);
	char *end;
	long long v;

	if (!q)
		return 0;
	errno = 0;
	v = strtoll(q, &end, 10);
	if (errno || *end || end == q || v < 1 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void audit_get(struct request *rq, struct reply *rp, const char *machine_id)
{
	struct audit_query q = { .limit = AUDIT_LIST_DEFAULT };
	struct machine_ref m;
	struct account a;
	json_t *list = NULL, *ans;
	int64_t limit = AUDIT_LIST_DEFAULT, next = 0;
	int rc;

	if (auth_operator(rq, rp, &a))
		return;
	if (query_int(rq, "since", INT64_MAX, &q.since) ||
	    query_int(rq, "until", INT64_MAX, &q.until) ||
	    query_int(rq, "cursor", INT64_MAX, &q.cursor) ||
	    query_int(rq, "limit", AUDIT_LIST_MAX, &limit)) {
		reply_error(rp, 400, "malformed", "malformed query: since, until (unix seconds), "
			    "cursor (a next_cursor) and limit (1 to %d) are positive integers",
			    AUDIT_LIST_MAX);
		return;
	}
	if (!machine_id)
		machine_id = request_query(rq, "machine");
	if (machine_id && auth_own_machine(rq, rp, &a, machine_id, &m))
		return;
	q.account_id = a.id;
	q.machine_ref = machine_id ? m.ref : 0;
	q.actor = request_query(rq, "actor");
	q.action = request_query(rq, "action");
	q.limit = (unsigned)limit;
	rc = audit_list_json(rq->db, &q, &list, &next);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	ans = json_pack("{s:s, s:o, s:o}", "account", a.name, "records", list, "next_cursor",
			next ? json_integer(next) : json_null());
	if (machine_id)
		json_object_set_new(ans, "machine_id", json_string(machine_id));
	reply_json(rp, 200, ans);
}

void api_audit_get(struct request *rq, struct reply *rp)
{
	audit_get(rq, rp, NULL);
}

void api_machine_audit_get(struct request *rq, struct reply *rp)
{
	audit_get(rq, rp, rq->param);
}
