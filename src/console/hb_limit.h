/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The brake on heartbeats (docs/security.md): one agent secret could write
 * megabytes a second into the database. Each machine has a bucket of
 * HB_BURST heartbeats that refills at one per HB_REFILL_MS; a heartbeat
 * finding it empty is answered 429 with Retry-After and not stored. An
 * agent reporting every few seconds never comes near it. The bytes each
 * machine's history may hold are bounded in machines.c (HISTORY_BYTES_MAX).
 */
#ifndef LIVEMIG_CONSOLE_HB_LIMIT_H
#define LIVEMIG_CONSOLE_HB_LIMIT_H

#include <pthread.h>
#include <stdint.h>

#define HB_BURST 10
#define HB_REFILL_MS 1000
#define HB_SLOTS 1024 /* machines tracked at once; the least recent goes */

struct hb_bucket {
	int64_t ref;     /* machine row; 0: free */
	int64_t tokens_ms; /* tokens, in units of HB_REFILL_MS-th */
	int64_t last_ms;
};

struct hb_limiter {
	pthread_mutex_t lock;
	int64_t (*now_ms)(void *ctx); /* injected in tests; NULL: CLOCK_MONOTONIC */
	void *now_ctx;
	struct hb_bucket slots[HB_SLOTS];
};

void hb_limiter_init(struct hb_limiter *l, int64_t (*now_ms)(void *), void *ctx);
void hb_limiter_destroy(struct hb_limiter *l);
/* 0: take one heartbeat of machine ref; else the seconds until one is due. */
unsigned hb_take(struct hb_limiter *l, int64_t ref);

#endif
