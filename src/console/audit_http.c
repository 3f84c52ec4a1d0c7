// SPDX-License-Identifier: GPL-2.0-or-later
/* Who a request's caller is, for the audit log (audit_http.h). */
#include "audit_http.h"

#include <errno.h>
#include <stdio.h>

#include "console.h"

int audit_who_user(struct request *rq, const struct account *a, const char *user,
		   struct audit_who *w)
{
	int rc = user_role(rq->db, a->id, user, w->role, sizeof(w->role));

	/* a session outliving its user still says who it was */
	if (rc == -ENOENT)
		w->role[0] = '\0';
	else if (rc)
		return rc;
	snprintf(w->actor, sizeof(w->actor), "%s@%s", user, a->name);
	request_client_addr(rq, w->from, sizeof(w->from));
	return 0;
}

void audit_who_other(struct request *rq, const char *actor, struct audit_who *w)
{
	snprintf(w->actor, sizeof(w->actor), "%s", actor);
	w->role[0] = '\0';
	request_client_addr(rq, w->from, sizeof(w->from));
}

int audit_request(struct request *rq, const struct audit_who *w, const struct audit_rec *r,
		  int64_t now)
{
	struct audit_retention ret = { rq->c->audit_keep, rq->c->audit_max_age_s };
	int rc = audit_write(rq->db, w, r, now);

	return rc ? rc : audit_prune(rq->db, r->account_id, &ret, now, NULL);
}
