// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Wire frames: every message type survives encode -> parse, and every
 * defect the parser is meant to catch is rejected for the stated reason.
 * Bodies are handed to the parser in exactly-sized heap copies so that an
 * over-read shows up under AddressSanitizer (make SANITIZE=1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "frame.h"

#define BUFSZ 16384

static uint8_t buf[BUFSZ];

/* Parse a complete frame held in b[0..n): header, then the body in an
 * exactly-sized heap copy. The header's len field must say n - 12. */
static int parse_frame(const uint8_t *b, size_t n, struct frame *f, const char **why)
{
	struct frame_hdr h;
	uint8_t *body;
	int rc;

	assert_true(n >= FRAME_HDR_LEN);
	*why = NULL;
	rc = frame_parse_header(b, &h, why);
	if (rc) {
		assert_non_null(*why);
		return rc;
	}
	assert_int_equal(h.len, n - FRAME_HDR_LEN);
	body = malloc(h.len ? h.len : 1);
	assert_non_null(body);
	memcpy(body, b + FRAME_HDR_LEN, h.len);
	rc = frame_parse_body(&h, body, f, why);
	if (rc)
		assert_non_null(*why);
	/* payload pointers point into body: callers compare before it is freed */
	if (!rc && f->type == FT_DATA) {
		assert_ptr_equal(f->data.payload, body + 28);
		assert_memory_equal(f->data.payload, b + FRAME_HDR_LEN + 28, f->data.payload_len);
	}
	if (!rc && f->type == FT_HASH_RESP) {
		assert_ptr_equal(f->hash_resp.hashes, body + 8);
		assert_memory_equal(f->hash_resp.hashes, b + FRAME_HDR_LEN + 8,
				    (size_t)f->hash_resp.count * FRAME_HASH_LEN);
	}
	free(body);
	if (!rc && f->type == FT_DATA)
		f->data.payload = NULL; /* dangling now */
	if (!rc && f->type == FT_HASH_RESP)
		f->hash_resp.hashes = NULL;
	return rc;
}

/* Parse b with the header's len rewritten to body_len (truncation tests). */
static int parse_with_len(uint8_t *b, uint32_t body_len, struct frame *f, const char **why)
{
	put_be32(b + 8, body_len);
	return parse_frame(b, FRAME_HDR_LEN + body_len, f, why);
}

static void expect_reject(const uint8_t *b, size_t n, int err, const char *reason)
{
	struct frame f;
	const char *why;
	int rc = parse_frame(b, n, &f, &why);

	if (rc != err)
		fail_msg("%s frame: rc %d, expected %d (\"%s\")", frame_type_name(b[5]), rc, err,
			 reason);
	assert_non_null(why);
	if (strcmp(why, reason))
		fail_msg("rejected for \"%s\", expected \"%s\"", why, reason);
}

static void expect_ok(const uint8_t *b, size_t n, struct frame *f)
{
	const char *why = NULL;
	int rc = parse_frame(b, n, f, &why);

	if (rc)
		fail_msg("valid frame rejected: %d (%s)", rc, why ? why : "?");
}

/* ---- header ---- */

static void test_header_fields(void **state)
{
	struct frame_hdr h;
	const char *why = NULL;
	size_t n;

	(void)state;
	n = frame_encode_seq(buf, sizeof(buf), FT_FLUSH, 7);
	assert_int_equal(n, FRAME_HDR_LEN + 8);
	assert_int_equal(get_be32(buf), FRAME_MAGIC);
	assert_memory_equal(buf, "LMIG", 4);
	assert_int_equal(frame_parse_header(buf, &h, &why), 0);
	assert_int_equal(h.version, FRAME_VERSION);
	assert_int_equal(h.type, FT_FLUSH);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.len, 8);
}

static void test_header_bad_magic(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		size_t n = frame_encode_bye(buf, sizeof(buf));

		buf[i] ^= 0x20;
		expect_reject(buf, n, -EPROTO, "bad magic");
	}
}

static void test_header_bad_version(void **state)
{
	static const uint8_t versions[] = { 0, 2, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(versions); i++) {
		size_t n = frame_encode_bye(buf, sizeof(buf));

		buf[4] = versions[i];
		expect_reject(buf, n, -EPROTONOSUPPORT, "unsupported protocol version");
	}
}

static void test_header_unknown_type(void **state)
{
	static const uint8_t types[] = { 0, FT_POINT + 1, 0x80, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n = frame_encode_bye(buf, sizeof(buf));

		buf[5] = types[i];
		expect_reject(buf, n, -EPROTO, "unknown frame type");
	}
}

static void test_header_flags(void **state)
{
	static const uint16_t flags[] = { 1, 0x8000, 0xffff };

	(void)state;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		size_t n = frame_encode_bye(buf, sizeof(buf));

		put_be16(buf + 6, flags[i]);
		expect_reject(buf, n, -EPROTO, "reserved flags set");
	}
}

static void test_header_too_long(void **state)
{
	struct frame_hdr h;
	const char *why = NULL;

	(void)state;
	frame_encode_bye(buf, sizeof(buf));
	put_be32(buf + 8, FRAME_MAX_BODY);
	assert_int_equal(frame_parse_header(buf, &h, &why), 0);
	assert_int_equal(h.len, FRAME_MAX_BODY);
	put_be32(buf + 8, FRAME_MAX_BODY + 1);
	assert_int_equal(frame_parse_header(buf, &h, &why), -EPROTO);
	assert_string_equal(why, "frame longer than the protocol allows");
	put_be32(buf + 8, UINT32_MAX);
	assert_int_equal(frame_parse_header(buf, &h, &why), -EPROTO);
	assert_string_equal(why, "frame longer than the protocol allows");
}

/* ---- round trips ---- */

