// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-frame codec: ISA-L deflate to zlib format, ISA-L inflate back.
 * Besides round trips, this holds the wire promise that plain zlib inflates
 * what we send, and that codec_inflate() takes what zlib produces, and
 * refuses every stream whose output is not exactly the declared length.
 * ISA-L itself is not built with sanitizers, so writes past an output
 * buffer are checked with guard bytes rather than left to ASan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "codec.h"
#include "frame.h"

#define MiB (1u << 20)
#define GUARD 4096
#define GUARD_BYTE 0xa5

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void)
{
	/* xorshift64: deterministic, so a failure reproduces */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(next_rand() >> 32);
}

static void fill_text(uint8_t *p, size_t n)
{
	static const char *const words[] = {
		"the ", "replica ", "block ", "disk ", "staging ", "agent ", "dirty ",
		"extent ", "flushes ", "of ", "a ", "to ", "and ", "is ", "checkpoint ",
		"migration\n", "ACK ", "4096 ", "bytes, ", "compressed. ",
	};
	size_t i = 0;

	while (i < n) {
		const char *w = words[next_rand() % (sizeof(words) / sizeof(words[0]))];

		for (size_t k = 0; w[k] && i < n; k++)
			p[i++] = (uint8_t)w[k];
	}
}

/* 64 KiB stretches of zeros, text, random and low-entropy bytes in turn. */
static void fill_mixed(uint8_t *p, size_t n)
{
	const size_t chunk = 64u << 10;

	for (size_t off = 0, k = 0; off < n; off += chunk, k++) {
		size_t len = n - off < chunk ? n - off : chunk;

		switch (k % 4) {
		case 0: memset(p + off, 0, len); break;
		case 1: fill_text(p + off, len); break;
		case 2: fill_random(p + off, len); break;
		default:
			for (size_t i = 0; i < len; i++)
				p[off + i] = (uint8_t)(next_rand() % 16);
			break;
		}
	}
}

static uint8_t *guarded(size_t n)
{
	uint8_t *p = malloc(n + GUARD);

	assert_non_null(p);
	memset(p, GUARD_BYTE, n + GUARD);
	return p;
}

static void check_guard(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < GUARD; i++)
		if (p[n + i] != GUARD_BYTE)
			fail_msg("write %zu bytes past a %zu-byte buffer", i + 1, n);
}

/* Inflate with zlib's streaming API, feeding small pieces both ways. */
static void zlib_stream_inflate(const uint8_t *z, size_t zlen, uint8_t *out, size_t n)
{
	z_stream s;
	int rc;

	memset(&s, 0, sizeof(s));
	assert_int_equal(inflateInit(&s), Z_OK);
	s.next_out = out;
	do {
		size_t in_left = zlen - (size_t)s.total_in;
		size_t out_left = n - (size_t)s.total_out;

		s.next_in = (Bytef *)z + s.total_in;
		s.avail_in = (uInt)(in_left < 997 ? in_left : 997);
		s.next_out = out + s.total_out;
		s.avail_out = (uInt)(out_left < 4099 ? out_left : 4099);
		rc = inflate(&s, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
	} while (rc != Z_STREAM_END);
	assert_int_equal(s.total_out, n);
	assert_int_equal(s.total_in, zlen); /* nothing after the stream */
	assert_int_equal(inflateEnd(&s), Z_OK);
}

/* Compress src with codec_deflate; check ISA-L, zlib one-shot and zlib
 * streaming all restore it. Returns the compressed size. */
static size_t roundtrip(struct codec_enc *e, const uint8_t *src, size_t n)
{
	size_t cap = codec_deflate_bound(n);
	uint8_t *z = guarded(cap), *back = guarded(n);
	uLongf blen = n;
	size_t c;

	c = codec_deflate(e, src, n, z, cap);
	check_guard(z, cap);
	if (c == 0)
		fail_msg("%zu compressible bytes not compressed", n);
	assert_true(c <= n - n / 16);
	/* the zlib wrapper: CM 8 (deflate), header checksum */
	assert_int_equal(z[0] & 0x0f, 8);
	assert_int_equal(((unsigned)z[0] << 8 | z[1]) % 31, 0);

	assert_int_equal(codec_inflate(z, c, back, n), 0);
	check_guard(back, n);
	assert_memory_equal(back, src, n);

	memset(back, 0, n);
	assert_int_equal(uncompress(back, &blen, z, c), Z_OK);
	assert_int_equal(blen, n);
	assert_memory_equal(back, src, n);

	memset(back, 0, n);
	zlib_stream_inflate(z, c, back, n);
	assert_memory_equal(back, src, n);

	free(z);
	free(back);
	return c;
}

static int setup(void **state)
{
	*state = codec_enc_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	codec_enc_free(*state);
	return 0;
}

static void test_roundtrip_zeros(void **state)
{
	uint8_t *p = calloc(1, MiB);

	assert_non_null(p);
	assert_true(roundtrip(*state, p, MiB) < 8192);
	free(p);
}

static void test_roundtrip_text(void **state)
{
	uint8_t *p = malloc(MiB);

	assert_non_null(p);
	fill_text(p, MiB);
	assert_true(roundtrip(*state, p, MiB) < MiB / 2);
	free(p);
}

static void test_roundtrip_low_entropy_random(void **state)
{
	uint8_t *p = malloc(MiB);

	assert_non_null(p);
	for (size_t i = 0; i < MiB; i++)
		p[i] = (uint8_t)(next_rand() % 16); /* 4 bits of entropy per byte */
	assert_true(roundtrip(*state, p, MiB) < MiB * 3 / 4);
	free(p);
}

static void test_roundtrip_mixed(void **state)
{
	uint8_t *p = malloc(MiB);

	assert_non_null(p);
	fill_mixed(p, MiB);
	roundtrip(*state, p, MiB);
	free(p);
}

static void test_roundtrip_odd_sizes(void **state)
{
	static const size_t sizes[] = { 4095, 4097, 65537, 1000003, FRAME_MAX_RAW };
	uint8_t *p = malloc(FRAME_MAX_RAW);

	assert_non_null(p);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_text(p, sizes[i]);
		roundtrip(*state, p, sizes[i]);
		fill_mixed(p, sizes[i]);
		roundtrip(*state, p, sizes[i]);
	}
	/* the same encoder, reused, gives the same bytes for the same input */
	{
		size_t cap = codec_deflate_bound(65536);
		uint8_t *a = malloc(cap), *b = malloc(cap);
		size_t ca, cb;

		assert_non_null(a);
		assert_non_null(b);
		fill_text(p, 65536);
		ca = codec_deflate(*state, p, 65536, a, cap);
		fill_random(p + 65536, 65536);
		assert_int_equal(codec_deflate(*state, p + 65536, 65536, b, cap), 0);
		cb = codec_deflate(*state, p, 65536, b, cap);
		assert_true(ca > 0);
		assert_int_equal(ca, cb);
		assert_memory_equal(a, b, ca);
		free(a);
		free(b);
	}
	free(p);
}

