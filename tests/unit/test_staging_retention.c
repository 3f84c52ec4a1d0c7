// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The retention policy over three simulated days: a point every ten
 * minutes, pruned after each one as staging does, with the clock injected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "retention.h"

#define MIN_NS   (UINT64_C(60) * 1000000000u)
/* 2026-01-01T00:00:00Z: buckets are UTC hours and days */
#define T0       (UINT64_C(1767225600) * 1000000000u)
#define STEP     (10 * MIN_NS)
#define NPOINTS  (3 * 24 * 6)

static struct retention_point pts[NPOINTS];
static size_t npts;

static int has(uint64_t t)
{
	for (size_t i = 0; i < npts; i++)
		if (pts[i].time_ns == t)
			return 1;
	return 0;
}

/* What staging does after each point: select, then delete what is not kept. */
static void prune(uint64_t now, const struct retention_policy *pol)
{
	size_t kept = retention_select(pts, npts, now, pol), j = 0;

	for (size_t i = 0; i < npts; i++)
		if (pts[i].keep)
			pts[j++] = pts[i];
	assert_int_equal(j, kept);
	npts = j;
}

static void test_three_days(void **state)
{
	const struct retention_policy pol = RETENTION_DEFAULT;
	const uint64_t pinned_t = T0 + 5 * 60 * MIN_NS; /* day 0, 05:00 */
	uint64_t now = 0;

	(void)state;
	npts = 0;
	for (unsigned k = 0; k < NPOINTS; k++) {
		now = T0 + k * STEP;
		pts[npts].time_ns = now;
		pts[npts].pinned = now == pinned_t;
		npts++;
		prune(now, &pol);
		/* at every step: the newest, everything of the last hour, the pin */
		for (uint64_t t = now; t + 60 * MIN_NS > now && t >= T0; t -= STEP)
			assert_true(has(t));
		if (now >= pinned_t)
			assert_true(has(pinned_t));
		/* and no more than the policy can ever keep */
		assert_true(npts <= 6 + 24 + 7 + 1 + 1);
	}
	/* now = day 2, 23:50 */
	assert_int_equal(now, T0 + 72 * 60 * MIN_NS - STEP);
	/* the last hour: 23:00 .. 23:50 */
	for (unsigned m = 0; m < 60; m += 10)
		assert_true(has(T0 + (2 * 24 * 60 + 23 * 60 + m) * MIN_NS));
	/* the first point of each of the last 24 hours */
	for (unsigned h = 0; h < 24; h++)
		assert_true(has(T0 + (2 * 24 + h) * 60 * MIN_NS));
	/* the first point of each day */
	for (unsigned d = 0; d < 3; d++)
		assert_true(has(T0 + d * 24 * 60 * MIN_NS));
	assert_true(has(pinned_t));
	/* 6 + 23 more hours + 2 more days + the pin; nothing else */
	assert_int_equal(npts, 32);
	/* a point of day 1 that no rule keeps is gone */
	assert_false(has(T0 + (24 * 60 + 7 * 60 + 10) * MIN_NS));

	/* unpinned, the pin's point goes at the next pruning */
	for (size_t i = 0; i < npts; i++)
		pts[i].pinned = 0;
	prune(now, &pol);
	assert_false(has(pinned_t));
	assert_int_equal(npts, 31);

	/* a week later with no new points: the newest point always stays */
	prune(now + 8 * 24 * 60 * MIN_NS, &pol);
	assert_int_equal(npts, 1);
	assert_true(has(now));
}

/* An empty policy keeps the newest and the pinned ones only. */
static void test_keep_nothing(void **state)
{
	const struct retention_policy none = { 0, 0, 0 };

	(void)state;
	npts = 0;
	for (unsigned k = 0; k < 10; k++) {
		pts[npts].time_ns = T0 + k * STEP;
		pts[npts].pinned = k == 3;
		npts++;
	}
	prune(T0 + 9 * STEP, &none);
	assert_int_equal(npts, 2);
	assert_true(has(T0 + 3 * STEP));
	assert_true(has(T0 + 9 * STEP));
}

/* The bucket's first point is chosen, so the choice never moves. */
static void test_first_of_bucket_is_stable(void **state)
{
	const struct retention_policy hourly = { 0, 24, 0 };

	(void)state;
	npts = 0;
	for (unsigned k = 0; k < 6; k++) {
		pts[npts].time_ns = T0 + 3 * 60 * MIN_NS + k * STEP; /* 03:00 .. 03:50 */
		pts[npts].pinned = 0;
		npts++;
		prune(pts[npts - 1].time_ns, &hourly);
		assert_true(has(T0 + 3 * 60 * MIN_NS));
	}
	assert_int_equal(npts, 2); /* 03:00 and the newest */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_days),
		cmocka_unit_test(test_keep_nothing),
		cmocka_unit_test(test_first_of_bucket_is_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
