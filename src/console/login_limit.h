/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The brake on password guessing (docs/security.md). Every password check
 * (basic auth, the page's sign-in, registration with a user's password)
 * goes through login_check(): it asks the limiter first and runs the slow
 * key derivation only when neither the user (USER@ACCOUNT) nor the client
 * address is held back, so a guesser spends neither tries nor our CPU.
 *
 * Policy, per key: up to LIMIT_FREE_* failures cost nothing; from then on
 * the key is held back LIMIT_BASE_S after its last failure, doubling with
 * each further failure up to LIMIT_MAX_S. Attempts refused while held back do not count.
 * A correct password clears its user's failures (not its address's). A key
 * with no failure for LIMIT_FORGET_S is forgotten.
 * Users are limited after 5 failures, addresses after 20, so that one
 * guessed-at user does not lock out the others behind the same NAT.
 *
 * The failures live in the database (table login_failures), so that every
 * console instance sharing it counts a guesser's tries together; each
 * change is one statement, atomic on both engines without the writers'
 * lock. Times are wall-clock milliseconds, the one clock instances share.
 */
#ifndef LIVEMIG_CONSOLE_LOGIN_LIMIT_H
#define LIVEMIG_CONSOLE_LOGIN_LIMIT_H

#include <stdint.h>

#include "accounts.h"
#include "db.h"
#include "http.h"

#define LIMIT_FREE_USER 5
#define LIMIT_FREE_ADDR 20
#define LIMIT_BASE_S 5
#define LIMIT_MAX_S 900
#define LIMIT_FORGET_S 3600
#define LIMIT_KEY_MAX 160

struct login_limiter {
	int64_t (*now_ms)(void *ctx); /* injected in tests */
	void *now_ctx;
};

/* now_ms NULL: CLOCK_REALTIME. */
void limiter_init(struct login_limiter *l, int64_t (*now_ms)(void *), void *ctx);
void limiter_destroy(struct login_limiter *l);
/* *wait: 0 when key may try now, else the seconds to wait (at least 1).
 * 0 or -errno (the database failed). */
int limiter_wait(struct login_limiter *l, struct db *db, const char *key,
		 unsigned free_failures, unsigned *wait);
/* One more failure of key; keys without a failure for LIMIT_FORGET_S go. */
int limiter_failed(struct login_limiter *l, struct db *db, const char *key);
int limiter_succeeded(struct login_limiter *l, struct db *db, const char *key);

/* user_check() behind the limiter of rq's console. 0 (acct filled),
 * -EACCES wrong name or password (the caller answers 401), -EAGAIN held
 * back (rp set: 429 too_many_attempts with Retry-After), or -errno. */
int login_check(struct request *rq, struct reply *rp, const char *account, const char *user,
		const char *password, struct account *acct);

#endif
