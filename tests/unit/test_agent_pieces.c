// SPDX-License-Identifier: GPL-2.0-or-later
/* A rescan's finer comparison (pieces.h): which 4 KiB pieces differ, when a
 * block goes whole, and the runs of a slot's plan that become frames:
 * adjacent pieces coalesced within and across blocks, zero and data runs
 * kept apart, a short block at the disk's end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pieces.h"

struct run {
	unsigned first, count;
};

/* Every run of kind[0..n) into out; returns how many. */
static unsigned runs(const uint8_t *kind, unsigned n, struct run *out, unsigned max)
{
	unsigned first, count, k = 0;

	for (unsigned p = 0; pieces_next_run(kind, n, p, &first, &count); p = first + count) {
		assert_true(k < max);
		out[k++] = (struct run){ first, count };
	}
	return k;
}

/* Hashes of n pieces; the pieces in `changed` get another value in b. */
static void two_sides(uint8_t *a, uint8_t *b, unsigned n, uint32_t changed)
{
	for (unsigned j = 0; j < n; j++) {
		memset(a + j * FRAME_HASH_LEN, (int)j + 1, FRAME_HASH_LEN);
		memcpy(b + j * FRAME_HASH_LEN, a + j * FRAME_HASH_LEN, FRAME_HASH_LEN);
		if (changed >> j & 1)
			b[j * FRAME_HASH_LEN + FRAME_HASH_LEN - 1] ^= 0x80; /* the last byte only */
	}
}

static void differ_finds_each_piece(void **state)
{
	uint8_t a[PIECES_PER_BLOCK * FRAME_HASH_LEN], b[sizeof(a)];

	(void)state;
	assert_int_equal(PIECES_PER_BLOCK, 16);
	two_sides(a, b, 16, 0);
	assert_int_equal(pieces_differ(a, b, 16), 0);
	two_sides(a, b, 16, 0x8001);
	assert_int_equal(pieces_differ(a, b, 16), 0x8001);
	two_sides(a, b, 16, 0xffff);
	assert_int_equal(pieces_differ(a, b, 16), 0xffff);
	/* a short block compares only its own pieces */
	two_sides(a, b, 16, 0x0018);
	assert_int_equal(pieces_differ(a, b, 3), 0);
	assert_int_equal(pieces_differ(a, b, 4), 0x0008);
}

static void half_or_more_goes_whole(void **state)
{
	(void)state;
	assert_false(pieces_send_whole(0x0001, 16));
	assert_false(pieces_send_whole(0x5554, 16)); /* 7 of 16 */
	assert_true(pieces_send_whole(0x5555, 16));  /* 8 of 16 */
	assert_true(pieces_send_whole(0xffff, 16));
	/* a block of 3 pieces at the disk's end: 1 is less than half, 2 is not */
	assert_false(pieces_send_whole(0x4, 3));
	assert_true(pieces_send_whole(0x5, 3));
}

static void plan_of_a_block(void **state)
{
	uint8_t kind[16];
	struct run r[16];

	(void)state;
	pieces_plan_block(kind, 16, 0x0006); /* pieces 1 and 2: one run */
	assert_int_equal(runs(kind, 16, r, 16), 1);
	assert_int_equal(r[0].first, 1);
	assert_int_equal(r[0].count, 2);
	for (unsigned j = 0; j < 16; j++)
		assert_int_equal(kind[j], j == 1 || j == 2 ? PIECE_DATA : PIECE_SKIP);

	pieces_plan_block(kind, 16, 0x1555); /* 7 apart: 7 runs of one piece */
	assert_int_equal(runs(kind, 16, r, 16), 7);
	for (unsigned k = 0; k < 7; k++) {
		assert_int_equal(r[k].first, 2 * k);
		assert_int_equal(r[k].count, 1);
	}

	pieces_plan_block(kind, 16, 0x5555); /* 8: the whole block, one run */
	assert_int_equal(runs(kind, 16, r, 16), 1);
	assert_int_equal(r[0].first, 0);
	assert_int_equal(r[0].count, 16);
}

