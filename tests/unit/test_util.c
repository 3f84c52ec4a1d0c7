// SPDX-License-Identifier: GPL-2.0-or-later
/* util.c (sizes, durations, hex, names, full reads/writes) and blockhash.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "blockhash.h"
#include "util.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

static void size_is(const char *s, uint64_t expect)
{
	uint64_t v = 0xdeadbeef;
	int rc = parse_size(s, &v);

	if (rc || v != expect)
		fail_msg("parse_size(\"%s\"): rc %d value %llu, expected %llu", s, rc,
			 (unsigned long long)v, (unsigned long long)expect);
}

static void size_bad(const char *s)
{
	uint64_t v = 12345;
	int rc = parse_size(s, &v);

	if (rc != -EINVAL)
		fail_msg("parse_size(\"%s\") accepted: %llu", s, (unsigned long long)v);
	assert_int_equal(v, 12345); /* untouched on error */
}

static void test_parse_size(void **state)
{
	(void)state;
	size_is("0", 0);
	size_is("1", 1);
	size_is("250000", 250000);
	size_is("10B", 10);
	size_is("10b", 10);
	/* one letter, binary multiples, either case */
	size_is("1K", KiB);
	size_is("1k", KiB);
	size_is("64M", 64 * MiB);
	size_is("64m", 64 * MiB);
	size_is("3G", 3 * GiB);
	size_is("2T", 2 * TiB);
	size_is("2t", 2 * TiB);
	/* KiB / KB / Ki spellings all mean the binary unit */
	size_is("1KiB", KiB);
	size_is("1kib", KiB);
	size_is("1KB", KiB);
	size_is("1kB", KiB);
	size_is("1Ki", KiB);
	size_is("4MiB", 4 * MiB);
	size_is("4MB", 4 * MiB);
	size_is("1GiB", GiB);
	size_is("1TB", TiB);
	/* decimals */
	size_is("1.5G", GiB + GiB / 2);
	size_is("0.5K", 512);
	size_is("2.25M", 2 * MiB + MiB / 4);
	size_is("0.5", 0); /* whole bytes: truncated */
	/* the largest values */
	size_is("16000000T", 16000000 * TiB);
	size_is("17000000000000000000", UINT64_C(17000000000000000000));
}

static void test_parse_size_rejects(void **state)
{
	static const char *const bad[] = {
		"", "-1", "-1K", "-0.5M", "abc", "K", "M1", "1X", "1KK", "1 K", "1K ", "1iB",
		"1Bi", "1KiBB", "1KBi", "1P", "1E", "1.5.5", "nan", "inf", "-inf", "1e400",
		"18446744073709551616", "20000000T", "1e30", "99999999999G",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		size_bad(bad[i]);
}

static void dur_is(const char *s, uint64_t expect_ns)
{
	uint64_t v = 0xdeadbeef;
	int rc = parse_duration(s, &v);

	if (rc || v != expect_ns)
		fail_msg("parse_duration(\"%s\"): rc %d value %llu, expected %llu", s, rc,
			 (unsigned long long)v, (unsigned long long)expect_ns);
}

static void test_parse_duration(void **state)
{
	static const char *const bad[] = { "", "-1", "-1s", "1x", "1 s", "s", "ms", "1S",
					   "1ms ", "1d", "1sec", "1mss", "nan", "inf",
					   "6000000h", "1e20", "1e400s" };

	(void)state;
	dur_is("500ms", UINT64_C(500000000));
	dur_is("0.5ms", UINT64_C(500000));
	dur_is("2s", UINT64_C(2000000000));
	dur_is("1.5s", UINT64_C(1500000000));
	dur_is("5m", UINT64_C(300000000000));
	dur_is("1h", UINT64_C(3600000000000));
	dur_is("3", UINT64_C(3000000000)); /* bare number: seconds */
	dur_is("0", 0);
	dur_is("0ms", 0);
	dur_is("5000000h", UINT64_C(18000000000000000000));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 777;

		if (parse_duration(bad[i], &v) != -EINVAL)
			fail_msg("parse_duration(\"%s\") accepted: %llu", bad[i],
				 (unsigned long long)v);
		assert_int_equal(v, 777);
	}
}

