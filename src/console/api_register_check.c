// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POST /api/v1/register/check: would this credential register a machine?
 * The interactive installer asks before its disk questions, so that a
 * mistyped token is asked again at once. The same checks as the
 * registration's first step (register_account(), and the password's
 * limiter), nothing recorded, no token use counted.
 */
#include <errno.h>

#include "accounts.h"
#include "api.h"
#include "console.h"
#include "login_limit.h"
#include "register.h"

void api_register_check(struct request *rq, struct reply *rp)
{
	struct reg_request r = { .inventory = NULL };
	struct account pw_acct = { .id = 0 }, acct;
	int64_t in_use = 0;
	json_t *j = NULL;
	int rc;

	if (request_json(rq, rp, &j) || register_parse_credential(j, &r, rp))
		goto out;
	if (register_login(rq, rp, &r, &pw_acct))
		goto out;
	if (register_account(rq->db, r.token, &pw_acct, &acct, rp))
		goto out;
	rc = licenses_in_use(rq->db, acct.id, &in_use);
	if (rc) {
		reply_internal(rp, rc);
		goto out;
	}
	reply_json(rp, 200, json_pack("{s:s, s:{s:I, s:I}}", "account", acct.name, "licenses",
				      "in_use", (json_int_t)in_use, "total",
				      (json_int_t)acct.licenses));
out:
	json_decref(j);
}
