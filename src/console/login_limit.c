// SPDX-License-Identifier: GPL-2.0-or-later
/* Exponential backoff on failed passwords, per user and per address, counted
 * in the database (login_limit.h). */
#include "login_limit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "log.h"

static int64_t realtime_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void limiter_init(struct login_limiter *l, int64_t (*now_ms)(void *), void *ctx)
{
	l->now_ms = now_ms ? now_ms : realtime_ms;
	l->now_ctx = ctx;
}

void limiter_destroy(struct login_limiter *l)
{
	(void)l;
}

static int64_t delay_ms(int64_t failures, unsigned free_failures)
{
	int64_t over, d;

	if (failures < free_failures)
		return 0;
	over = failures - free_failures;
	d = (int64_t)LIMIT_BASE_S * 1000;
	while (over-- && d < (int64_t)LIMIT_MAX_S * 1000)
		d *= 2;
	return d < (int64_t)LIMIT_MAX_S * 1000 ? d : (int64_t)LIMIT_MAX_S * 1000;
}

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int limiter_wait(struct login_limiter *l, struct db *db, const char *key,
		 unsigned free_failures, unsigned *wait)
{
	int64_t now = l->now_ms(l->now_ctx), until;
	struct db_stmt *st;
	int rc;

	*wait = 0;
	rc = db_prepare(db, &st, "SELECT failures, last_failure_ms FROM login_failures"
				 " WHERE key = ? AND last_failure_ms >= ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	db_bind_int64(st, 2, now - (int64_t)LIMIT_FORGET_S * 1000);
	rc = db_step(st);
	if (rc == DB_ROW) {
		until = db_column_int64(st, 1) + delay_ms(db_column_int64(st, 0), free_failures);
		if (until > now)
			*wait = (unsigned)((until - now + 999) / 1000);
	}
	db_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : db_err(db, rc, "reading password failures");
}

int limiter_failed(struct login_limiter *l, struct db *db, const char *key)
{
	int64_t now = l->now_ms(l->now_ctx), forget = now - (int64_t)LIMIT_FORGET_S * 1000;
	struct db_stmt *st;
	int rc;

	/* one statement: two instances counting the same key at once both
	 * count (a row lock on PostgreSQL, the one writer on SQLite) */
	rc = db_prepare(db, &st,
			"INSERT INTO login_failures (key, failures, last_failure_ms) VALUES (?1, 1, ?2)"
			" ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN"
			" login_failures.last_failure_ms < ?3 THEN 1"
			" ELSE login_failures.failures + 1 END, last_failure_ms = ?2");
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, forget);
	if ((rc = run(db, st, "counting a password failure")))
		return rc;
	/* forgotten keys go here, where failures come, so that a guesser
	 * inventing names grows the table by an hour's failures at most */
	rc = db_prepare(db, &st, "DELETE FROM login_failures WHERE last_failure_ms < ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, forget);
	return run(db, st, "forgetting old password failures");
}

int limiter_succeeded(struct login_limiter *l, struct db *db, const char *key)
{
	struct db_stmt *st;
	int rc;

	(void)l;
	rc = db_prepare(db, &st, "DELETE FROM login_failures WHERE key = ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	return run(db, st, "clearing password failures");
}

int login_check(struct request *rq, struct reply *rp, const char *account, const char *user,
		const char *password, struct account *acct)
{
	struct login_limiter *l = rq->c->login_limiter;
	char ukey[LIMIT_KEY_MAX], akey[LIMIT_KEY_MAX], addr[64];
	unsigned wu, wa, wait;
	int rc;

	request_client_addr(rq, addr, sizeof(addr));
	snprintf(ukey, sizeof(ukey), "u:%s@%s", user, account);
	snprintf(akey, sizeof(akey), "a:%s", addr);
	rc = limiter_wait(l, rq->db, ukey, LIMIT_FREE_USER, &wu);
	if (!rc)
		rc = limiter_wait(l, rq->db, akey, LIMIT_FREE_ADDR, &wa);
	if (rc)
		return rc;
	wait = wu > wa ? wu : wa;
	if (wait) {
		rp->retry_after = wait;
		reply_error(rp, 429, "too_many_attempts",
			    "too many wrong passwords %s: retry in %u s",
			    wu >= wa ? "for this user" : "from this address", wait);
		return -EAGAIN;
	}
	rc = user_check(rq->db, account, user, password, acct);
	if (rc == -EACCES) {
		log_warn("wrong password for %s@%s from %s", user, account, addr);
		/* a failure not counted must not pass for a wrong password
		 * answered: the caller then answers 503 */
		int lrc = limiter_failed(l, rq->db, ukey);

		if (!lrc)
			lrc = limiter_failed(l, rq->db, akey);
		if (lrc)
			return lrc;
	} else if (!rc) {
		rc = limiter_succeeded(l, rq->db, ukey);
	}
	return rc;
}