static void test_roundtrip_hello(void **state)
{
	static struct hello_disk disks[FRAME_MAX_DISKS];
	struct frame f;
	size_t n;

	(void)state;
	for (int i = 0; i < FRAME_MAX_DISKS; i++) {
		disks[i].id = (uint32_t)(1000 + i * 7);
		disks[i].size = (UINT64_C(1) << 30) * (uint64_t)(i + 1) + 512;
		snprintf(disks[i].name, sizeof(disks[i].name), "vd%c-%02d.img", 'a' + i % 26, i);
	}
	disks[0].size = UINT64_C(1) << 56; /* largest allowed */
	n = frame_encode_hello(buf, sizeof(buf), "db-01.example_com", "0.1.0", CODEC_MASK_ALL,
			       65536, disks, FRAME_MAX_DISKS);
	assert_true(n > FRAME_HDR_LEN);
	assert_int_equal(buf[5], FT_HELLO);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_HELLO);
	assert_string_equal(f.hello.machine, "db-01.example_com");
	assert_string_equal(f.hello.agent_version, "0.1.0");
	assert_int_equal(f.hello.codecs, CODEC_MASK_ALL);
	assert_int_equal(f.hello.block_size, 65536);
	assert_int_equal(f.hello.ndisks, FRAME_MAX_DISKS);
	for (int i = 0; i < FRAME_MAX_DISKS; i++) {
		assert_int_equal(f.hello.disks[i].id, disks[i].id);
		assert_int_equal(f.hello.disks[i].size, disks[i].size);
		assert_string_equal(f.hello.disks[i].name, disks[i].name);
	}

	/* one disk, empty agent version, a 63-character machine name, extreme block sizes */
	char longname[64];

	memset(longname, 'm', 63);
	longname[63] = '\0';
	for (uint32_t bs = 4096; bs <= FRAME_MAX_RAW; bs *= 2) {
		n = frame_encode_hello(buf, sizeof(buf), longname, "", 0, bs, disks, 1);
		expect_ok(buf, n, &f);
		assert_string_equal(f.hello.machine, longname);
		assert_string_equal(f.hello.agent_version, "");
		assert_int_equal(f.hello.codecs, 0);
		assert_int_equal(f.hello.block_size, bs);
		assert_int_equal(f.hello.ndisks, 1);
		assert_string_equal(f.hello.disks[0].name, disks[0].name);
	}
}

static void test_roundtrip_welcome(void **state)
{
	uint8_t id[FRAME_EPOCH_LEN];
	struct frame f;
	size_t n;

	(void)state;
	for (int i = 0; i < FRAME_EPOCH_LEN; i++)
		id[i] = (uint8_t)(0xa0 + i);
	n = frame_encode_welcome(buf, sizeof(buf), CODEC_MASK_ALL, id, 1,
				 UINT64_C(1700000000123456789));
	assert_int_equal(n, FRAME_HDR_LEN + 2 + 16 + 1 + 8);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_WELCOME);
	assert_int_equal(f.welcome.codecs, CODEC_MASK_ALL);
	assert_memory_equal(f.welcome.store_id, id, FRAME_EPOCH_LEN);
	assert_int_equal(f.welcome.store_was_new, 1);
	assert_int_equal(f.welcome.consistent_ns, UINT64_C(1700000000123456789));

	/* any non-zero store_was_new encodes as 1 */
	n = frame_encode_welcome(buf, sizeof(buf), 0, id, 42, 0);
	expect_ok(buf, n, &f);
	assert_int_equal(f.welcome.store_was_new, 1);
	n = frame_encode_welcome(buf, sizeof(buf), 0, id, 0, UINT64_MAX);
	expect_ok(buf, n, &f);
	assert_int_equal(f.welcome.store_was_new, 0);
	assert_int_equal(f.welcome.consistent_ns, UINT64_MAX);
}

static size_t make_data(uint8_t *b, uint64_t seq, uint32_t disk, uint8_t codec, uint64_t off,
			uint32_t raw_len, uint32_t payload_len)
{
	size_t n = frame_encode_data_prefix(b, seq, disk, codec, off, raw_len, payload_len);

	assert_int_equal(n, FRAME_DATA_PREFIX);
	for (uint32_t i = 0; i < payload_len; i++)
		b[n + i] = (uint8_t)(i * 31 + 7);
	return n + payload_len;
}

static void test_roundtrip_data(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = make_data(buf, UINT64_C(0x0102030405060708), 3, CODEC_NONE, UINT64_C(1) << 40, 4096,
		      4096);
	assert_int_equal(n, FRAME_DATA_PREFIX + 4096);
	assert_int_equal(get_be32(buf + 8), 28 + 4096);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_DATA);
	assert_int_equal(f.data.seq, UINT64_C(0x0102030405060708));
	assert_int_equal(f.data.disk, 3);
	assert_int_equal(f.data.codec, CODEC_NONE);
	assert_int_equal(f.data.offset, UINT64_C(1) << 40);
	assert_int_equal(f.data.raw_len, 4096);
	assert_int_equal(f.data.payload_len, 4096);

	/* deflate: the payload length is whatever the frame carries */
	n = make_data(buf, 9, UINT32_MAX, CODEC_DEFLATE, 0, FRAME_MAX_RAW, 100);
	expect_ok(buf, n, &f);
	assert_int_equal(f.data.seq, 9);
	assert_int_equal(f.data.disk, UINT32_MAX);
	assert_int_equal(f.data.codec, CODEC_DEFLATE);
	assert_int_equal(f.data.offset, 0);
	assert_int_equal(f.data.raw_len, FRAME_MAX_RAW);
	assert_int_equal(f.data.payload_len, 100);

	/* the last extent whose end offset still fits in 64 bits */
	n = make_data(buf, 1, 1, CODEC_NONE, UINT64_MAX - 10, 10, 10);
	expect_ok(buf, n, &f);
	assert_int_equal(f.data.offset, UINT64_MAX - 10);
}

static void test_roundtrip_zero(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_zero(buf, sizeof(buf), 77, 5, UINT64_C(1) << 20, UINT64_C(1) << 33);
	assert_int_equal(n, FRAME_HDR_LEN + 32);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_ZERO);
	assert_int_equal(f.zero.seq, 77);
	assert_int_equal(f.zero.disk, 5);
	assert_int_equal(f.zero.offset, UINT64_C(1) << 20);
	assert_int_equal(f.zero.length, UINT64_C(1) << 33);

	n = frame_encode_zero(buf, sizeof(buf), 1, 0, 0, UINT64_MAX);
	expect_ok(buf, n, &f);
	assert_int_equal(f.zero.length, UINT64_MAX);
}

