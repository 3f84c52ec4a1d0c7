// SPDX-License-Identifier: GPL-2.0-or-later
/* compression = auto's choice (compress_choice.h) with injected figures, no
 * clock: the gain's sums, deflate where the link is the limit (100 Mbit/s,
 * a bandwidth limit), raw where the workers' time is (loopback, also a
 * loaded one), the gap between turning on and off, the probes while the
 * gain is not measured and later while raw, and the queue rule
 * while the link is not measured yet. Figures like the bench's
 * (docs/performance.md, Slow link). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compress_choice.h"

#define MB 1e6

/* The gain after n slots that each saved `saved` bytes in `ns`. */
static double gain_of(unsigned n, uint64_t saved, uint64_t ns)
{
	struct compress_gain g = { 0 };

	for (unsigned i = 0; i < n; i++)
		compress_gain_note(&g, saved, ns);
	return compress_gain_rate(&g);
}

static void gain_is_saved_over_time(void **state)
{
	struct compress_gain g = { 0 };

	(void)state;
	/* not measured until 8 slots compressed: one slot's data decides little */
	for (unsigned i = 0; i < COMPRESS_GAIN_SAMPLES; i++) {
		assert_true(compress_gain_rate(&g) < 0);
		compress_gain_note(&g, 450000, 1500000);
	}
	/* 450 KB saved in 1.5 ms: 300 MB/s, however many such slots */
	assert_float_equal(compress_gain_rate(&g), 300 * MB, 1);
	assert_float_equal(gain_of(100, 450000, 1500000), 300 * MB, 1);
	/* a ratio of sums: a slot that waited 30 ms (preempted) weighs by its time */
	compress_gain_note(&g, 450000, 30000000);
	assert_true(compress_gain_rate(&g) < 100 * MB);
	/* and the old figures fade: 64 quick slots later it is near 300 again */
	for (int i = 0; i < 64; i++)
		compress_gain_note(&g, 450000, 1500000);
	assert_true(compress_gain_rate(&g) > 250 * MB);
	assert_true(compress_gain_rate(&g) < 300 * MB);
}

/* The reason for one slot from a fresh state with these figures (queue empty). */
static enum compress_reason once(double gain, double link)
{
	struct compress_state st = { 0 };

	return compress_choose(&st, gain, link, 0, 16);
}

static void slow_link_deflates(void **state)
{
	(void)state;
	/* 100 Mbit/s: wire_peak 9 to 22 MB/s; the gain 90 to 550 MB/s, and
	 * 60 MB/s with slots preempted on a machine at load 15 */
	assert_int_equal(once(90 * MB, 19 * MB), COMPRESS_PAYS);
	assert_int_equal(once(350 * MB, 12 * MB), COMPRESS_PAYS);
	assert_int_equal(once(60 * MB, 19 * MB), COMPRESS_PAYS);
	/* bandwidth_limit = 4M caps the link's rate */
	assert_int_equal(once(60 * MB, 4 * 1048576.0), COMPRESS_PAYS);
	/* 1 Gbit/s on a quiet machine with data that compresses well */
	assert_int_equal(once(400 * MB, 125 * MB), COMPRESS_PAYS);
}

static void fast_link_stays_raw(void **state)
{
	(void)state;
	/* loopback, quiet: wire_peak 300 to 400 MB/s, the gain about as much */
	assert_int_equal(once(380 * MB, 400 * MB), COMPRESS_RAW);
	assert_int_equal(once(450 * MB, 300 * MB), COMPRESS_RAW);
	/* loopback at load 15: both lower (wire_peak 157 to 202, the gain 77 to 572) */
	assert_int_equal(once(240 * MB, 157 * MB), COMPRESS_RAW);
	assert_int_equal(once(77 * MB, 157 * MB), COMPRESS_RAW);
	assert_int_equal(once(572 * MB, 202 * MB), COMPRESS_RAW);
	/* 1 Gbit/s on a loaded machine, or with data that compresses less */
	assert_int_equal(once(150 * MB, 92 * MB), COMPRESS_RAW);
	assert_int_equal(once(300 * MB, 125 * MB), COMPRESS_RAW);
}