static void test_hex(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
	uint8_t all[256], back[256];
	char s[2 * 256 + 1];

	(void)state;
	memset(s, 'X', sizeof(s));
	hex_encode(bytes, sizeof(bytes), s);
	assert_string_equal(s, "00017f80abcdefff");
	memset(back, 0, sizeof(back));
	assert_int_equal(hex_decode("00017f80abcdefff", back, sizeof(bytes)), 0);
	assert_memory_equal(back, bytes, sizeof(bytes));
	assert_int_equal(hex_decode("00017F80ABCDEFFF", back, sizeof(bytes)), 0);
	assert_memory_equal(back, bytes, sizeof(bytes));

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	hex_encode(all, 256, s);
	assert_int_equal(strlen(s), 512);
	assert_int_equal(hex_decode(s, back, 256), 0);
	assert_memory_equal(back, all, 256);

	hex_encode(all, 0, s);
	assert_string_equal(s, "");
	assert_int_equal(hex_decode("", back, 0), 0);
}

static void test_hex_rejects(void **state)
{
	static const char *const bad[] = { "", "0", "000", "00000", "0g", "g0", " 0", "0 ",
					   "-1", "+1", "0x", "\3770", "0\n" };
	uint8_t out[2] = { 0x55, 0x55 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hex_decode(bad[i], out, 1) != -EINVAL)
			fail_msg("hex_decode(\"%s\", 1 byte) accepted", bad[i]);
	/* a length that is right for 1 byte is wrong for 2 */
	assert_int_equal(hex_decode("ab", out, 2), -EINVAL);
	assert_int_equal(hex_decode("abcdef", out, 2), -EINVAL);
	assert_int_equal(out[1], 0x55); /* never wrote past n */
}

static void test_fmt_bytes(void **state)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0 B" },
		{ 1, "1 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" },
		{ 10 * KiB - 1, "10.0 KiB" },
		{ MiB, "1.0 MiB" },
		{ 64 * MiB + 100 * KiB, "64.1 MiB" },
		{ 10 * GiB, "10.0 GiB" },
		{ 3 * TiB / 2, "1.5 TiB" },
		{ 1024 * TiB, "1.0 PiB" },
		{ UINT64_MAX, "16384.0 PiB" }, /* no unit past PiB */
	};
	char buf[32], small[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(fmt_bytes(cases[i].n, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].s);
	}
	/* a short buffer is cut and terminated, never overrun */
	assert_ptr_equal(fmt_bytes(1536, small, sizeof(small)), small);
	assert_string_equal(small, "1.5");
}

static void test_name_valid(void **state)
{
	static const char *const good[] = { "a", "Z", "0", "vda", "db-01", "a.b", "a..b",
					    "x_y-z.img", "trailing.", "A-Z_a-z.0-9" };
	static const char *const bad[] = { "", ".", "..", ".hidden", "../x", "a/b", "/", "a b",
					   " a", "a\n", "a:b", "a\\b", "caf\xc3\xa9", "a*",
					   "a\t", "~", "a$b" };
	char n63[65];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!name_valid(good[i]))
			fail_msg("name_valid(\"%s\") = 0", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (name_valid(bad[i]))
			fail_msg("name_valid(\"%s\") = 1", bad[i]);
	memset(n63, 'n', 64);
	n63[63] = '\0';
	assert_true(name_valid(n63));
	n63[63] = 'n';
	n63[64] = '\0';
	assert_false(name_valid(n63)); /* 64 characters */
}

/* ---- pread_full / pwrite_full ---- */