static void test_roundtrip_flush_ack(void **state)
{
	static const uint8_t types[] = { FT_FLUSH, FT_ACK };
	struct frame f;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		size_t n = frame_encode_seq(buf, sizeof(buf), types[i], UINT64_C(0xfedcba9876543210));

		assert_int_equal(n, FRAME_HDR_LEN + 8);
		expect_ok(buf, n, &f);
		assert_int_equal(f.type, types[i]);
		if (types[i] == FT_FLUSH)
			assert_int_equal(f.flush.seq, UINT64_C(0xfedcba9876543210));
		else
			assert_int_equal(f.ack.seq, UINT64_C(0xfedcba9876543210));
	}
}

static void test_roundtrip_hash_req(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_hash_req(buf, sizeof(buf), 0xdeadbeef, 2, UINT64_C(65536) * 1000, 65536,
				  FRAME_MAX_HASHES);
	assert_int_equal(n, FRAME_HDR_LEN + 24);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_HASH_REQ);
	assert_int_equal(f.hash_req.req_id, 0xdeadbeef);
	assert_int_equal(f.hash_req.disk, 2);
	assert_int_equal(f.hash_req.offset, UINT64_C(65536) * 1000);
	assert_int_equal(f.hash_req.block_size, 65536);
	assert_int_equal(f.hash_req.count, FRAME_MAX_HASHES);

	n = frame_encode_hash_req(buf, sizeof(buf), 1, 0, 0, 4096, 1);
	expect_ok(buf, n, &f);
	assert_int_equal(f.hash_req.block_size, 4096);
	assert_int_equal(f.hash_req.count, 1);
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 0, 0, FRAME_MAX_RAW, 1);
	expect_ok(buf, n, &f);
	assert_int_equal(f.hash_req.block_size, FRAME_MAX_RAW);
}

static void test_roundtrip_hash_resp(void **state)
{
	static uint8_t hashes[FRAME_MAX_HASHES * FRAME_HASH_LEN];
	static uint8_t big[FRAME_HDR_LEN + 8 + sizeof(hashes)];
	struct frame f;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(hashes); i++)
		hashes[i] = (uint8_t)(i * 13 + i / 256);
	n = frame_encode_hash_resp(big, sizeof(big), 17, 3, hashes);
	assert_int_equal(n, FRAME_HDR_LEN + 8 + 3 * FRAME_HASH_LEN);
	expect_ok(big, n, &f); /* parse_frame compares the hashes */
	assert_int_equal(f.type, FT_HASH_RESP);
	assert_int_equal(f.hash_resp.req_id, 17);
	assert_int_equal(f.hash_resp.count, 3);
	assert_memory_equal(big + FRAME_HDR_LEN + 8, hashes, 3 * FRAME_HASH_LEN);

	n = frame_encode_hash_resp(big, sizeof(big), 18, FRAME_MAX_HASHES, hashes);
	assert_int_equal(n, sizeof(big));
	expect_ok(big, n, &f);
	assert_int_equal(f.hash_resp.count, FRAME_MAX_HASHES);
	assert_memory_equal(big + FRAME_HDR_LEN + 8, hashes, sizeof(hashes));
}

static void test_roundtrip_mark(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_mark(buf, sizeof(buf), 123, MARK_CONSISTENT, UINT64_C(1712345678000000001),
			      MARK_ORIGIN_PERIODIC, MARK_CONSISTENCY_APPLICATION);
	assert_int_equal(n, FRAME_HDR_LEN + FRAME_MARK_LEN);
	assert_int_equal(buf[FRAME_HDR_LEN + 17], 2);
	assert_int_equal(buf[FRAME_HDR_LEN + 18], 3);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_MARK);
	assert_int_equal(f.mark.seq, 123);
	assert_int_equal(f.mark.kind, MARK_CONSISTENT);
	assert_int_equal(f.mark.time_ns, UINT64_C(1712345678000000001));
	assert_int_equal(f.mark.origin, MARK_ORIGIN_PERIODIC);
	assert_int_equal(f.mark.consistency, MARK_CONSISTENCY_APPLICATION);
	for (uint8_t o = MARK_ORIGIN_FINAL_SYNC; o <= MARK_ORIGIN_REQUESTED; o++)
		for (uint8_t k = MARK_CONSISTENCY_CRASH; k <= MARK_CONSISTENCY_APPLICATION; k++) {
			n = frame_encode_mark(buf, sizeof(buf), 9, MARK_CONSISTENT, 1, o, k);
			expect_ok(buf, n, &f);
			assert_int_equal(f.mark.origin, o);
			assert_int_equal(f.mark.consistency, k);
		}
}

/* A 17-byte MARK (an older agent) is a crash-consistent final sync. */
static void test_mark_from_older_agent(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_mark(buf, sizeof(buf), 77, MARK_CONSISTENT, 5, MARK_ORIGIN_REQUESTED,
			      MARK_CONSISTENCY_FILESYSTEM);
	put_be32(buf + 8, FRAME_MARK_LEN_V1);
	expect_ok(buf, n - 2, &f);
	assert_int_equal(f.mark.seq, 77);
	assert_int_equal(f.mark.time_ns, 5);
	assert_int_equal(f.mark.origin, MARK_ORIGIN_FINAL_SYNC);
	assert_int_equal(f.mark.consistency, MARK_CONSISTENCY_CRASH);
}