/* Up to 8 bytes never shrink: the zlib wrapper is 6 bytes and a deflate
 * block at least 2 more. */
static void test_tiny_not_worth(void **state)
{
	uint8_t src[8] = { 0 }, out[2048];

	for (size_t n = 0; n <= sizeof(src); n++)
		assert_int_equal(codec_deflate(*state, src, n, out, sizeof(out)), 0);
}

static void test_incompressible(void **state)
{
	uint8_t *p = malloc(MiB), *z = guarded(codec_deflate_bound(MiB));
	size_t c;

	assert_non_null(p);
	fill_random(p, MiB);
	assert_int_equal(codec_deflate(*state, p, MiB, z, codec_deflate_bound(MiB)), 0);
	check_guard(z, codec_deflate_bound(MiB));
	fill_random(p, 4096);
	assert_int_equal(codec_deflate(*state, p, 4096, z, codec_deflate_bound(4096)), 0);

	/* 1/32 zeros then random: saves ~3%, under the 1/16 threshold */
	fill_random(p, MiB);
	memset(p, 0, MiB / 32);
	assert_int_equal(codec_deflate(*state, p, MiB, z, codec_deflate_bound(MiB)), 0);
	/* 1/4 zeros then random: saves ~25%, worth sending compressed */
	memset(p, 0, MiB / 4);
	c = codec_deflate(*state, p, MiB, z, codec_deflate_bound(MiB));
	assert_true(c > 0);
	assert_true(c <= MiB - MiB / 16);
	assert_true(c > MiB / 2);
	free(p);
	free(z);
}

/* An output buffer too small for the stream: 0, nothing written past it. */
static void test_deflate_small_cap(void **state)
{
	size_t n = 256u << 10, full_cap = codec_deflate_bound(n), c;
	uint8_t *p = malloc(n), *full = malloc(full_cap), *back = malloc(n);

	assert_non_null(p);
	assert_non_null(full);
	assert_non_null(back);
	fill_text(p, n);
	c = codec_deflate(*state, p, n, full, full_cap);
	assert_true(c > 0);
	for (size_t cap = 0; cap < c; cap += (cap < 64 ? 1 : c / 7)) {
		uint8_t *z = guarded(cap);

		assert_int_equal(codec_deflate(*state, p, n, z, cap), 0);
		check_guard(z, cap);
		free(z);
	}
	{
		uint8_t *z = guarded(c - 1);

		assert_int_equal(codec_deflate(*state, p, n, z, c - 1), 0);
		check_guard(z, c - 1);
		free(z);
		z = guarded(c);
		assert_int_equal(codec_deflate(*state, p, n, z, c), c);
		check_guard(z, c);
		assert_memory_equal(z, full, c);
		assert_int_equal(codec_inflate(z, c, back, n), 0);
		assert_memory_equal(back, p, n);
		free(z);
	}
	free(p);
	free(full);
	free(back);
}