static int tmpfile_fd(char *path, size_t len)
{
	const char *base = getenv("TMPDIR");
	int fd;

	snprintf(path, len, "%s/test_util.XXXXXX", base && *base ? base : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

static void test_pread_pwrite_full(void **state)
{
	const size_t n = 1u << 20;
	uint8_t *w = malloc(n), *r = malloc(n);
	char path[256];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(w);
	assert_non_null(r);
	for (size_t i = 0; i < n; i++)
		w[i] = (uint8_t)(i * 7 + (i >> 12));
	fd = tmpfile_fd(path, sizeof(path));

	assert_int_equal(pwrite_full(fd, w, n, 4096), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 4096 + n);
	memset(r, 0, n);
	assert_int_equal(pread_full(fd, r, n, 4096), 0);
	assert_memory_equal(r, w, n);
	/* the hole before it reads as zeros */
	assert_int_equal(pread_full(fd, r, 4096, 0), 0);
	assert_true(is_zero(r, 4096));
	/* overwrite in the middle; neighbours keep their bytes */
	assert_int_equal(pwrite_full(fd, "XYZ", 3, 4096 + 10), 0);
	assert_int_equal(pread_full(fd, r, 16, 4096), 0);
	assert_memory_equal(r, w, 10);
	assert_memory_equal(r + 10, "XYZ", 3);
	assert_memory_equal(r + 13, w + 13, 3);
	/* a zero-length transfer is a no-op that succeeds */
	assert_int_equal(pread_full(fd, r, 0, 0), 0);
	assert_int_equal(pwrite_full(fd, w, 0, 0), 0);

	/* reading past the end: -ENODATA, whether partly or wholly beyond */
	assert_int_equal(pread_full(fd, r, 100, 4096 + n - 50), -ENODATA);
	assert_int_equal(pread_full(fd, r, 1, 4096 + n), -ENODATA);
	assert_int_equal(pread_full(fd, r, 1, UINT64_C(1) << 40), -ENODATA);
	/* a sparse write far out extends the file */
	assert_int_equal(pwrite_full(fd, "end", 3, UINT64_C(1) << 32), 0);
	assert_int_equal(pread_full(fd, r, 3, UINT64_C(1) << 32), 0);
	assert_memory_equal(r, "end", 3);

	assert_int_equal(close(fd), 0);
	/* errors come back as -errno */
	assert_int_equal(pread_full(fd, r, 1, 0), -EBADF);
	assert_int_equal(pwrite_full(fd, w, 1, 0), -EBADF);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite_full(fd, w, 1, 0), -EBADF);
	close(fd);
	unlink(path);
	free(w);
	free(r);
}

/* ---- is_zero ---- */

static void test_is_zero_small(void **state)
{
	uint8_t buf[32 + 1];

	(void)state;
	/* every length 0..17, from an aligned and an unaligned start */
	for (size_t off = 0; off <= 1; off++) {
		for (size_t len = 0; len <= 17; len++) {
			memset(buf, 0, sizeof(buf));
			buf[off + len] = 0xff; /* just past the end: must not be looked at */
			assert_true(is_zero(buf + off, len));
			for (size_t i = 0; i < len; i++) {
				for (int bit = 0; bit < 8; bit += 7) {
					buf[off + i] = (uint8_t)(1u << bit);
					if (is_zero(buf + off, len))
						fail_msg("len %zu, byte %zu = %#x: called zero", len, i,
							 1u << bit);
					buf[off + i] = 0;
				}
			}
		}
	}
}

static void test_is_zero_large(void **state)
{
	const size_t n = 64u << 10;
	uint8_t *p = calloc(1, n + 1);
	const size_t pos[] = { 0, 15, 16, 17, 31, 32, 4095, 4096, n / 2, n - 17, n - 16, n - 2 };

	(void)state;
	assert_non_null(p);
	assert_true(is_zero(p, n));
	p[n - 1] = 1;
	assert_false(is_zero(p, n)); /* only the last byte set */
	assert_true(is_zero(p, n - 1));
	p[n - 1] = 0;
	for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		p[pos[i]] = 0x80;
		if (is_zero(p, n))
			fail_msg("64 KiB with byte %zu set called zero", pos[i]);
		p[pos[i]] = 0;
	}
	/* a repeating non-zero pattern (equal to itself shifted by 16) */
	memset(p, 0xaa, n);
	assert_false(is_zero(p, n));
	memset(p, 0, 16);
	assert_false(is_zero(p, n));
	free(p);
}