/* Only 17 or 19 bytes, and only known origins and consistencies. */
static void test_mark_rejects(void **state)
{
	static const uint32_t bad_lens[] = { 0, 16, 18, 20, 64 };
	uint8_t big[FRAME_HDR_LEN + 64] = { 0 };
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
		n = frame_encode_mark(big, sizeof(big), 1, MARK_CONSISTENT, 1,
				      MARK_ORIGIN_FINAL_SYNC, MARK_CONSISTENCY_CRASH);
		put_be32(big + 8, bad_lens[i]);
		expect_reject(big, FRAME_HDR_LEN + bad_lens[i], -EPROTO,
			      "MARK: length is neither 17 nor 19 bytes");
	}
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, 0, MARK_CONSISTENCY_CRASH);
	expect_reject(buf, n, -EPROTO, "MARK: unknown origin");
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, 4, MARK_CONSISTENCY_CRASH);
	expect_reject(buf, n, -EPROTO, "MARK: unknown origin");
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, MARK_ORIGIN_PERIODIC, 0);
	expect_reject(buf, n, -EPROTO, "MARK: unknown consistency");
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, MARK_ORIGIN_PERIODIC, 4);
	expect_reject(buf, n, -EPROTO, "MARK: unknown consistency");
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, 0xff, 0xff);
	expect_reject(buf, n, -EPROTO, "MARK: unknown origin");
}

static void check_truncations(uint8_t *b, size_t n, const char *reason_prefix);

static void test_roundtrip_point(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_point(buf, sizeof(buf), UINT64_C(0x0102030405060708), 42);
	assert_int_equal(n, FRAME_HDR_LEN + 16);
	assert_int_equal(buf[5], FT_POINT);
	assert_int_equal(get_be64(buf + FRAME_HDR_LEN), UINT64_C(0x0102030405060708));
	assert_int_equal(get_be64(buf + FRAME_HDR_LEN + 8), 42);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_POINT);
	assert_int_equal(f.point.mark_seq, UINT64_C(0x0102030405060708));
	assert_int_equal(f.point.point_id, 42);
	assert_string_equal(frame_type_name(FT_POINT), "POINT");
	n = frame_encode_point(buf, sizeof(buf), 1, 0);
	expect_reject(buf, n, -EPROTO, "POINT: point id 0");
	n = frame_encode_point(buf, sizeof(buf), 1, 1);
	check_truncations(buf, n, "truncated body");
	/* trailing bytes */
	n = frame_encode_point(buf, sizeof(buf), 1, 1);
	buf[n] = 0;
	put_be32(buf + 8, 17);
	expect_reject(buf, n + 1, -EPROTO, "trailing bytes after body");
}

/* POINT's capability rides in HELLO's bit mask, away from the codecs. */
static void test_hello_point_capability(void **state)
{
	struct hello_disk disk = { 1, 1 << 20, "vda" };
	struct frame f;
	size_t n;

	(void)state;
	assert_int_equal(HELLO_CAP_POINT & CODEC_MASK_ALL, 0);
	n = frame_encode_hello(buf, sizeof(buf), "m", "", CODEC_MASK_ALL | HELLO_CAP_POINT, 4096,
			       &disk, 1);
	expect_ok(buf, n, &f);
	assert_true(f.hello.codecs & HELLO_CAP_POINT);
	assert_true(f.hello.codecs & (1u << CODEC_DEFLATE));
}

static void test_roundtrip_error(void **state)
{
	char longmsg[FRAME_MSG_MAX + 2];
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_error(buf, sizeof(buf), ERR_NOSPACE, "staging store is full");
	assert_int_equal(n, FRAME_HDR_LEN + 4 + 1 + strlen("staging store is full"));
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_ERROR);
	assert_int_equal(f.error.code, ERR_NOSPACE);
	assert_string_equal(f.error.msg, "staging store is full");

	n = frame_encode_error(buf, sizeof(buf), 0, "");
	expect_ok(buf, n, &f);
	assert_int_equal(f.error.code, 0);
	assert_string_equal(f.error.msg, "");

	/* longest message; a longer one is cut at FRAME_MSG_MAX */
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	n = frame_encode_error(buf, sizeof(buf), ERR_IO, longmsg);
	assert_int_equal(n, FRAME_HDR_LEN + 4 + 1 + FRAME_MSG_MAX);
	expect_ok(buf, n, &f);
	assert_int_equal(strlen(f.error.msg), FRAME_MSG_MAX);
	assert_memory_equal(f.error.msg, longmsg, FRAME_MSG_MAX);

	/* control and non-ASCII bytes from the peer are neutralised for logging */
	n = frame_encode_error(buf, sizeof(buf), ERR_PROTOCOL, "a\nb\x1b[31mc\xff");
	expect_ok(buf, n, &f);
	assert_string_equal(f.error.msg, "a?b?[31mc?");
	buf[FRAME_HDR_LEN + 5] = '\0'; /* a NUL inside the message */
	expect_ok(buf, n, &f);
	assert_string_equal(f.error.msg, "??b?[31mc?");
}

static void test_roundtrip_bye(void **state)
{
	struct frame f;
	size_t n;

	(void)state;
	n = frame_encode_bye(buf, sizeof(buf));
	assert_int_equal(n, FRAME_HDR_LEN);
	expect_ok(buf, n, &f);
	assert_int_equal(f.type, FT_BYE);
}

/* A stream of several frames back to back parses frame by frame. */
static void test_stream(void **state)
{
	uint8_t id[FRAME_EPOCH_LEN] = { 1 };
	struct frame_hdr h;
	struct frame f;
	const char *why;
	size_t n = 0, pos = 0;
	uint8_t expect[] = { FT_WELCOME, FT_ACK, FT_ZERO, FT_BYE };
	int i = 0;

	(void)state;
	n += frame_encode_welcome(buf + n, sizeof(buf) - n, 1, id, 0, 5);
	n += frame_encode_seq(buf + n, sizeof(buf) - n, FT_ACK, 6);
	n += frame_encode_zero(buf + n, sizeof(buf) - n, 7, 1, 0, 4096);
	n += frame_encode_bye(buf + n, sizeof(buf) - n);
	while (pos < n) {
		assert_int_equal(frame_parse_header(buf + pos, &h, &why), 0);
		assert_int_equal(frame_parse_body(&h, buf + pos + FRAME_HDR_LEN, &f, &why), 0);
		assert_int_equal(f.type, expect[i++]);
		pos += FRAME_HDR_LEN + h.len;
	}
	assert_int_equal(pos, n);
	assert_int_equal(i, 4);
}