/* A slot of 3 blocks: pieces of block 0 that touch whole block 1 make one
 * run with it; block 2 is zero and stays a run of its own. */
static void runs_cross_blocks_but_not_kinds(void **state)
{
	uint8_t kind[3 * 16];
	struct run r[8];

	(void)state;
	pieces_plan_block(kind, 16, 0xc000);      /* pieces 14, 15 */
	pieces_plan_block(kind + 16, 16, 0xffff); /* whole */
	memset(kind + 32, PIECE_ZERO, 16);
	assert_int_equal(runs(kind, 48, r, 8), 2);
	assert_int_equal(r[0].first, 14);
	assert_int_equal(r[0].count, 18);
	assert_int_equal(kind[r[0].first], PIECE_DATA);
	assert_int_equal(r[1].first, 32);
	assert_int_equal(r[1].count, 16);
	assert_int_equal(kind[r[1].first], PIECE_ZERO);

	/* nothing to send: no run */
	memset(kind, PIECE_SKIP, sizeof(kind));
	assert_int_equal(runs(kind, 48, r, 8), 0);
}

/* The worst slot a plan can make stays within a slot's frames (ring.h):
 * 16 blocks of 7 lone pieces each. */
static void worst_slot_fits_a_slot(void **state)
{
	uint8_t kind[PIECES_PER_CHUNK];
	struct run r[PIECES_PER_CHUNK];

	(void)state;
	for (unsigned i = 0; i < BLOCKS_PER_CHUNK; i++)
		pieces_plan_block(kind + i * 16, 16, 0x1555);
	assert_int_equal(runs(kind, PIECES_PER_CHUNK, r, PIECES_PER_CHUNK), 112);
	assert_true(112 + BLOCKS_PER_CHUNK <= SLOT_MAX_FRAMES);
}

/* A kmod round's slot reads only the bytes [lo, hi) (reader.c): the blocks
 * at its edges send the pieces inside, as one run with the whole blocks
 * between, and nothing outside. */
static void plan_of_a_read_range(void **state)
{
	uint8_t kind[3 * 16];
	struct run r[4];

	(void)state;
	/* pieces 14 and 15 of block 0 ... pieces 0 to 2 of block 2 */
	assert_int_equal(pieces_plan_range(kind, 16, 0, 14 * PIECE_SIZE, 2 * BLOCK_SIZE + 3 * PIECE_SIZE), 2);
	memset(kind + 16, PIECE_DATA, 16);
	assert_int_equal(pieces_plan_range(kind + 32, 16, 2 * BLOCK_SIZE, 14 * PIECE_SIZE,
					   2 * BLOCK_SIZE + 3 * PIECE_SIZE), 3);
	assert_int_equal(runs(kind, 48, r, 4), 1);
	assert_int_equal(r[0].first, 14);
	assert_int_equal(r[0].count, 2 + 16 + 3);

	/* one 4 KiB piece in the middle of a block; a short block at the disk's
	 * end whose last piece is short: it starts inside, so it goes */
	assert_int_equal(pieces_plan_range(kind, 16, BLOCK_SIZE, BLOCK_SIZE + 5 * PIECE_SIZE,
					   BLOCK_SIZE + 6 * PIECE_SIZE), 1);
	for (unsigned j = 0; j < 16; j++)
		assert_int_equal(kind[j], j == 5 ? PIECE_DATA : PIECE_SKIP);
	assert_int_equal(pieces_plan_range(kind, 3, 0, 1 * PIECE_SIZE, 2 * PIECE_SIZE + 512), 2);
	assert_int_equal(kind[0], PIECE_SKIP);
	assert_int_equal(kind[1], PIECE_DATA);
	assert_int_equal(kind[2], PIECE_DATA);
}

static void piece_counts(void **state)
{
	(void)state;
	assert_int_equal(pieces_in(0), 0);
	assert_int_equal(pieces_in(1), 1);
	assert_int_equal(pieces_in(4096), 1);
	assert_int_equal(pieces_in(4097), 2);
	assert_int_equal(pieces_in(BLOCK_SIZE), 16);
	assert_int_equal(pieces_in(CHUNK_SIZE), PIECES_PER_CHUNK);
}