/* ---- blockhash ---- */

static void sha256_trunc(const uint8_t *p, size_t n, uint8_t out[FRAME_HASH_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, full, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
	memcpy(out, full, FRAME_HASH_LEN);
}

static void hex16(const uint8_t h[FRAME_HASH_LEN], char out[2 * FRAME_HASH_LEN + 1])
{
	hex_encode(h, FRAME_HASH_LEN, out);
}

static void test_blockhash_known(void **state)
{
	uint8_t h[FRAME_HASH_LEN];
	char s[2 * FRAME_HASH_LEN + 1];

	(void)state;
	/* FIPS 180-2 test vectors, first 16 bytes */
	blockhash((const uint8_t *)"abc", 3, h);
	hex16(h, s);
	assert_string_equal(s, "ba7816bf8f01cfea414140de5dae2223");
	blockhash((const uint8_t *)"", 0, h);
	hex16(h, s);
	assert_string_equal(s, "e3b0c44298fc1c149afbf4c8996fb924");
}

static void test_blockhash_vs_openssl(void **state)
{
	static const size_t sizes[] = { 1, 55, 56, 63, 64, 65, 4095, 4096, 65536, 1u << 20 };
	uint8_t *p = malloc(1u << 20), a[FRAME_HASH_LEN], b[FRAME_HASH_LEN];

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < (1u << 20); i++)
		p[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		blockhash(p, sizes[i], a);
		sha256_trunc(p, sizes[i], b);
		assert_memory_equal(a, b, FRAME_HASH_LEN);
	}
	/* one flipped bit changes it */
	blockhash(p, 4096, a);
	p[100] ^= 4;
	blockhash(p, 4096, b);
	assert_memory_not_equal(a, b, FRAME_HASH_LEN);
	free(p);
}

static void test_blockhash_zero(void **state)
{
	static const size_t sizes[] = { 0, 1, 511, 4095, 4096, 65535, 65536, 65537, 1u << 20 };
	uint8_t *z = calloc(1, 1u << 20), a[FRAME_HASH_LEN], b[FRAME_HASH_LEN];
	char s[2 * FRAME_HASH_LEN + 1];

	(void)state;
	assert_non_null(z);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(a, 0x11, sizeof(a));
		blockhash_zero(sizes[i], a);
		blockhash(z, sizes[i], b);
		if (memcmp(a, b, FRAME_HASH_LEN))
			fail_msg("blockhash_zero(%zu) differs from the hash of zeros", sizes[i]);
		sha256_trunc(z, sizes[i], b);
		assert_memory_equal(a, b, FRAME_HASH_LEN);
	}
	/* the cached 64 KiB value, twice, against an independent constant */
	for (int i = 0; i < 2; i++) {
		blockhash_zero(65536, a);
		hex16(a, s);
		assert_string_equal(s, "de2f256064a0af797747c2b97505dc0b");
	}
	blockhash_zero(4095, a);
	hex16(a, s);
	assert_string_equal(s, "2cae68411db14d6b340e650cd7e512a0");
	free(z);
}

static void test_random_bytes(void **state)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };

	(void)state;
	assert_int_equal(random_bytes(a, sizeof(a)), 0);
	assert_int_equal(random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a)); /* 2^-512 */
	assert_false(is_zero(a, sizeof(a)));
	assert_int_equal(random_bytes(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_size_rejects),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_rejects),
		cmocka_unit_test(test_fmt_bytes),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_pread_pwrite_full),
		cmocka_unit_test(test_is_zero_small),
		cmocka_unit_test(test_is_zero_large),
		cmocka_unit_test(test_blockhash_known),
		cmocka_unit_test(test_blockhash_vs_openssl),
		cmocka_unit_test(test_blockhash_zero),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
