// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sign-in, who am I, sign-out (web.h):
 *   POST   /api/v1/session  {"account", "user", "password"}: the cookie and
 *                           the CSRF token
 *   GET    /api/v1/session  the signed-in user, the CSRF token (for a reload)
 *   DELETE /api/v1/session  sign out (needs the CSRF token)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "login_limit.h"
#include "web.h"

/* The page's view of a session: who, the CSRF token, the licenses, and the
 * user's role, so that a viewer's page offers no action the API refuses. */
static json_t *session_json(const struct session *s, const char *secret, int64_t in_use,
			    const char *role)
{
	char csrf[CSRF_HEX];

	csrf_token(secret, csrf);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:{s:I, s:I}}", "account", s->account.name,
			 "user", s->user, "role", role, "csrf_token", csrf, "expires_at",
			 (json_int_t)s->expires_at, "licenses", "total",
			 (json_int_t)s->account.licenses, "in_use", (json_int_t)in_use);
}

/* "application/json", any case, then only parameters ("; charset=utf-8"):
 * not "application/jsonp" nor "application/json-seq". */
static int is_json_media_type(const char *ct)
{
	static const char t[] = "application/json";

	if (!ct || strncasecmp(ct, t, sizeof(t) - 1))
		return 0;
	ct += sizeof(t) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return !*ct || *ct == ';';
}

int web_json_body(struct request *rq, struct reply *rp, json_t **out)
{
	const char *ct = request_header(rq, "Content-Type");

	/* A form on another site cannot send this type without asking first
	 * (CORS preflight, which the console never grants): no forged sign-in,
	 * and no forged change riding on credentials a browser cached. */
	if (!is_json_media_type(ct)) {
		reply_error(rp, 415, "json_required",
			    "the body must be JSON sent as Content-Type: application/json");
		return -EINVAL;
	}
	return request_json(rq, rp, out);
}

/* Sign-in and sign-out are in the audit log: who held the page, from where. */
static int audit_session(struct request *rq, const struct account *a, const char *user,
			 const char *action, int64_t now)
{
	struct audit_rec r = { .account_id = a->id, .action = action };
	struct audit_who w;
	int rc = audit_who_user(rq, a, user, &w);

	return rc ? rc : audit_request(rq, &w, &r, now);
}

void web_session_post(struct request *rq, struct reply *rp)
{
	const char *account, *user, *password;
	char secret[SECRET_STR_MAX], role[16];
	struct session s = { .id = 0 };
	json_t *req = NULL;
	int64_t now = console_now(), in_use = 0;
	int rc;

	if (web_json_body(rq, rp, &req))
		return;
	account = json_string_value(json_object_get(req, "account"));
	user = json_string_value(json_object_get(req, "user"));
	password = json_string_value(json_object_get(req, "password"));
	if (!account || !user || !password || !account_name_valid(account) ||
	    !user_name_valid(user)) {
		reply_error(rp, 400, "malformed",
			    "malformed request: \"account\", \"user\" and \"password\" are required");
		goto out;
	}
	/* the slow KDF before the write lock */
	rc = login_check(rq, rp, account, user, password, &s.account);
	if (rc == -EAGAIN)
		goto out;
	if (rc == -EACCES) {
		reply_error(rp, 401, "bad_credentials", "wrong user name or password for account %s",
			    account);
		goto out;
	}
	rc = rc ? rc : db_begin(rq->db);
	if (!rc)
		rc = session_create(rq->db, &s.account, user, now, secret);
	if (!rc)
		rc = audit_session(rq, &s.account, user, "session.sign-in", now);
	if (!rc)
		rc = db_commit(rq->db);
	if (!rc)
		rc = licenses_in_use(rq->db, s.account.id, &in_use);
	if (!rc)
		rc = user_role(rq->db, s.account.id, user, role, sizeof(role));
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	snprintf(s.user, sizeof(s.user), "%s", user);
	s.expires_at = now + SESSION_TTL_S;
	session_cookie(secret, rp->set_cookie, sizeof(rp->set_cookie));
	reply_json(rp, 200, session_json(&s, secret, in_use, role));
	snprintf(rp->who, sizeof(rp->who), "user=%s@%s (signed in)", user, account);
	OPENSSL_cleanse(secret, sizeof(secret));
out:
	/* the password's copy in the parsed body */
	if (password)
		OPENSSL_cleanse((char *)password, strlen(password));
	json_decref(req);
}

void web_session_get(struct request *rq, struct reply *rp)
{
	char role[16];
	struct session s;
	int64_t in_use = 0;
	int rc;

	if (!request_has_session(rq)) {
		reply_error(rp, 401, "session_expired", "you are not signed in: sign in");
		return;
	}
	if (auth_session(rq, rp, &s))
		return;
	rc = licenses_in_use(rq->db, s.account.id, &in_use);
	if (!rc)
		rc = user_role(rq->db, s.account.id, s.user, role, sizeof(role));
	if (rc) {
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, session_json(&s, request_cookie(rq, SESSION_COOKIE), in_use, role));
}

void web_session_delete(struct request *rq, struct reply *rp)
{
	struct session s;
	int rc;

	if (!request_has_session(rq)) {
		session_cookie(NULL, rp->set_cookie, sizeof(rp->set_cookie));
		reply_error(rp, 401, "session_expired", "you are not signed in");
		return;
	}
	/* a forged sign-out (no CSRF token) must not even drop the cookie;
	 * a session that already ended loses it */
	if (auth_session(rq, rp, &s)) {
		if (rp->status == 401)
			session_cookie(NULL, rp->set_cookie, sizeof(rp->set_cookie));
		return;
	}
	session_cookie(NULL, rp->set_cookie, sizeof(rp->set_cookie));
	rc = db_begin(rq->db);
	if (!rc)
		rc = session_delete(rq->db, request_cookie(rq, SESSION_COOKIE));
	if (!rc)
		rc = audit_session(rq, &s.account, s.user, "session.sign-out", console_now());
	if (!rc)
		rc = db_commit(rq->db);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		return;
	}
	reply_json(rp, 200, json_pack("{s:b}", "signed_out", 1));
}