static void gap_between_on_and_off(void **state)
{
	struct compress_state st = { 0 };

	(void)state;
	/* 2.8 times the link: not enough to start */
	assert_int_equal(compress_choose(&st, 280 * MB, 100 * MB, 0, 16), COMPRESS_RAW);
	assert_int_equal(compress_choose(&st, 300 * MB, 100 * MB, 0, 16), COMPRESS_PAYS);
	/* once on, 2.8 and 2 times keep it on */
	assert_int_equal(compress_choose(&st, 280 * MB, 100 * MB, 0, 16), COMPRESS_PAYS);
	assert_int_equal(compress_choose(&st, 200 * MB, 100 * MB, 0, 16), COMPRESS_PAYS);
	/* under 2 turns it off, and 2.8 does not turn it on again */
	assert_int_equal(compress_choose(&st, 199 * MB, 100 * MB, 0, 16), COMPRESS_RAW);
	assert_int_equal(compress_choose(&st, 280 * MB, 100 * MB, 0, 16), COMPRESS_RAW);
	/* a faster link seen later (wire_peak only grows) turns it off */
	assert_int_equal(compress_choose(&st, 400 * MB, 100 * MB, 0, 16), COMPRESS_PAYS);
	assert_int_equal(compress_choose(&st, 400 * MB, 250 * MB, 0, 16), COMPRESS_RAW);
}

static void probes_keep_the_gain_measured(void **state)
{
	struct compress_state st = { 0 };
	unsigned probes = 0;

	(void)state;
	/* nothing compressed yet: deflate (incompressible data costs a trial) */
	for (int i = 0; i < 5; i++)
		assert_int_equal(compress_choose(&st, -1, 400 * MB, 0, 16), COMPRESS_PROBE);
	/* measured and not paying: one slot in 32 deflates, the rest go raw */
	for (unsigned i = 0; i < 4 * COMPRESS_PROBE_EVERY; i++) {
		enum compress_reason r = compress_choose(&st, 300 * MB, 400 * MB, 0, 16);

		assert_true(r == COMPRESS_RAW || r == COMPRESS_PROBE);
		if (r == COMPRESS_PROBE) {
			probes++;
			assert_int_equal(st.raw_slots, 0);
		}
	}
	assert_int_equal(probes, 4);
	/* a probe that finds a better gain turns deflate on */
	assert_int_equal(compress_choose(&st, 1300 * MB, 400 * MB, 0, 16), COMPRESS_PAYS);
}

static void link_unknown_queue_decides(void **state)
{
	struct compress_state st = { 0 };

	(void)state;
	/* the ticker has not measured the link yet: the sender's queue decides */
	assert_int_equal(compress_choose(&st, 300 * MB, 0, 1, 16), COMPRESS_RAW);
	assert_int_equal(compress_choose(&st, 300 * MB, 0, 3, 16), COMPRESS_QUEUE);
	/* on until the queue is empty */
	assert_int_equal(compress_choose(&st, 300 * MB, 0, 1, 16), COMPRESS_QUEUE);
	assert_int_equal(compress_choose(&st, 300 * MB, 0, 0, 16), COMPRESS_RAW);
	/* a ring of 2 cannot queue 3: a full one counts */
	assert_int_equal(compress_choose(&st, 300 * MB, 0, 2, 2), COMPRESS_QUEUE);
	/* the queue also turns deflate on where the rates say raw (a link that
	 * became slower than its peak) */
	st = (struct compress_state){ 0 };
	assert_int_equal(compress_choose(&st, 300 * MB, 400 * MB, 4, 16), COMPRESS_QUEUE);
	assert_int_equal(compress_choose(&st, 300 * MB, 400 * MB, 0, 16), COMPRESS_RAW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gain_is_saved_over_time),
		cmocka_unit_test(slow_link_deflates),
		cmocka_unit_test(fast_link_stays_raw),
		cmocka_unit_test(gap_between_on_and_off),
		cmocka_unit_test(probes_keep_the_gain_measured),
		cmocka_unit_test(link_unknown_queue_decides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
