// SPDX-License-Identifier: GPL-2.0-or-later
/* A token bucket per machine for heartbeats, kept in the database (hb_limit.h). */
#include "hb_limit.h"

#include <time.h>

static int64_t realtime_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hb_limiter_init(struct hb_limiter *l, int64_t (*now_ms)(void *), void *ctx)
{
	l->now_ms = now_ms ? now_ms : realtime_ms;
	l->now_ctx = ctx;
}

void hb_limiter_destroy(struct hb_limiter *l)
{
	(void)l;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define FULL_SQL "(" STR(HB_BURST) " * " STR(HB_REFILL_MS) ")"
/* the bucket refilled up to now, never beyond full; a clock that went
 * back (another instance's, or a step of this one's) refills nothing */
#define REFILLED_SQL                                                                   \
	"(CASE WHEN hb_buckets.tokens_ms + (CASE WHEN ?2 > hb_buckets.last_ms"           \
	" THEN ?2 - hb_buckets.last_ms ELSE 0 END) > " FULL_SQL " THEN " FULL_SQL        \
	" ELSE hb_buckets.tokens_ms + (CASE WHEN ?2 > hb_buckets.last_ms"                \
	" THEN ?2 - hb_buckets.last_ms ELSE 0 END) END)"

int hb_take(struct hb_limiter *l, struct db *db, int64_t ref, unsigned *wait)
{
	int64_t now = l->now_ms(l->now_ctx);
	struct db_stmt *st;
	int rc;

	*wait = 0;
	/* one statement reads, refills and takes: two instances taking from
	 * one bucket at once take two tokens (a row lock on PostgreSQL, the
	 * one writer on SQLite); a machine's first heartbeat finds a full
	 * bucket */
	rc = db_prepare(db, &st,
			"INSERT INTO hb_buckets (machine_ref, tokens_ms, last_ms, taken)"
			" VALUES (?1, " FULL_SQL " - ?3, ?2, 1) ON CONFLICT (machine_ref) DO UPDATE SET"
			" tokens_ms = CASE WHEN " REFILLED_SQL " >= ?3 THEN " REFILLED_SQL " - ?3"
			" ELSE " REFILLED_SQL " END,"
			" taken = CASE WHEN " REFILLED_SQL " >= ?3 THEN 1 ELSE 0 END,"
			" last_ms = CASE WHEN ?2 > hb_buckets.last_ms THEN ?2 ELSE hb_buckets.last_ms END"
			" RETURNING taken, tokens_ms");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, HB_REFILL_MS);
	rc = db_step(st);
	if (rc == DB_ROW && !db_column_int64(st, 0))
		*wait = (unsigned)((HB_REFILL_MS - db_column_int64(st, 1) + 999) / 1000);
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err(db, rc, "taking a heartbeat token");
}
