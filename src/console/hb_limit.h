/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The brake on heartbeats (docs/security.md): one agent secret could write
 * megabytes a second into the database. Each machine has a bucket of
 * HB_BURST heartbeats that refills at one per HB_REFILL_MS; a heartbeat
 * finding it empty is answered 429 with Retry-After and not stored. An
 * agent reporting every few seconds never comes near it. The bytes each
 * machine's history may hold are bounded in machines.c (HISTORY_BYTES_MAX).
 *
 * The buckets live in the database (table hb_buckets, a row per machine),
 * so that a flood spread over several console instances drains one
 * bucket; taking a token is one upsert, atomic on both engines without the
 * writers' lock. Times are wall-clock milliseconds, the one clock
 * instances share.
 */
#ifndef LIVEMIG_CONSOLE_HB_LIMIT_H
#define LIVEMIG_CONSOLE_HB_LIMIT_H

#include <stdint.h>

#include "db.h"

#define HB_BURST 10
#define HB_REFILL_MS 1000

struct hb_limiter {
	int64_t (*now_ms)(void *ctx); /* injected in tests; NULL: CLOCK_REALTIME */
	void *now_ctx;
};

void hb_limiter_init(struct hb_limiter *l, int64_t (*now_ms)(void *), void *ctx);
void hb_limiter_destroy(struct hb_limiter *l);
/* Take one heartbeat of machine ref: *wait 0 when taken, else the seconds
 * until one is due. 0 or -errno (the database failed). */
int hb_take(struct hb_limiter *l, struct db *db, int64_t ref, unsigned *wait);

#endif