/* What any zlib sender produces, codec_inflate takes: every level,
 * stored blocks, 1-byte and empty-window inputs. */
static void test_inflate_zlib_produced(void **state)
{
	static const size_t sizes[] = { 1, 2, 100, 4095, 65536, 300000 };
	uint8_t *p = malloc(300000), *back = guarded(300000);
	uLongf zcap = compressBound(300000);
	uint8_t *z = malloc(zcap);

	(void)state;
	assert_non_null(p);
	assert_non_null(z);
	fill_mixed(p, 300000);
	p[0] = 'x';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int level = 0; level <= 9; level += (level < 2 ? 1 : 3)) {
			uLongf zlen = zcap;

			assert_int_equal(compress2(z, &zlen, p, sizes[i], level), Z_OK);
			memset(back, 0, sizes[i]);
			if (codec_inflate(z, zlen, back, sizes[i]))
				fail_msg("zlib level %d stream of %zu bytes rejected", level, sizes[i]);
			check_guard(back, sizes[i]);
			assert_memory_equal(back, p, sizes[i]);
		}
	}
	free(p);
	free(back);
	free(z);
}

/* A stream that inflates to more than declared is stopped at dst's end. */
static void test_inflate_bomb(void **state)
{
	size_t n = 4 * MiB, cap = codec_deflate_bound(n), c;
	uint8_t *zeros = calloc(1, n), *z = malloc(cap);
	static const size_t expects[] = { 1, 4096, 65536, 4 * MiB - 1 };

	assert_non_null(zeros);
	assert_non_null(z);
	c = codec_deflate(*state, zeros, n, z, cap);
	assert_true(c > 0 && c < 65536); /* > 64x expansion */
	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		uint8_t *dst = guarded(expects[i]);

		assert_int_equal(codec_inflate(z, c, dst, expects[i]), -EBADMSG);
		check_guard(dst, expects[i]);
		free(dst);
	}
	free(zeros);
	free(z);
}

static void test_inflate_expect_larger(void **state)
{
	size_t n = 100000, cap = codec_deflate_bound(n), c;
	uint8_t *p = malloc(n), *z = malloc(cap), *dst = guarded(2 * n);

	assert_non_null(p);
	assert_non_null(z);
	fill_text(p, n);
	c = codec_deflate(*state, p, n, z, cap);
	assert_true(c > 0);
	assert_int_equal(codec_inflate(z, c, dst, n + 1), -EBADMSG);
	assert_int_equal(codec_inflate(z, c, dst, 2 * n), -EBADMSG);
	check_guard(dst, 2 * n);
	assert_int_equal(codec_inflate(z, c, dst, n), 0);
	assert_memory_equal(dst, p, n);
	free(p);
	free(z);
	free(dst);
}

static void test_inflate_truncated(void **state)
{
	size_t n = 65536, cap = codec_deflate_bound(n), c;
	uint8_t *p = malloc(n), *z = malloc(cap), *dst = guarded(n);

	assert_non_null(p);
	assert_non_null(z);
	fill_mixed(p, n);
	fill_text(p + n / 2, n / 2);
	c = codec_deflate(*state, p, n, z, cap);
	assert_true(c > 0);
	for (size_t k = 0; k < c; k++) {
		/* an exactly-sized copy, so ASan sees reads past the input */
		uint8_t *cut = malloc(k ? k : 1);

		assert_non_null(cut);
		memcpy(cut, z, k);
		if (codec_inflate(cut, k, dst, n) != -EBADMSG)
			fail_msg("stream truncated to %zu of %zu bytes accepted", k, c);
		free(cut);
	}
	check_guard(dst, n);
	assert_int_equal(codec_inflate(z, c, dst, n), 0);
	free(p);
	free(z);
	free(dst);
}

/* Every single-bit corruption: codec_inflate never accepts what zlib
 * rejects, and what it accepts it inflates as zlib does. Header and
 * Adler-32 trailer damage is always caught. (Adler-32 is weak: a flip in
 * the deflate data can, rarely, decode to different bytes with the same
 * checksum; zlib accepts those too, so the format cannot do better.) */
