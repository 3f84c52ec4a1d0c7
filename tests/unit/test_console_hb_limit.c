// SPDX-License-Identifier: GPL-2.0-or-later
/* console hb_limit.c: a burst of heartbeats, then one a second, on an injected
 * clock; the buckets in a real database (SQLite, or PostgreSQL under
 * make check-console-pg), two connections standing for two instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "console_test_db.h"
#include "hb_limit.h"

static int64_t fake_now;

static int64_t clock_ms(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static struct db *db, *db2;

/* *wait of one heartbeat of machine ref through connection d */
static unsigned take_on(struct hb_limiter *l, struct db *d, int64_t ref)
{
	unsigned wait = 99;

	assert_int_equal(hb_take(l, d, ref, &wait), 0);
	return wait;
}

static unsigned take(struct hb_limiter *l, int64_t ref)
{
	return take_on(l, db, ref);
}

static void test_burst_then_rate(void **state)
{
	struct hb_limiter *l = calloc(1, sizeof(*l));
	int taken = 0;
	char path[64];

	(void)state;
	assert_int_equal(test_db_open(path, "hb_limit", &db), 0);
	fake_now = 5000;
	hb_limiter_init(l, clock_ms, NULL);
	/* a flood: the burst passes, the rest waits */
	for (int i = 0; i < 1000; i++)
		taken += take(l, 7) == 0;
	assert_int_equal(taken, HB_BURST);
	assert_int_equal(take(l, 7), 1);
	/* another machine is not affected */
	assert_int_equal(take(l, 8), 0);
	/* one per HB_REFILL_MS afterwards */
	fake_now += HB_REFILL_MS;
	assert_int_equal(take(l, 7), 0);
	assert_true(take(l, 7) > 0);
	/* over 100 s of flooding, about 100 pass */
	taken = 0;
	for (int t = 0; t < 100000; t += 10) {
		fake_now += 10;
		taken += take(l, 7) == 0;
	}
	assert_in_range(taken, 99, 101);
	/* an agent every 10 s is never refused */
	for (int i = 0; i < 100; i++) {
		fake_now += 10000;
		assert_int_equal(take(l, 9), 0);
	}
	hb_limiter_destroy(l);
	free(l);
	test_db_close(db, path);
}

/* A flood spread over two connections (two console instances) drains one
 * bucket: the burst passes once, not once per instance. */
static void test_shared_by_connections(void **state)
{
	struct hb_limiter *l = calloc(1, sizeof(*l));
	char path[64], err[256];
	int taken = 0;

	(void)state;
	assert_int_equal(test_db_open(path, "hb_limit2", &db), 0);
	assert_int_equal(db_open(path, 0, &db2, err, sizeof(err)), 0);
	fake_now = 5000;
	hb_limiter_init(l, clock_ms, NULL);
	for (int i = 0; i < 100; i++)
		taken += take_on(l, i % 2 ? db2 : db, 7) == 0;
	assert_int_equal(taken, HB_BURST);
	/* a clock behind the last heartbeat's refills nothing */
	fake_now -= 60000;
	assert_int_equal(take_on(l, db2, 7), 1);
	fake_now += 60000 + HB_REFILL_MS;
	assert_int_equal(take_on(l, db2, 7), 0);
	assert_int_equal(take_on(l, db, 7), 1);
	hb_limiter_destroy(l);
	free(l);
	db_close(db2);
	test_db_close(db, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_shared_by_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