/* ---- body rejections ---- */

/* Every proper prefix of a valid body is rejected. */
static void check_truncations(uint8_t *b, size_t n, const char *reason_prefix)
{
	uint32_t full = (uint32_t)(n - FRAME_HDR_LEN);

	for (uint32_t k = 0; k < full; k++) {
		struct frame f;
		const char *why = NULL;
		int rc = parse_with_len(b, k, &f, &why);

		if (rc != -EPROTO)
			fail_msg("%s body truncated to %u of %u bytes: rc %d", frame_type_name(b[5]),
				 k, full, rc);
		if (strncmp(why, reason_prefix, strlen(reason_prefix)))
			fail_msg("%s truncated to %u: reason \"%s\", expected \"%s...\"",
				 frame_type_name(b[5]), k, why, reason_prefix);
	}
	put_be32(b + 8, full);
}

static void test_truncated_bodies(void **state)
{
	struct hello_disk disks[2] = { { 1, 1 << 20, "a" }, { 2, 2 << 20, "b.raw" } };
	uint8_t id[FRAME_EPOCH_LEN] = { 0 };
	uint8_t hashes[2 * FRAME_HASH_LEN] = { 0 };
	size_t n;

	(void)state;
	/* HELLO names a field-specific reason depending on where the cut falls */
	n = frame_encode_hello(buf, sizeof(buf), "host", "1.0", 2, 4096, disks, 2);
	check_truncations(buf, n, "HELLO: ");
	n = frame_encode_welcome(buf, sizeof(buf), 2, id, 1, 3);
	check_truncations(buf, n, "truncated body");
	/* DATA: a cut in the fixed fields, or in a raw payload */
	n = make_data(buf, 1, 1, CODEC_NONE, 0, 64, 64);
	for (uint32_t k = 0; k < 28; k++) {
		struct frame f;
		const char *why;

		assert_int_equal(parse_with_len(buf, k, &f, &why), -EPROTO);
		assert_string_equal(why, "DATA: truncated");
	}
	for (uint32_t k = 28; k < 28 + 64; k++) {
		struct frame f;
		const char *why;

		assert_int_equal(parse_with_len(buf, k, &f, &why), -EPROTO);
		assert_string_equal(why, k == 28 ? "DATA: empty payload"
					 : "DATA: raw payload length differs from declared length");
	}
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, 0, 4096);
	check_truncations(buf, n, "truncated body");
	n = frame_encode_seq(buf, sizeof(buf), FT_FLUSH, 1);
	check_truncations(buf, n, "truncated body");
	n = frame_encode_seq(buf, sizeof(buf), FT_ACK, 1);
	check_truncations(buf, n, "truncated body");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, 4096, 8);
	check_truncations(buf, n, "truncated body");
	n = frame_encode_hash_resp(buf, sizeof(buf), 1, 2, hashes);
	check_truncations(buf, n, "truncated body");
	/* cut to 17 bytes a MARK is an older agent's (test_mark_from_older_agent) */
	n = frame_encode_mark(buf, sizeof(buf), 1, MARK_CONSISTENT, 1, MARK_ORIGIN_FINAL_SYNC,
			      MARK_CONSISTENCY_CRASH);
	put_be32(buf + 8, FRAME_MARK_LEN_V1);
	check_truncations(buf, n - 2, "MARK: length is neither 17 nor 19 bytes");
	n = frame_encode_error(buf, sizeof(buf), ERR_IO, "disk on fire");
	check_truncations(buf, n, "truncated body");
}

/* Cuts inside HELLO name the part that broke. */
static void test_truncated_hello_reasons(void **state)
{
	struct hello_disk disk = { 1, 1 << 20, "disk0" };
	struct frame f;
	const char *why;
	size_t n;

	(void)state;
	/* body: 1+4 "host", 1+3 "1.0", codecs 2, block 4, ndisks 2, disk 4+8+1+5 */
	n = frame_encode_hello(buf, sizeof(buf), "host", "1.0", 2, 4096, &disk, 1);
	assert_int_equal(n, FRAME_HDR_LEN + 5 + 4 + 2 + 4 + 2 + 18);
	assert_int_equal(parse_with_len(buf, 3, &f, &why), -EPROTO);
	assert_string_equal(why, "HELLO: bad machine name");
	assert_int_equal(parse_with_len(buf, 7, &f, &why), -EPROTO);
	assert_string_equal(why, "HELLO: bad agent version");
	assert_int_equal(parse_with_len(buf, 12, &f, &why), -EPROTO);
	assert_string_equal(why, "HELLO: truncated");
	assert_int_equal(parse_with_len(buf, 17, &f, &why), -EPROTO);
	assert_string_equal(why, "HELLO: bad disk entry");
	assert_int_equal(parse_with_len(buf, 34, &f, &why), -EPROTO);
	assert_string_equal(why, "HELLO: bad disk entry");
	assert_int_equal(parse_with_len(buf, 35, &f, &why), 0);
}

static void test_trailing_bytes(void **state)
{
	struct hello_disk disk = { 1, 1 << 20, "d" };
	uint8_t id[FRAME_EPOCH_LEN] = { 0 };
	uint8_t hashes[FRAME_HASH_LEN] = { 0 };
	static uint8_t store[10][512];
	size_t lens[10], k = 0;

	(void)state;
	lens[k] = frame_encode_hello(store[k], 500, "h", "", 0, 4096, &disk, 1), k++;
	lens[k] = frame_encode_welcome(store[k], 500, 0, id, 0, 0), k++;
	lens[k] = frame_encode_zero(store[k], 500, 1, 1, 0, 1), k++;
	lens[k] = frame_encode_seq(store[k], 500, FT_FLUSH, 1), k++;
	lens[k] = frame_encode_seq(store[k], 500, FT_ACK, 1), k++;
	lens[k] = frame_encode_hash_req(store[k], 500, 1, 1, 0, 4096, 1), k++;
	lens[k] = frame_encode_hash_resp(store[k], 500, 1, 1, hashes), k++;
	/* MARK: any length but 17 and 19 is refused as such (test_mark_rejects) */
	lens[k] = frame_encode_point(store[k], 500, 1, 1), k++;
	lens[k] = frame_encode_error(store[k], 500, 1, "x"), k++;
	lens[k] = frame_encode_bye(store[k], 500), k++;
	for (size_t i = 0; i < k; i++) {
		assert_true(lens[i] >= FRAME_HDR_LEN && lens[i] < 500);
		for (uint32_t extra = 1; extra <= 9; extra += 8) {
			uint32_t body = (uint32_t)(lens[i] - FRAME_HDR_LEN);
			struct frame f;
			const char *why;

			memset(store[i] + lens[i], 0, extra);
			assert_int_equal(parse_with_len(store[i], body + extra, &f, &why), -EPROTO);
			assert_string_equal(why, "trailing bytes after body");
		}
	}
}