static void test_inflate_corrupted(void **state)
{
	size_t n = 8192, cap = codec_deflate_bound(n), c, rejected = 0, tried = 0;
	uint8_t *p = malloc(n), *z = malloc(cap), *ours = guarded(n), *theirs = malloc(n);

	assert_non_null(p);
	assert_non_null(z);
	assert_non_null(theirs);
	fill_text(p, n);
	c = codec_deflate(*state, p, n, z, cap);
	assert_true(c > 16);
	for (size_t pos = 0; pos < c; pos++) {
		for (int bit = 0; bit < 8; bit++) {
			uLongf tlen = n;
			int zrc, rc;

			z[pos] ^= (uint8_t)(1u << bit);
			rc = codec_inflate(z, c, ours, n);
			zrc = uncompress(theirs, &tlen, z, c);
			z[pos] ^= (uint8_t)(1u << bit);
			tried++;
			if (rc == 0) {
				if (zrc != Z_OK || tlen != n)
					fail_msg("flip of bit %d in byte %zu: accepted, zlib says %d", bit,
						 pos, zrc);
				assert_memory_equal(ours, theirs, n);
			} else {
				assert_int_equal(rc, -EBADMSG);
				rejected++;
			}
			if (pos < 2 || pos >= c - 4)
				if (rc != -EBADMSG)
					fail_msg("flip of bit %d in wrapper byte %zu accepted", bit, pos);
		}
	}
	check_guard(ours, n);
	/* the overwhelming majority is caught */
	assert_true(rejected * 100 >= tried * 99);
	free(p);
	free(z);
	free(ours);
	free(theirs);
}

static void test_inflate_trailing_garbage(void **state)
{
	size_t n = 50000, cap = codec_deflate_bound(n) * 2 + 64, c;
	uint8_t *p = malloc(n), *z = malloc(cap), *dst = guarded(n);

	assert_non_null(p);
	assert_non_null(z);
	fill_text(p, n);
	c = codec_deflate(*state, p, n, z, cap);
	assert_true(c > 0);
	/* 1..32 extra bytes, zeros and random: ISA-L reads ahead up to 8 */
	for (size_t extra = 1; extra <= 32; extra++) {
		memset(z + c, 0, extra);
		if (codec_inflate(z, c + extra, dst, n) != -EBADMSG)
			fail_msg("%zu zero bytes after the stream accepted", extra);
		fill_random(z + c, extra);
		if (codec_inflate(z, c + extra, dst, n) != -EBADMSG)
			fail_msg("%zu random bytes after the stream accepted", extra);
	}
	/* a second complete stream behind the first */
	memcpy(z + c, z, c);
	assert_int_equal(codec_inflate(z, 2 * c, dst, n), -EBADMSG);
	check_guard(dst, n);
	assert_int_equal(codec_inflate(z, c, dst, n), 0);
	assert_memory_equal(dst, p, n);
	free(p);
	free(z);
	free(dst);
}

/* Raw deflate, gzip, and zlib with a preset dictionary are not our format. */
static void test_inflate_wrong_wrapper(void **state)
{
	static const int wbits[] = { -15, 31 };
	uint8_t src[4096], z[8192], dst[4096];
	z_stream s;

	(void)state;
	fill_text(src, sizeof(src));
	for (size_t i = 0; i < 2; i++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, wbits[i], 8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		s.next_in = src;
		s.avail_in = sizeof(src);
		s.next_out = z;
		s.avail_out = sizeof(z);
		assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
		assert_int_equal(codec_inflate(z, s.total_out, dst, sizeof(src)), -EBADMSG);
		deflateEnd(&s);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit(&s, 6), Z_OK);
	assert_int_equal(deflateSetDictionary(&s, (const Bytef *)"the replica block", 17), Z_OK);
	s.next_in = src;
	s.avail_in = sizeof(src);
	s.next_out = z;
	s.avail_out = sizeof(z);
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	assert_true(z[1] & 0x20); /* FDICT */
	assert_int_equal(codec_inflate(z, s.total_out, dst, sizeof(src)), -EBADMSG);
	deflateEnd(&s);
	/* and nothing at all */
	assert_int_equal(codec_inflate(z, 0, dst, sizeof(src)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_zeros),
		cmocka_unit_test(test_roundtrip_text),
		cmocka_unit_test(test_roundtrip_low_entropy_random),
		cmocka_unit_test(test_roundtrip_mixed),
		cmocka_unit_test(test_roundtrip_odd_sizes),
		cmocka_unit_test(test_tiny_not_worth),
		cmocka_unit_test(test_incompressible),
		cmocka_unit_test(test_deflate_small_cap),
		cmocka_unit_test(test_inflate_zlib_produced),
		cmocka_unit_test(test_inflate_bomb),
		cmocka_unit_test(test_inflate_expect_larger),
		cmocka_unit_test(test_inflate_truncated),
		cmocka_unit_test(test_inflate_corrupted),
		cmocka_unit_test(test_inflate_trailing_garbage),
		cmocka_unit_test(test_inflate_wrong_wrapper),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
