// SPDX-License-Identifier: GPL-2.0-or-later
/* Operator (basic) and agent (bearer) authentication (api_auth.h). */
#include "api_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "auth.h"
#include "login_limit.h"
#include "web.h"

int split_login(const char *login, char *user, size_t ulen, char *account, size_t alen)
{
	const char *at = strrchr(login, '@');
	size_t n;

	if (!at || at == login || !at[1])
		return -EINVAL;
	n = (size_t)(at - login);
	if (n >= ulen || strlen(at + 1) >= alen)
		return -EINVAL;
	memcpy(user, login, n);
	user[n] = '\0';
	strcpy(account, at + 1);
	return user_name_valid(user) && account_name_valid(account) ? 0 : -EINVAL;
}

int auth_operator(struct request *rq, struct reply *rp, struct account *acct)
{
	char user[USER_NAME_MAX + 1], account[ACCOUNT_NAME_MAX + 1];
	char *login, *password = NULL;
	int rc;

	/* the web page's session; scripts keep basic auth */
	if (request_has_session(rq)) {
		struct session sess;

		rc = auth_session(rq, rp, &sess);
		if (!rc)
			*acct = sess.account;
		return rc;
	}
	login = MHD_basic_auth_get_username_password(rq->conn, &password);
	if (!login) {
		/* a challenge to the page's own fetch() would pop up the
		 * browser's password dialog */
		rp->challenge = !request_header(rq, "X-Requested-With");
		reply_error(rp, 401, "auth_required",
			    "authentication required: HTTP basic auth as USER@ACCOUNT");
		rc = -EACCES;
		goto out;
	}
	if (split_login(login, user, sizeof(user), account, sizeof(account))) {
		rp->challenge = 1;
		reply_error(rp, 401, "bad_credentials",
			    "the user name must be USER@ACCOUNT (for example alice@acme)");
		rc = -EACCES;
		goto out;
	}
	rc = login_check(rq, rp, account, user, password ? password : "", acct);
	if (rc == -EAGAIN)
		goto out;
	if (rc == -EACCES) {
		rp->challenge = 1;
		reply_error(rp, 401, "bad_credentials", "wrong user name or password for account %s",
			    account);
	} else if (rc) {
		reply_internal(rp, rc);
	} else {
		snprintf(rp->who, sizeof(rp->who), "user=%s@%s", user, account);
	}
out:
	if (password) {
		/* no OPENSSL_cleanse here: keep this file free of OpenSSL */
		volatile char *p = password;

		while (*p)
			*p++ = '\0';
	}
	MHD_free(login);
	MHD_free(password);
	return rc;
}

static const char *bearer(struct request *rq)
{
	const char *h = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

int request_is_agent(struct request *rq)
{
	return bearer(rq) != NULL;
}

int auth_agent(struct request *rq, struct reply *rp, const char *machine_id,
	       struct machine_ref *m)
{
	const char *secret = bearer(rq);
	int rc;

	if (!secret || strncmp(secret, AGENT_PREFIX, strlen(AGENT_PREFIX))) {
		reply_error(rp, 401, "auth_required",
			    "authentication required: \"Authorization: Bearer <agent_secret>\" "
			    "as returned at registration");
		return -EACCES;
	}
	rc = machine_by_secret(rq->db, secret, m);
	if (rc == -ENOENT) {
		reply_error(rp, 401, "bad_agent_secret",
			    "unknown agent secret (the machine registered again since, or never did): "
			    "register again");
		return -EACCES;
	}
	if (rc)
		return reply_internal(rp, rc);
	/* Lookups go by the secret's hash, so nothing here compares a secret;
	 * this only stops one machine speaking for another. */
	if (strcmp(m->machine_id, machine_id)) {
		reply_error(rp, 403, "wrong_machine", "this agent secret belongs to machine %s, not %s",
			    m->machine_id, machine_id);
		return -EACCES;
	}
	snprintf(rp->who, sizeof(rp->who), "machine=%s", m->machine_id);
	return 0;
}

int auth_own_machine(struct request *rq, struct reply *rp, const struct account *a,
		     const char *machine_id, struct machine_ref *m)
{
	int rc = machine_lookup(rq->db, machine_id, m);

	if (rc == -ENOENT || (!rc && m->account_id != a->id))
		return reply_error(rp, 404, "no_such_machine", "account %s has no machine %s",
				   a->name, machine_id);
	return rc ? reply_internal(rp, rc) : 0;
}