static void test_data_rejects(void **state)
{
	size_t n;

	(void)state;
	n = make_data(buf, 1, 1, CODEC_DEFLATE, 0, 0, 10);
	expect_reject(buf, n, -EPROTO, "DATA: length out of range");
	n = make_data(buf, 1, 1, CODEC_DEFLATE, 0, FRAME_MAX_RAW + 1, 10);
	expect_reject(buf, n, -EPROTO, "DATA: length out of range");
	n = make_data(buf, 1, 1, CODEC_DEFLATE, 0, UINT32_MAX, 10);
	expect_reject(buf, n, -EPROTO, "DATA: length out of range");
	/* offset + raw_len must not wrap */
	n = make_data(buf, 1, 1, CODEC_NONE, UINT64_MAX - 9, 10, 10);
	expect_reject(buf, n, -EPROTO, "DATA: offset overflows");
	n = make_data(buf, 1, 1, CODEC_DEFLATE, UINT64_MAX, 1, 10);
	expect_reject(buf, n, -EPROTO, "DATA: offset overflows");
	/* raw payload must be exactly raw_len */
	n = make_data(buf, 1, 1, CODEC_NONE, 0, 100, 99);
	expect_reject(buf, n, -EPROTO, "DATA: raw payload length differs from declared length");
	n = make_data(buf, 1, 1, CODEC_NONE, 0, 100, 101);
	expect_reject(buf, n, -EPROTO, "DATA: raw payload length differs from declared length");
	/* no payload at all */
	n = make_data(buf, 1, 1, CODEC_DEFLATE, 0, 100, 0);
	expect_reject(buf, n, -EPROTO, "DATA: empty payload");
	/* unknown codecs */
	n = make_data(buf, 1, 1, 2, 0, 100, 100);
	expect_reject(buf, n, -EPROTO, "DATA: unknown codec");
	n = make_data(buf, 1, 1, 0xff, 0, 100, 50);
	expect_reject(buf, n, -EPROTO, "DATA: unknown codec");
	/* each reserved byte */
	for (int i = 0; i < 3; i++) {
		n = make_data(buf, 1, 1, CODEC_NONE, 0, 100, 100);
		buf[FRAME_HDR_LEN + 13 + i] = 1;
		expect_reject(buf, n, -EPROTO, "DATA: reserved bytes set");
	}
}

static void test_zero_rejects(void **state)
{
	size_t n;

	(void)state;
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, 0, 0);
	expect_reject(buf, n, -EPROTO, "ZERO: length out of range");
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, 4096, UINT64_MAX);
	expect_reject(buf, n, -EPROTO, "ZERO: length out of range");
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, UINT64_MAX, 1);
	expect_reject(buf, n, -EPROTO, "ZERO: length out of range");
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, UINT64_MAX - 1, 1);
	assert_true(n > 0);
	{
		struct frame f;

		expect_ok(buf, n, &f); /* end offset UINT64_MAX still fits */
	}
	n = frame_encode_zero(buf, sizeof(buf), 1, 1, 0, 4096);
	buf[FRAME_HDR_LEN + 15] = 1; /* reserved word */
	expect_reject(buf, n, -EPROTO, "ZERO: reserved bytes set");
}

static void test_hash_req_rejects(void **state)
{
	static const uint32_t bad_bs[] = { 0, 1, 2048, 4095, 4097, 3 * 4096, 65535,
					   FRAME_MAX_RAW * 2, UINT32_MAX, 0x80000000u };
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_bs) / sizeof(bad_bs[0]); i++) {
		n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, bad_bs[i], 1);
		expect_reject(buf, n, -EPROTO, "HASH_REQ: bad block size");
	}
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, 4096, 0);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: count out of range");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, 4096, FRAME_MAX_HASHES + 1);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: count out of range");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, 4096, UINT32_MAX);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: count out of range");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 512, 4096, 1);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: offset not block aligned");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 65536 + 4096, 65536, 1);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: offset not block aligned");
	/* aligned, but the run's end offset does not fit in 64 bits */
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, UINT64_MAX - 4095, 4096, 1);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: range overflows");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, UINT64_MAX - 8191, 4096, 2);
	expect_reject(buf, n, -EPROTO, "HASH_REQ: range overflows");
	n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, 0, FRAME_MAX_RAW, FRAME_MAX_HASHES);
	{
		struct frame f;

		expect_ok(buf, n, &f); /* the largest run from 0 */
		/* the last run whose end still fits */
		n = frame_encode_hash_req(buf, sizeof(buf), 1, 1, UINT64_MAX - 8191, 4096, 1);
		expect_ok(buf, n, &f);
		assert_int_equal(f.hash_req.offset, UINT64_MAX - 8191);
	}
}