/* Whether pieces pay, with figures from the slow-link bench (100 Mbit/s,
 * a slot holding one or two changed blocks, or a whole 1 MiB of them). */
static void pieces_pay_weighs_bytes_against_round_trips(void **state)
{
	const double link = 12.5e6; /* 100 Mbit/s in bytes/s */
	const uint64_t one = BLOCK_SIZE - PIECE_SIZE, two = 2 * one, three = 3 * one;
	const uint64_t full = 16 * one; /* a 1 MiB slot of 16 changed blocks */

	(void)state;
	/* loopback, 0.5 ms at 300 MB/s: 60 KiB weigh 0.8 ms, pieces */
	assert_int_equal(pieces_pay(one, 300e6, 500000, 0), 1);
	/* but not at 2 ms */
	assert_int_equal(pieces_pay(one, 300e6, 2000000, 0), 0);
	/* 50 ms at 100 Mbit/s: one and two blocks (19.7, 39.3 ms) go whole,
	 * three (59 ms) and a full slot ask */
	assert_int_equal(pieces_pay(one, link, 50000000, 0), 0);
	assert_int_equal(pieces_pay(two, link, 50000000, 0), 0);
	assert_int_equal(pieces_pay(three, link, 50000000, 0), 1);
	assert_int_equal(pieces_pay(full, link, 50000000, 0), 1);
	/* 10 ms at 1 Gbit/s: 5 blocks (9.8 ms) whole, 6 ask */
	assert_int_equal(pieces_pay(5 * one, 125e6, 10000000, 0), 0);
	assert_int_equal(pieces_pay(6 * one, 125e6, 10000000, 0), 1);
	/* a slow link (bandwidth_limit = 256K): pieces pay even at 50 ms */
	assert_int_equal(pieces_pay(one, 256.0 * 1024, 50000000, 0), 1);
	/* nothing to save: no request */
	assert_int_equal(pieces_pay(0, link, 500000, 0), 0);
}

/* Before either figure is measured a slot asks (so the round trip gets
 * measured), and one slot in PIECES_PROBE_EVERY asks anyway. */
static void pieces_pay_asks_when_unknown_and_probes(void **state)
{
	const uint64_t one = BLOCK_SIZE - PIECE_SIZE;

	(void)state;
	assert_int_equal(pieces_pay(one, 12.5e6, 0, 0), 1);
	assert_int_equal(pieces_pay(one, 0, 50000000, 0), 1);
	assert_int_equal(pieces_pay(one, 12.5e6, 50000000, PIECES_PROBE_EVERY - 2), 0);
	assert_int_equal(pieces_pay(one, 12.5e6, 50000000, PIECES_PROBE_EVERY - 1), 1);
}

/* The round trip estimate: the first answer, then the shortest; a longer
 * answer (queued behind a round's frames) moves it up by 1/32 only. */
static void round_trip_follows_the_shortest_answer(void **state)
{
	uint64_t est;

	(void)state;
	assert_int_equal(pieces_round_trip(0, 50000000), 50000000);
	assert_int_equal(pieces_round_trip(50000000, 300000), 300000);
	est = pieces_round_trip(300000, 32300000); /* 32 ms of queue */
	assert_int_equal(est, 1300000);
	for (int i = 0; i < 200; i++)
		est = pieces_round_trip(est, 50000000); /* the link became slower */
	assert_true(est > 49000000 && est <= 50000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(differ_finds_each_piece),
		cmocka_unit_test(half_or_more_goes_whole),
		cmocka_unit_test(plan_of_a_block),
		cmocka_unit_test(plan_of_a_read_range),
		cmocka_unit_test(runs_cross_blocks_but_not_kinds),
		cmocka_unit_test(worst_slot_fits_a_slot),
		cmocka_unit_test(piece_counts),
		cmocka_unit_test(pieces_pay_weighs_bytes_against_round_trips),
		cmocka_unit_test(pieces_pay_asks_when_unknown_and_probes),
		cmocka_unit_test(round_trip_follows_the_shortest_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
