// SPDX-License-Identifier: GPL-2.0-or-later
/* What the sender keeps queued towards staging (link_queue.h), for injected
 * link rates: the unsent queue in the kernel, none until the link is
 * measured, then about 20 ms of the link in powers of two within 128 KiB and
 * 4 MiB; FLUSHes on measured links slower than 512 Mbit/s only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_queue.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static void no_limit_until_measured(void **state)
{
	(void)state;
	assert_int_equal(link_queue_limit(0), 0);
	assert_int_equal(link_queue_limit(-1), 0);
}

static void about_twenty_ms_of_the_link(void **state)
{
	(void)state;
	/* 100 Mbit/s as the bench's shaper measured it (14.7 MB/s): 294 KB */
	assert_int_equal(link_queue_limit(14.7e6), 256 * KiB);
	assert_int_equal(link_queue_limit(12.5e6), 128 * KiB);
	/* 1 Gbit/s: 2.5 MB */
	assert_int_equal(link_queue_limit(125e6), 2 * MiB);
	/* a power of two is kept until the rate halves or doubles */
	assert_int_equal(link_queue_limit(13.2e6), 256 * KiB);
	assert_int_equal(link_queue_limit(26.1e6), 256 * KiB);
	assert_int_equal(link_queue_limit(26.3e6), 512 * KiB);
}

static void within_its_bounds(void **state)
{
	(void)state;
	/* a bandwidth limit of 256 KB/s: still a few TLS records */
	assert_int_equal(link_queue_limit(256e3), LINK_QUEUE_MIN);
	/* loopback, 400 MB/s and more: the kernel's own default most */
	assert_int_equal(link_queue_limit(400e6), LINK_QUEUE_MAX);
	assert_int_equal(link_queue_limit(10e9), LINK_QUEUE_MAX);
}

static void flushes_on_slow_links_only(void **state)
{
	(void)state;
	assert_false(link_queue_flushes(0)); /* not measured yet */
	assert_true(link_queue_flushes(256e3)); /* a bandwidth limit */
	assert_true(link_queue_flushes(14.7e6)); /* 100 Mbit/s, the bench's shaper */
	assert_false(link_queue_flushes(125e6)); /* 1 Gbit/s */
	assert_false(link_queue_flushes(157e6)); /* loopback on a loaded machine */
	assert_false(link_queue_flushes(400e6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_limit_until_measured),
		cmocka_unit_test(about_twenty_ms_of_the_link),
		cmocka_unit_test(within_its_bounds),
		cmocka_unit_test(flushes_on_slow_links_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
