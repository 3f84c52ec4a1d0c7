// SPDX-License-Identifier: GPL-2.0-or-later
/* The page's session on each request, and its CSRF check (web.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "api_auth.h"
#include "console.h"
#include "web.h"

int request_has_session(struct request *rq)
{
	return request_cookie(rq, SESSION_COOKIE) &&
	       !request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
}

static int state_changing(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD");
}

int auth_session(struct request *rq, struct reply *rp, struct session *s)
{
	const char *cookie = request_cookie(rq, SESSION_COOKIE);
	int rc;

	rc = session_lookup(rq->db, cookie, console_now(), s);
	if (rc == -ENOENT)
		return reply_error(rp, 401, "session_expired",
				   "you are not signed in (the session ended or was signed out): "
				   "sign in again"), -EACCES;
	if (rc)
		return reply_internal(rp, rc);
	/* The cookie alone proves nothing for a change: another site's page
	 * can make the browser send it, but cannot read the token. */
	if (state_changing(rq->method) && csrf_check(cookie, request_header(rq, CSRF_HEADER)))
		return reply_error(rp, 403, "csrf_required",
				   "this request changes something and lacks the session's "
				   CSRF_HEADER " header: reload the page and try again"), -EACCES;
	snprintf(rp->who, sizeof(rp->who), "user=%s@%s (session %lld)", s->user, s->account.name,
		 (long long)s->id);
	return 0;
}

int auth_web_operator(struct request *rq, struct reply *rp, struct account *acct, char *user,
		      size_t ulen)
{
	struct session s;
	const char *p, *at;
	int rc;

	if (request_has_session(rq)) {
		rc = auth_session(rq, rp, &s);
		if (rc)
			return rc;
		*acct = s.account;
		snprintf(user, ulen, "%s", s.user);
		return 0;
	}
	rc = auth_operator(rq, rp, acct);
	if (rc)
		return rc;
	/* rp->who is "user=NAME@ACCOUNT" after basic auth */
	p = strncmp(rp->who, "user=", 5) ? rp->who : rp->who + 5;
	at = strrchr(p, '@');
	snprintf(user, ulen, "%.*s", at ? (int)(at - p) : (int)strlen(p), p);
	return 0;
}
