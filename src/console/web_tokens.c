// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Installation tokens from the page (web.h):
 *   GET    /api/v1/tokens       the account's tokens (never a secret or hash)
 *   POST   /api/v1/tokens       {"label", "expires_in" s, "max_uses"}: a new
 *                               token, its secret in this answer only
 *   DELETE /api/v1/tokens/ID    revoke
 * Another account's token answers 404 like one that does not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "tokens.h"
#include "web.h"
#include "web_db.h"

#define EXPIRES_MAX (3650 * 86400)

void web_tokens_list(struct request *rq, struct reply *rp)
{
	char user[USER_NAME_MAX + 1];
	struct account a;
	json_t *list = NULL;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)))
		return;
	rc = token_list(rq->db, a.id, console_now(), &list);
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, json_pack("{s:s, s:o}", "account", a.name, "tokens", list));
}

/* An optional positive integer member no larger than max: 0 when absent. */
static int opt_count(json_t *req, const char *key, json_int_t max, int64_t *out)
{
	json_t *v = json_object_get(req, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

/* token.create and token.revoke: the token's id, never its secret. */
static int audit_token(struct request *rq, const struct audit_who *w, int64_t account_id,
		       const char *action, int64_t id, const char *label, int64_t expires_at,
		       int64_t max_uses, int64_t now)
{
	char target[48];
	json_t *d = token_audit_detail(id, label, expires_at, max_uses, target, sizeof(target));
	struct audit_rec r = { .account_id = account_id, .action = action, .target = target,
			       .detail = d };
	int rc;

	if (!d)
		return -ENOMEM;
	rc = audit_request(rq, w, &r, now);
	json_decref(d);
	return rc;
}

void web_tokens_create(struct request *rq, struct reply *rp)
{
	char user[USER_NAME_MAX + 1], secret[SECRET_STR_MAX];
	int64_t expires_in = 0, max_uses = 0, id = 0, now = console_now();
	struct audit_who w;
	const char *label = "";
	struct account a;
	json_t *req = NULL, *v;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)) || web_json_body(rq, rp, &req))
		return;
	v = json_object_get(req, "label");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) > TOKEN_LABEL_MAX) {
			reply_error(rp, 400, "malformed", "malformed request: \"label\" must be "
				    "a string of at most %d characters", TOKEN_LABEL_MAX);
			goto out;
		}
		label = json_string_value(v);
	}
	if (opt_count(req, "expires_in", EXPIRES_MAX, &expires_in) ||
	    opt_count(req, "max_uses", 1000000000, &max_uses)) {
		reply_error(rp, 400, "malformed",
			    "malformed request: \"expires_in\" (seconds, at most 10 years) and "
			    "\"max_uses\" must be positive integers or null");
		goto out;
	}
	rc = audit_who_user(rq, &a, user, &w);
	if (!rc)
		rc = db_begin(rq->db);
	if (!rc)
		rc = token_create(rq->db, a.id, label, expires_in ? now + expires_in : 0, max_uses,
				  secret, &id);
	if (!rc)
		rc = audit_token(rq, &w, a.id, "token.create", id, label,
				 expires_in ? now + expires_in : 0, max_uses, now);
	if (!rc)
		rc = db_commit(rq->db);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	reply_json(rp, 201, json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)id,
				      "token", secret, "label", label, "expires_at",
				      expires_in ? json_integer(now + expires_in) : json_null(),
				      "max_uses", max_uses ? json_integer(max_uses) : json_null(),
				      "note", "the token is shown this once: the console keeps only "
				      "its SHA-256"));
	OPENSSL_cleanse(secret, sizeof(secret));
out:
	json_decref(req);
}

void web_token_revoke(struct request *rq, struct reply *rp)
{
	const char *idtext = rq->param;
	char user[USER_NAME_MAX + 1], *end;
	int64_t id, owner = 0;
	struct audit_who w;
	struct account a;
	int rc;

	if (auth_web_operator(rq, rp, &a, user, sizeof(user)))
		return;
	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (errno || *end || end == idtext || id < 1) {
		reply_error(rp, 404, "no_such_token", "no such token: %s", idtext);
		return;
	}
	rc = audit_who_user(rq, &a, user, &w);
	if (!rc)
		rc = db_begin(rq->db);
	if (!rc)
		rc = token_account(rq->db, id, &owner);
	if (!rc && owner != a.id)
		rc = -ENOENT;
	if (!rc)
		rc = token_revoke(rq->db, id, &owner);
	if (!rc)
		rc = audit_token(rq, &w, a.id, "token.revoke", id, NULL, 0, 0, console_now());
	if (!rc)
		rc = db_commit(rq->db);
	if (rc)
		db_rollback(rq->db);
	if (rc == -ENOENT)
		reply_error(rp, 404, "no_such_token", "account %s has no token %lld", a.name,
			    (long long)id);
	else if (rc == -EALREADY)
		reply_error(rp, 409, "already_revoked", "token %lld was already revoked",
			    (long long)id);
	else if (rc)
		reply_internal(rp, rc);
	else
		reply_json(rp, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}
