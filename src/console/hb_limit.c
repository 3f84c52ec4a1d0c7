// SPDX-License-Identifier: GPL-2.0-or-later
/* A token bucket per machine for heartbeats (hb_limit.h). */
#include "hb_limit.h"

#include <string.h>
#include <time.h>

static int64_t monotonic_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hb_limiter_init(struct hb_limiter *l, int64_t (*now_ms)(void *), void *ctx)
{
	memset(l->slots, 0, sizeof(l->slots));
	pthread_mutex_init(&l->lock, NULL);
	l->now_ms = now_ms ? now_ms : monotonic_ms;
	l->now_ctx = ctx;
}

void hb_limiter_destroy(struct hb_limiter *l)
{
	pthread_mutex_destroy(&l->lock);
}

#define FULL ((int64_t)HB_BURST * HB_REFILL_MS)
#define PROBE 8

unsigned hb_take(struct hb_limiter *l, int64_t ref)
{
	struct hb_bucket *b = NULL, *victim = NULL;
	size_t s = (size_t)((uint64_t)ref * 2654435761u % HB_SLOTS);
	unsigned wait = 0;
	int64_t now;

	pthread_mutex_lock(&l->lock);
	now = l->now_ms(l->now_ctx);
	for (size_t i = 0; i < PROBE && !b; i++) {
		struct hb_bucket *e = &l->slots[(s + i) % HB_SLOTS];

		if (e->ref == ref)
			b = e;
		else if (!victim || !e->ref || (victim->ref && e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!b) {
		/* a machine forgotten starts with a full bucket: at worst one
		 * more burst, never a refusal of a quiet agent */
		b = victim;
		b->ref = ref;
		b->tokens_ms = FULL;
		b->last_ms = now;
	}
	b->tokens_ms += now - b->last_ms;
	if (b->tokens_ms > FULL)
		b->tokens_ms = FULL;
	b->last_ms = now;
	if (b->tokens_ms >= HB_REFILL_MS)
		b->tokens_ms -= HB_REFILL_MS;
	else
		wait = (unsigned)((HB_REFILL_MS - b->tokens_ms + 999) / 1000);
	pthread_mutex_unlock(&l->lock);
	return wait;
}
