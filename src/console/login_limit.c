// SPDX-License-Identifier: GPL-2.0-or-later
/* Exponential backoff on failed passwords, per user and per address (login_limit.h). */
#include "login_limit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "log.h"

static int64_t monotonic_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void limiter_init(struct login_limiter *l, int64_t (*now_ms)(void *), void *ctx)
{
	memset(l->slots, 0, sizeof(l->slots));
	pthread_mutex_init(&l->lock, NULL);
	l->now_ms = now_ms ? now_ms : monotonic_ms;
	l->now_ctx = ctx;
}

void limiter_destroy(struct login_limiter *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* FNV-1a: spreads keys over the slots; not a defence in itself. */
static size_t slot_of(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h % LIMIT_SLOTS);
}

#define PROBE 8

/* The key's entry, or with create a fresh one in a free, stale or else the
 * oldest of its PROBE slots. Under the lock. */
static struct limit_entry *find(struct login_limiter *l, const char *key, int64_t now, int create)
{
	size_t s = slot_of(key);
	struct limit_entry *victim = NULL;

	for (size_t i = 0; i < PROBE; i++) {
		struct limit_entry *e = &l->slots[(s + i) % LIMIT_SLOTS];

		if (e->key[0] && now - e->last_failure_ms > (int64_t)LIMIT_FORGET_S * 1000)
			e->key[0] = '\0';
		if (e->key[0] && !strcmp(e->key, key))
			return e;
		if (!victim || !e->key[0] ||
		    (victim->key[0] && e->last_failure_ms < victim->last_failure_ms))
			victim = e;
	}
	if (!create)
		return NULL;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->failures = 0;
	victim->last_failure_ms = now;
	return victim;
}

static int64_t delay_ms(unsigned failures, unsigned free_failures)
{
	unsigned over;
	int64_t d;

	if (failures < free_failures)
		return 0;
	over = failures - free_failures;
	d = (int64_t)LIMIT_BASE_S * 1000;
	while (over-- && d < (int64_t)LIMIT_MAX_S * 1000)
		d *= 2;
	return d < (int64_t)LIMIT_MAX_S * 1000 ? d : (int64_t)LIMIT_MAX_S * 1000;
}

unsigned limiter_wait(struct login_limiter *l, const char *key, unsigned free_failures)
{
	int64_t now, until;
	struct limit_entry *e;
	unsigned wait = 0;

	pthread_mutex_lock(&l->lock);
	now = l->now_ms(l->now_ctx);
	e = find(l, key, now, 0);
	if (e) {
		until = e->last_failure_ms + delay_ms(e->failures, free_failures);
		if (until > now)
			wait = (unsigned)((until - now + 999) / 1000);
	}
	pthread_mutex_unlock(&l->lock);
	return wait;
}

void limiter_failed(struct login_limiter *l, const char *key)
{
	struct limit_entry *e;
	int64_t now;

	pthread_mutex_lock(&l->lock);
	now = l->now_ms(l->now_ctx);
	e = find(l, key, now, 1);
	e->failures++;
	e->last_failure_ms = now;
	pthread_mutex_unlock(&l->lock);
}

void limiter_succeeded(struct login_limiter *l, const char *key)
{
	struct limit_entry *e;

	pthread_mutex_lock(&l->lock);
	e = find(l, key, l->now_ms(l->now_ctx), 0);
	if (e)
		e->key[0] = '\0';
	pthread_mutex_unlock(&l->lock);
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
	wu = limiter_wait(l, ukey, LIMIT_FREE_USER);
	wa = limiter_wait(l, akey, LIMIT_FREE_ADDR);
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
		limiter_failed(l, ukey);
		limiter_failed(l, akey);
		log_warn("wrong password for %s@%s from %s", user, account, addr);
	} else if (!rc) {
		limiter_succeeded(l, ukey);
	}
	return rc;
}
