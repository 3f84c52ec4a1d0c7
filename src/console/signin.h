/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The web page's sign-in sessions. A session is 256 random bits handed to
 * the browser once, in an HttpOnly cookie; the database keeps only its
 * SHA-256 (like tokens and agent secrets), so a copy of the database signs
 * nobody in. Sessions end SESSION_TTL_S after sign-in, or at sign-out.
 *
 * CSRF: every state-changing request made with a session must carry the
 * session's CSRF token in the X-CSRF-Token header. The token is derived
 * from the session secret (SHA-256 over a fixed label and the secret), so
 * nothing more is stored; a page from another origin can make the browser
 * send the cookie but can read neither the cookie nor the token.
 */
#ifndef LIVEMIG_CONSOLE_SIGNIN_H
#define LIVEMIG_CONSOLE_SIGNIN_H

#include <stdint.h>

#include "accounts.h"
#include "auth.h"
#include "db.h"

#define SESSION_PREFIX  "lms_"
#define SESSION_COOKIE  "lm_session"
#define SESSION_TTL_S   (12 * 3600)
#define CSRF_HEADER     "X-CSRF-Token"
#define CSRF_HEX        (2 * 32 + 1)

struct session {
	int64_t id;
	struct account account;
	char user[USER_NAME_MAX + 1];
	int64_t created_at;
	int64_t expires_at;
};

/* A new session for user of account; the secret (the cookie's value) is
 * written to secret (SECRET_STR_MAX). Also removes expired sessions. */
int session_create(struct db *db, const struct account *acct, const char *user, int64_t now,
		   char *secret);
/* The live session for this cookie value: 0, or -ENOENT (unknown, expired,
 * or not of the session form). */
int session_lookup(struct db *db, const char *secret, int64_t now, struct session *out);
/* Sign-out: 0 (also when there was no such session). */
int session_delete(struct db *db, const char *secret);

/* The CSRF token of a session secret, lowercase hex. */
void csrf_token(const char *secret, char out[CSRF_HEX]);
/* 0 when given is the token of secret (compared in constant time), else
 * -EACCES (also for NULL). */
int csrf_check(const char *secret, const char *given);
/* The Set-Cookie value that installs (secret) or clears (NULL) the cookie. */
void session_cookie(const char *secret, char *out, size_t n);

#endif
