// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A HASH_REQ's hashes (src/staging/hashes.c) over a volume of a backend
 * made here: it says where data may be (ranges in any order, reaching past
 * the request), keeps a pattern, and counts what is read. Blocks with data
 * hash as read, in runs of up to the buffer; the others hash as zeros and
 * are never read; the block at the disk's end is clipped; a backend with
 * only next_data is asked extent by extent; a failing backend fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "blockhash.h"
#include "hashes.h"
#include "store_backend.h"

#define KIB 1024u

struct fake {
	struct store_volume base;
	uint64_t ranges[8][2]; /* where data may be, as the backend says */
	int n_ranges, fail;
	uint64_t read_bytes;
	int reads;
};

/* every byte's value: its offset's, so that any misplaced read shows */
static uint8_t byte_at(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 4096);
}

static int fake_read(struct store_volume *v, void *buf, size_t len, uint64_t off)
{
	struct fake *f = (struct fake *)v;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = byte_at(off + i);
	f->reads++;
	f->read_bytes += len;
	return 0;
}

static int fake_ranges(struct store_volume *v, uint64_t off, uint64_t len,
		       int (*found)(void *arg, uint64_t start, uint64_t end), void *arg)
{
	struct fake *f = (struct fake *)v;

	(void)off;
	(void)len;
	if (f->fail)
		return -ETIMEDOUT;
	/* newest first: the order is the backend's */
	for (int i = f->n_ranges - 1; i >= 0; i--) {
		int rc = found(arg, f->ranges[i][0], f->ranges[i][1]);

		if (rc)
			return rc;
	}
	return 0;
}

/* the files backend's way: the first extent at or after from */
static int fake_next_data(struct store_volume *v, uint64_t from, uint64_t *start, uint64_t *end)
{
	struct fake *f = (struct fake *)v;

	*start = *end = UINT64_MAX;
	for (int i = 0; i < f->n_ranges; i++)
		if (f->ranges[i][1] > from && f->ranges[i][0] < *start) {
			*start = f->ranges[i][0] > from ? f->ranges[i][0] : from;
			*end = f->ranges[i][1];
		}
	return 0;
}

static const struct store_backend_ops with_ranges = {
	.name = "fake", .read = fake_read, .next_data = fake_next_data, .data_ranges = fake_ranges,
};
static const struct store_backend_ops extents_only = {
	.name = "fake", .read = fake_read, .next_data = fake_next_data,
};

/* what hashes_compute must give for block i of bs from offset */
static void expected(const struct fake *f, uint64_t size, uint64_t offset, uint32_t bs, uint32_t i,
		     uint8_t out[FRAME_HASH_LEN])
{
	static uint8_t block[256 * KIB];
	uint64_t start = offset + (uint64_t)i * bs, len = size - start < bs ? size - start : bs;
	int data = 0;

	for (int r = 0; r < f->n_ranges; r++)
		data |= f->ranges[r][0] < start + len && f->ranges[r][1] > start;
	if (!data) {
		blockhash_zero(len, out);
		return;
	}
	for (uint64_t k = 0; k < len; k++)
		block[k] = byte_at(start + k);
	blockhash(block, len, out);
}

static void check_all(const struct fake *f, uint64_t size, uint64_t offset, uint32_t bs, uint32_t count,
		      const uint8_t *out)
{
	uint8_t want[FRAME_HASH_LEN];

	for (uint32_t i = 0; i < count; i++) {
		expected(f, size, offset, bs, i, want);
		assert_memory_equal(out + (size_t)i * FRAME_HASH_LEN, want, FRAME_HASH_LEN);
	}
}

static uint8_t out[FRAME_MAX_HASHES * FRAME_HASH_LEN], buf[256 * KIB];

static void test_holes_unread(void **state)
{
	const uint64_t size = 64 * 1024 * KIB; /* 64 MiB: 1024 blocks of 64 KiB */
	struct fake f = { .base.ops = &with_ranges, .n_ranges = 3,
			  /* one object, one beyond the request, one straddling its start */
			  .ranges = { { 4096 * KIB, 8192 * KIB }, { 60 * 1024 * KIB, 64 * 1024 * KIB },
				      { 1000 * KIB, 1100 * KIB } } };

	(void)state;
	/* 900 blocks of 64 KiB from 1 MiB (to 57.25 MiB) */
	assert_int_equal(hashes_compute(&f.base, size, 1024 * KIB, 64 * KIB, 900, out, buf, sizeof(buf)), 0);
	check_all(&f, size, 1024 * KIB, 64 * KIB, 900, out);
	/* read: blocks 0 and 1 (1000..1100 KiB reaches into both), in one
	 * piece, and the 64 blocks of 4..8 MiB in pieces of 4 (the buffer's
	 * 256 KiB); the range past the request, nothing */
	assert_int_equal(f.read_bytes, (2 + 64) * 64 * KIB);
	assert_int_equal(f.reads, 1 + 16);
}

static void test_clipped_end(void **state)
{
	const uint64_t size = 1000 * KIB + 123; /* the last block is short */
	struct fake f = { .base.ops = &with_ranges, .n_ranges = 1, .ranges = { { 0, UINT64_MAX } } };
	struct fake empty = { .base.ops = &with_ranges };

	(void)state;
	assert_int_equal(hashes_compute(&f.base, size, 0, 64 * KIB, 16, out, buf, sizeof(buf)), 0);
	check_all(&f, size, 0, 64 * KIB, 16, out);
	assert_int_equal(f.read_bytes, size);
	/* a short hole at the end hashes as its own length of zeros */
	assert_int_equal(hashes_compute(&empty.base, size, 0, 64 * KIB, 16, out, buf, sizeof(buf)), 0);
	check_all(&empty, size, 0, 64 * KIB, 16, out);
	assert_int_equal(empty.reads, 0);
	/* 4 KiB pieces, as a rescan asks for a block's */
	assert_int_equal(hashes_compute(&f.base, size, 960 * KIB, 4 * KIB, 11, out, buf, sizeof(buf)), 0);
	check_all(&f, size, 960 * KIB, 4 * KIB, 11, out);
}

static void test_extents_only(void **state)
{
	const uint64_t size = 16 * 1024 * KIB;
	struct fake f = { .base.ops = &extents_only, .n_ranges = 2,
			  .ranges = { { 100 * KIB, 200 * KIB }, { 5000 * KIB, 5001 * KIB } } };

	(void)state;
	assert_int_equal(hashes_compute(&f.base, size, 0, 64 * KIB, 256, out, buf, sizeof(buf)), 0);
	check_all(&f, size, 0, 64 * KIB, 256, out);
	/* blocks 1..3 (64..256 KiB) and block 78 (4992..5056 KiB) */
	assert_int_equal(f.read_bytes, 4 * 64 * KIB);
}

static void test_refused(void **state)
{
	struct fake f = { .base.ops = &with_ranges, .fail = 1 };

	(void)state;
	assert_int_equal(hashes_compute(&f.base, 1024 * KIB, 0, 64 * KIB, 16, out, buf, sizeof(buf)), -ETIMEDOUT);
	f.fail = 0;
	assert_int_equal(hashes_compute(&f.base, 1024 * KIB, 0, 64 * KIB, 0, out, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(hashes_compute(&f.base, 1024 * KIB, 0, 64 * KIB, FRAME_MAX_HASHES + 1, out, buf,
					sizeof(buf)), -EINVAL);
	assert_int_equal(hashes_compute(&f.base, 1024 * KIB, 0, 64 * KIB, 1, out, buf, 4096), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holes_unread),
		cmocka_unit_test(test_clipped_end),
		cmocka_unit_test(test_extents_only),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
