// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The operators' read API and deregistration:
 *   GET    /api/v1/machines       the account's machines
 *   GET    /api/v1/machines/ID    one machine: inventory, status, history
 *   DELETE /api/v1/machines/ID    deregister (the agent), or remove (an
 *                                 operator: who did it is kept and told to
 *                                 the agent at its next heartbeat)
 * Every operator call is scoped to the caller's account: another account's
 * machine answers 404 exactly like a machine that does not exist.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_auth.h"
#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "web.h"

#define HISTORY_DEFAULT 100

void api_machines_list(struct request *rq, struct reply *rp)
{
	struct account a;
	int64_t in_use = 0;
	json_t *list = NULL;
	int rc;

	if (auth_operator(rq, rp, &a))
		return;
	rc = licenses_in_use(rq->db, a.id, &in_use);
	if (!rc)
		rc = machines_list_json(rq->db, a.id, rq->c->heartbeat_timeout_s, console_now(),
					&list);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, json_pack("{s:s, s:{s:I, s:I}, s:o}", "account", a.name, "licenses",
				      "total", (json_int_t)a.licenses, "in_use",
				      (json_int_t)in_use, "machines", list));
}

static unsigned history_limit(struct request *rq, unsigned max)
{
	const char *q = request_query(rq, "history");
	char *end;
	unsigned long v;

	if (!q)
		return HISTORY_DEFAULT < max ? HISTORY_DEFAULT : max;
	v = strtoul(q, &end, 10);
	if (*end || end == q)
		return HISTORY_DEFAULT < max ? HISTORY_DEFAULT : max;
	return v < max ? (unsigned)v : max;
}

void api_machine_get(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	struct account a;
	json_t *m = NULL;
	int rc;

	if (auth_operator(rq, rp, &a))
		return;
	rc = machine_detail_json(rq->db, a.id, machine_id, rq->c->heartbeat_timeout_s,
				 console_now(), history_limit(rq, rq->c->history_max), &m);
	if (rc == -ENOENT)
		reply_error(rp, 404, "no_such_machine", "account %s has no machine %s", a.name,
			    machine_id);
	else if (rc)
		reply_internal(rp, rc);
	else
		reply_json(rp, 200, m);
}

/* Who may deregister: the agent itself (bearer; *by stays "") or a user of
 * its account (*by is "USER@ACCOUNT"); w: the same for the audit log. */
static int delete_auth(struct request *rq, struct reply *rp, const char *machine_id,
		       struct machine_ref *m, char *by, size_t n, struct audit_who *w)
{
	char user[USER_NAME_MAX + 1], actor[128];
	struct account a;
	int rc;

	by[0] = '\0';
	if (request_is_agent(rq)) {
		rc = auth_agent(rq, rp, machine_id, m);
		snprintf(actor, sizeof(actor), "agent %s", machine_id);
		audit_who_other(rq, actor, w);
		return rc;
	}
	if (auth_web_operator(rq, rp, &a, user, sizeof(user)))
		return -EACCES;
	snprintf(by, n, "%s@%s", user, a.name);
	rc = machine_lookup(rq->db, machine_id, m);
	if (rc == -ENOENT || (!rc && m->account_id != a.id))
		return reply_error(rp, 404, "no_such_machine", "account %s has no machine %s",
				   a.name, machine_id);
	if (!rc)
		rc = audit_who_user(rq, &a, user, w);
	return rc ? reply_internal(rp, rc) : 0;
}

/* machine.remove (an operator) or machine.deregister (its agent), when
 * this call freed the license. */
static int audit_delete(struct request *rq, const struct audit_who *w,
			const struct machine_ref *m, int operator, int64_t in_use, int64_t now)
{
	json_t *d = json_pack("{s:I}", "licenses_in_use", (json_int_t)in_use);
	struct audit_rec r = { .account_id = m->account_id, .machine_ref = m->ref,
			       .action = operator ? "machine.remove" : "machine.deregister",
			       .detail = d };
	int rc = d ? audit_request(rq, w, &r, now) : -ENOMEM;

	json_decref(d);
	return rc;
}

void api_machine_delete(struct request *rq, struct reply *rp)
{
	const char *machine_id = rq->param;
	char by[USER_NAME_MAX + ACCOUNT_NAME_MAX + 2];
	struct machine_ref m;
	int64_t now = console_now(), in_use = 0;
	struct machine_ref now_m;
	struct audit_who w;
	struct account a;
	json_t *ans;
	int rc, removed = 0;

	/* Authenticate before taking the write lock: a password check is
	 * a slow KDF and must not hold up every other writer. */
	if (delete_auth(rq, rp, machine_id, &m, by, sizeof(by), &w))
		return;
	rc = db_begin(rq->db);
	/* whether this call is the one that frees the license, read under
	 * the write lock */
	if (!rc)
		rc = machine_lookup(rq->db, machine_id, &now_m);
	/* Deregistering twice is not an error: an uninstall that lost the
	 * first answer retries and must hear success. */
	if (!rc)
		rc = by[0] ? machine_remove(rq->db, m.ref, by, now, &removed)
			   : machine_deregister(rq->db, m.ref, now);
	if (!rc)
		rc = account_by_id(rq->db, m.account_id, &a);
	if (!rc)
		rc = licenses_in_use(rq->db, m.account_id, &in_use);
	if (!rc && !now_m.deregistered_at)
		rc = audit_delete(rq, &w, &m, by[0] != '\0', in_use, now);
	if (!rc)
		rc = db_commit(rq->db);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		return;
	}
	ans = json_pack("{s:s, s:b, s:I, s:{s:I, s:I}}", "machine_id", machine_id,
			"deregistered", 1, "deregistered_at",
			(json_int_t)(m.deregistered_at ? m.deregistered_at : now), "licenses",
			"total", (json_int_t)a.licenses, "in_use", (json_int_t)in_use);
	if (removed)
		json_object_set_new(ans, "removed_by", json_string(by));
	reply_json(rp, 200, ans);
}
