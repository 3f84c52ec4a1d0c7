// SPDX-License-Identifier: GPL-2.0-or-later
/* console hb_limit.c: a burst of heartbeats, then one a second, on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hb_limit.h"

static int64_t fake_now;

static int64_t clock_ms(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void test_burst_then_rate(void **state)
{
	struct hb_limiter *l = calloc(1, sizeof(*l));
	int taken = 0;

	(void)state;
	fake_now = 5000;
	hb_limiter_init(l, clock_ms, NULL);
	/* a flood: the burst passes, the rest waits */
	for (int i = 0; i < 1000; i++)
		taken += hb_take(l, 7) == 0;
	assert_int_equal(taken, HB_BURST);
	assert_int_equal(hb_take(l, 7), 1);
	/* another machine is not affected */
	assert_int_equal(hb_take(l, 8), 0);
	/* one per HB_REFILL_MS afterwards */
	fake_now += HB_REFILL_MS;
	assert_int_equal(hb_take(l, 7), 0);
	assert_true(hb_take(l, 7) > 0);
	/* over 100 s of flooding, about 100 pass */
	taken = 0;
	for (int t = 0; t < 100000; t += 10) {
		fake_now += 10;
		taken += hb_take(l, 7) == 0;
	}
	assert_in_range(taken, 99, 101);
	/* an agent every 10 s is never refused */
	for (int i = 0; i < 100; i++) {
		fake_now += 10000;
		assert_int_equal(hb_take(l, 9), 0);
	}
	hb_limiter_destroy(l);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