static void test_other_field_rejects(void **state)
{
	uint8_t id[FRAME_EPOCH_LEN] = { 0 };
	size_t n;

	(void)state;
	n = frame_encode_welcome(buf, sizeof(buf), 0, id, 1, 0);
	buf[FRAME_HDR_LEN + 18] = 2;
	expect_reject(buf, n, -EPROTO, "WELCOME: bad flag");
	n = frame_encode_mark(buf, sizeof(buf), 1, 0, 0, 1, 1);
	expect_reject(buf, n, -EPROTO, "MARK: unknown kind");
	n = frame_encode_mark(buf, sizeof(buf), 1, 2, 0, 1, 1);
	expect_reject(buf, n, -EPROTO, "MARK: unknown kind");
	/* HASH_RESP count checked before the hashes are looked for */
	n = frame_encode_hash_resp(buf, sizeof(buf), 1, 0, NULL);
	expect_reject(buf, n, -EPROTO, "HASH_RESP: count out of range");
	put_be32(buf + FRAME_HDR_LEN, 1);
	put_be32(buf + FRAME_HDR_LEN + 4, FRAME_MAX_HASHES + 1);
	expect_reject(buf, n, -EPROTO, "HASH_RESP: count out of range");
	put_be32(buf + FRAME_HDR_LEN + 4, 1); /* one hash promised, none sent */
	expect_reject(buf, n, -EPROTO, "truncated body");
}

/* Build a HELLO body by hand so names the encoder would never produce can be sent. */
struct hb {
	uint8_t *p;
	size_t n;
};

static void hb_u8(struct hb *b, uint8_t v) { b->p[b->n++] = v; }
static void hb_u16(struct hb *b, uint16_t v) { put_be16(b->p + b->n, v); b->n += 2; }
static void hb_u32(struct hb *b, uint32_t v) { put_be32(b->p + b->n, v); b->n += 4; }
static void hb_u64(struct hb *b, uint64_t v) { put_be64(b->p + b->n, v); b->n += 8; }
static void hb_name(struct hb *b, const char *s, size_t len)
{
	hb_u8(b, (uint8_t)len);
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

static size_t hello_raw(const char *machine, size_t mlen, const char *disk0, size_t dlen)
{
	struct hb b = { buf, FRAME_HDR_LEN };

	hb_name(&b, machine, mlen);
	hb_name(&b, "1.0", 3);
	hb_u16(&b, 2);
	hb_u32(&b, 65536);
	hb_u16(&b, 1);
	hb_u32(&b, 1);
	hb_u64(&b, 1 << 20);
	hb_name(&b, disk0, dlen);
	put_be32(buf, FRAME_MAGIC);
	buf[4] = FRAME_VERSION;
	buf[5] = FT_HELLO;
	put_be16(buf + 6, 0);
	put_be32(buf + 8, (uint32_t)(b.n - FRAME_HDR_LEN));
	return b.n;
}

static void test_hello_bad_names(void **state)
{
	static const char *const bad[] = { "", "../x", "a/b", ".hidden", "..", ".", "a b",
					   "a\\b", "caf\xc3\xa9", "x\n", "/" };
	char n63[64], n64[65];
	struct frame f;
	size_t n;

	(void)state;
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	n = hello_raw("ok", 2, n63, 63);
	expect_ok(buf, n, &f);
	assert_string_equal(f.hello.disks[0].name, n63);
	n = hello_raw(n63, 63, "ok", 2);
	expect_ok(buf, n, &f);
	assert_string_equal(f.hello.machine, n63);
	n = hello_raw("a.b-c_D9", 8, "x.img", 5);
	expect_ok(buf, n, &f);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = hello_raw(bad[i], strlen(bad[i]), "ok", 2);
		expect_reject(buf, n, -EPROTO, "HELLO: bad machine name");
		n = hello_raw("ok", 2, bad[i], strlen(bad[i]));
		expect_reject(buf, n, -EPROTO, "HELLO: bad disk entry");
	}
	n = hello_raw(n64, 64, "ok", 2);
	expect_reject(buf, n, -EPROTO, "HELLO: bad machine name");
	n = hello_raw("ok", 2, n64, 64);
	expect_reject(buf, n, -EPROTO, "HELLO: bad disk entry");
	/* a NUL inside a name must not cut it to a valid prefix */
	n = hello_raw("ab\0/../etc", 10, "ok", 2);
	expect_reject(buf, n, -EPROTO, "HELLO: bad machine name");
	n = hello_raw("ok", 2, "d\0x", 3);
	expect_reject(buf, n, -EPROTO, "HELLO: bad disk entry");
}

static void test_hello_bad_agent_version(void **state)
{
	struct hb b = { buf, FRAME_HDR_LEN };

	(void)state;
	hb_name(&b, "m", 1);
	hb_name(&b, "1/2", 3);
	hb_u16(&b, 2);
	hb_u32(&b, 65536);
	hb_u16(&b, 1);
	hb_u32(&b, 1);
	hb_u64(&b, 1 << 20);
	hb_name(&b, "d", 1);
	put_be32(buf, FRAME_MAGIC);
	buf[4] = FRAME_VERSION;
	buf[5] = FT_HELLO;
	put_be16(buf + 6, 0);
	put_be32(buf + 8, (uint32_t)(b.n - FRAME_HDR_LEN));
	expect_reject(buf, b.n, -EPROTO, "HELLO: bad agent version");
}

static void test_hello_disk_rejects(void **state)
{
	static struct hello_disk disks[FRAME_MAX_DISKS + 1];
	size_t n;

	(void)state;
	for (int i = 0; i <= FRAME_MAX_DISKS; i++) {
		disks[i].id = (uint32_t)i;
		disks[i].size = 1 << 20;
		snprintf(disks[i].name, sizeof(disks[i].name), "d%d", i);
	}
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, 0);
	expect_reject(buf, n, -EPROTO, "HELLO: disk count out of range");
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, FRAME_MAX_DISKS + 1);
	expect_reject(buf, n, -EPROTO, "HELLO: disk count out of range");

	/* duplicate ids (names differ), and duplicate names (ids differ) */
	disks[2].id = disks[0].id;
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, 3);
	expect_reject(buf, n, -EPROTO, "HELLO: duplicate disk");
	disks[2].id = 2;
	strcpy(disks[2].name, disks[1].name);
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, 3);
	expect_reject(buf, n, -EPROTO, "HELLO: duplicate disk");
	strcpy(disks[2].name, "d2");

	disks[1].size = 0;
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, 3);
	expect_reject(buf, n, -EPROTO, "HELLO: disk size out of range");
	disks[1].size = (UINT64_C(1) << 56) + 1;
	n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, 4096, disks, 3);
	expect_reject(buf, n, -EPROTO, "HELLO: disk size out of range");
	disks[1].size = 1 << 20;

	static const uint32_t bad_bs[] = { 0, 2048, 4097, 12288, FRAME_MAX_RAW * 2 };

	for (size_t i = 0; i < sizeof(bad_bs) / sizeof(bad_bs[0]); i++) {
		n = frame_encode_hello(buf, sizeof(buf), "m", "v", 2, bad_bs[i], disks, 3);
		expect_reject(buf, n, -EPROTO,
			      "HELLO: block size not a power of two in [4 KiB, 4 MiB]");
	}
}

/* ---- encoders and small buffers ---- */

typedef size_t (*encode_fn)(uint8_t *b, size_t cap);

static struct hello_disk enc_disks[2] = { { 1, 4096, "vda" }, { 2, 8192, "vdb" } };
static uint8_t enc_id[FRAME_EPOCH_LEN] = { 9 };
static uint8_t enc_hashes[5 * FRAME_HASH_LEN] = { 1, 2, 3 };

static size_t e_hello(uint8_t *b, size_t cap)
{
	return frame_encode_hello(b, cap, "machine", "0.1.0", 2, 65536, enc_disks, 2);
}
static size_t e_welcome(uint8_t *b, size_t cap) { return frame_encode_welcome(b, cap, 2, enc_id, 1, 5); }
static size_t e_zero(uint8_t *b, size_t cap) { return frame_encode_zero(b, cap, 1, 2, 0, 4096); }
static size_t e_flush(uint8_t *b, size_t cap) { return frame_encode_seq(b, cap, FT_FLUSH, 4); }
static size_t e_ack(uint8_t *b, size_t cap) { return frame_encode_seq(b, cap, FT_ACK, 4); }
static size_t e_hreq(uint8_t *b, size_t cap) { return frame_encode_hash_req(b, cap, 1, 2, 0, 4096, 5); }
static size_t e_hresp(uint8_t *b, size_t cap) { return frame_encode_hash_resp(b, cap, 1, 5, enc_hashes); }
static size_t e_mark(uint8_t *b, size_t cap) { return frame_encode_mark(b, cap, 1, MARK_CONSISTENT, 2, 2, 2); }
static size_t e_point(uint8_t *b, size_t cap) { return frame_encode_point(b, cap, 3, 4); }
static size_t e_error(uint8_t *b, size_t cap) { return frame_encode_error(b, cap, 6, "I/O error"); }
static size_t e_bye(uint8_t *b, size_t cap) { return frame_encode_bye(b, cap); }

static void test_encode_cap_too_small(void **state)
{
	static const encode_fn fns[] = { e_hello, e_welcome, e_zero, e_flush, e_ack,
					 e_hreq, e_hresp, e_mark, e_error, e_bye, e_point };

	(void)state;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		size_t need = fns[i](buf, sizeof(buf));
		uint8_t *exact;
		struct frame f;

		assert_true(need >= FRAME_HDR_LEN);
		/* every smaller capacity: 0, writing nothing past cap (ASan
		 * checks the exactly-sized heap buffer) */
		for (size_t cap = 0; cap < need; cap++) {
			uint8_t *small = malloc(cap); /* malloc(0): nothing may be written */

			if (cap)
				assert_non_null(small);
			assert_int_equal(fns[i](small, cap), 0);
			free(small);
		}
		exact = malloc(need);
		assert_non_null(exact);
		assert_int_equal(fns[i](exact, need), need);
		assert_memory_equal(exact, buf, need);
		expect_ok(exact, need, &f);
		free(exact);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(frame_type_name(FT_HELLO), "HELLO");
	assert_string_equal(frame_type_name(FT_HASH_RESP), "HASH_RESP");
	assert_string_equal(frame_type_name(FT_BYE), "BYE");
	assert_string_equal(frame_type_name(0), "UNKNOWN");
	assert_string_equal(frame_type_name(FT_POINT), "POINT");
	assert_string_equal(frame_type_name(FT_POINT + 1), "UNKNOWN");
	assert_string_equal(frame_type_name(255), "UNKNOWN");
	assert_string_equal(frame_error_name(ERR_NOSPACE), "staging store full");
	assert_string_equal(frame_error_name(ERR_BUSY), "replaced by a newer connection");
	assert_string_equal(frame_error_name(0), "unknown error");
	assert_string_equal(frame_error_name(12345), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_header_bad_magic),
		cmocka_unit_test(test_header_bad_version),
		cmocka_unit_test(test_header_unknown_type),
		cmocka_unit_test(test_header_flags),
		cmocka_unit_test(test_header_too_long),
		cmocka_unit_test(test_roundtrip_hello),
		cmocka_unit_test(test_roundtrip_welcome),
		cmocka_unit_test(test_roundtrip_data),
		cmocka_unit_test(test_roundtrip_zero),
		cmocka_unit_test(test_roundtrip_flush_ack),
		cmocka_unit_test(test_roundtrip_hash_req),
		cmocka_unit_test(test_roundtrip_hash_resp),
		cmocka_unit_test(test_roundtrip_mark),
		cmocka_unit_test(test_mark_from_older_agent),
		cmocka_unit_test(test_mark_rejects),
		cmocka_unit_test(test_roundtrip_point),
		cmocka_unit_test(test_hello_point_capability),
		cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_roundtrip_bye),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_truncated_hello_reasons),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_data_rejects),
		cmocka_unit_test(test_zero_rejects),
		cmocka_unit_test(test_hash_req_rejects),
		cmocka_unit_test(test_other_field_rejects),
		cmocka_unit_test(test_hello_bad_names),
		cmocka_unit_test(test_hello_bad_agent_version),
		cmocka_unit_test(test_hello_disk_rejects),
		cmocka_unit_test(test_encode_cap_too_small),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
