// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the network trust boundary: livemig-staging parses frames straight
 * off the wire. The input is treated as a byte stream of frames, parsed one
 * after another as the receiver does, stopping at the first error or at a
 * frame whose body has not fully "arrived". A parsed DATA frame with
 * CODEC_DEFLATE is inflated into a raw_len buffer, as staging does.
 *
 * Beyond "no crash, leak or UB", every accepted frame is checked for the
 * properties the rest of the code relies on, and a violation aborts:
 *   - fields are within the limits frame.h documents (names valid, counts
 *     and lengths in range, payload pointers inside the body);
 *   - re-encoding the parsed frame reproduces the input bytes exactly
 *     (the wire format has a single encoding for each message);
 *   - when codec_inflate() accepts a payload and plain zlib also inflates
 *     it, zlib consumed the whole payload and produced the same bytes.
 * Each body is copied into an exactly-sized heap buffer, so any read past
 * the declared length is caught by AddressSanitizer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "bytes.h"
#include "codec.h"
#include "frame.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_frame: %s:%d: check failed: %s\n",    \
				__FILE__, __LINE__, #cond);                          \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* Large enough for any frame except DATA, whose prefix alone is re-encoded. */
static uint8_t reenc[FRAME_HDR_LEN + 8 + FRAME_MAX_HASHES * FRAME_HASH_LEN + 64];

static int printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return 0;
	return 1;
}

static void check_inflate(const struct frame *f)
{
	uint8_t *dst = malloc(f->data.raw_len), *ref;
	uLongf ref_len = f->data.raw_len;
	uLong src_len = f->data.payload_len;
	int rc;

	CHECK(dst != NULL);
	rc = codec_inflate(f->data.payload, f->data.payload_len, dst, f->data.raw_len);
	CHECK(rc == 0 || rc == -EBADMSG);
	if (rc == 0) {
		/* Differential: where zlib also decodes the stream, it must agree
		 * on where the stream ends (nothing may follow it), how long the
		 * output is, and every byte. (zlib may reject what ISA-L accepts,
		 * e.g. a distance beyond the window the zlib header declares; the
		 * output is still well defined.) */
		ref = malloc(f->data.raw_len);
		CHECK(ref != NULL);
		if (uncompress2(ref, &ref_len, f->data.payload, &src_len) == Z_OK) {
			CHECK(src_len == f->data.payload_len);
			CHECK(ref_len == f->data.raw_len);
			CHECK(memcmp(ref, dst, f->data.raw_len) == 0);
		}
		free(ref);
	}
	free(dst);
}

static void check_frame(const struct frame_hdr *h, const uint8_t *wire, const uint8_t *body,
			const struct frame *f)
{
	size_t n = 0, total = FRAME_HDR_LEN + (size_t)h->len;

	CHECK(f->type == h->type);
	switch (f->type) {
	case FT_HELLO:
		CHECK(name_valid(f->hello.machine));
		CHECK(f->hello.agent_version[0] == '\0' || name_valid(f->hello.agent_version));
		CHECK(f->hello.ndisks >= 1 && f->hello.ndisks <= FRAME_MAX_DISKS);
		CHECK(f->hello.block_size >= 4096 && f->hello.block_size <= FRAME_MAX_RAW);
		for (unsigned i = 0; i < f->hello.ndisks; i++) {
			CHECK(name_valid(f->hello.disks[i].name));
			CHECK(f->hello.disks[i].size > 0);
			for (unsigned j = 0; j < i; j++)
				CHECK(f->hello.disks[i].id != f->hello.disks[j].id &&
				      strcmp(f->hello.disks[i].name, f->hello.disks[j].name));
		}
		n = frame_encode_hello(reenc, sizeof(reenc), f->hello.machine,
				       f->hello.agent_version, f->hello.codecs,
				       f->hello.block_size, f->hello.disks, f->hello.ndisks);
		break;
	case FT_WELCOME:
		CHECK(f->welcome.store_was_new <= 1);
		n = frame_encode_welcome(reenc, sizeof(reenc), f->welcome.codecs,
					 f->welcome.store_id, f->welcome.store_was_new,
					 f->welcome.consistent_ns);
		break;
	case FT_DATA:
		CHECK(f->data.raw_len >= 1 && f->data.raw_len <= FRAME_MAX_RAW);
		CHECK(f->data.offset <= UINT64_MAX - f->data.raw_len);
		CHECK(f->data.payload_len >= 1 && f->data.payload_len <= h->len);
		CHECK(f->data.payload == body + (h->len - f->data.payload_len));
		CHECK(f->data.codec == CODEC_NONE || f->data.codec == CODEC_DEFLATE);
		if (f->data.codec == CODEC_NONE)
			CHECK(f->data.payload_len == f->data.raw_len);
		n = frame_encode_data_prefix(reenc, f->data.seq, f->data.disk, f->data.codec,
					     f->data.offset, f->data.raw_len,
					     f->data.payload_len);
		CHECK(n == FRAME_DATA_PREFIX && n + f->data.payload_len == total);
		CHECK(memcmp(reenc, wire, n) == 0);
		if (f->data.codec == CODEC_DEFLATE)
			check_inflate(f);
		return;
	case FT_ZERO:
		CHECK(f->zero.length >= 1 && f->zero.offset <= UINT64_MAX - f->zero.length);
		n = frame_encode_zero(reenc, sizeof(reenc), f->zero.seq, f->zero.disk,
				      f->zero.offset, f->zero.length);
		break;
	case FT_FLUSH:
	case FT_ACK:
		n = frame_encode_seq(reenc, sizeof(reenc), f->type, f->ack.seq);
		break;
	case FT_HASH_REQ:
		CHECK(f->hash_req.count >= 1 && f->hash_req.count <= FRAME_MAX_HASHES);
		CHECK(f->hash_req.offset % f->hash_req.block_size == 0);
		n = frame_encode_hash_req(reenc, sizeof(reenc), f->hash_req.req_id,
					  f->hash_req.disk, f->hash_req.offset,
					  f->hash_req.block_size, f->hash_req.count);
		break;
	case FT_HASH_RESP:
		CHECK(f->hash_resp.count >= 1 && f->hash_resp.count <= FRAME_MAX_HASHES);
		CHECK(f->hash_resp.hashes == body + 8);
		CHECK(8 + (size_t)f->hash_resp.count * FRAME_HASH_LEN == h->len);
		n = frame_encode_hash_resp(reenc, sizeof(reenc), f->hash_resp.req_id,
					   f->hash_resp.count, f->hash_resp.hashes);
		break;
	case FT_MARK:
		CHECK(f->mark.kind == MARK_CONSISTENT);
		CHECK(h->len == FRAME_MARK_LEN_V1 || h->len == FRAME_MARK_LEN);
		CHECK(f->mark.origin >= MARK_ORIGIN_FINAL_SYNC &&
		      f->mark.origin <= MARK_ORIGIN_REQUESTED);
		CHECK(f->mark.consistency >= MARK_CONSISTENCY_CRASH &&
		      f->mark.consistency <= MARK_CONSISTENCY_APPLICATION);
		n = frame_encode_mark(reenc, sizeof(reenc), f->mark.seq, f->mark.kind,
				      f->mark.time_ns, f->mark.origin, f->mark.consistency);
		if (h->len == FRAME_MARK_LEN_V1) {
			/* an older agent's MARK: a crash-consistent final sync */
			CHECK(f->mark.origin == MARK_ORIGIN_FINAL_SYNC &&
			      f->mark.consistency == MARK_CONSISTENCY_CRASH);
			n -= 2;
			put_be32(reenc + 8, FRAME_MARK_LEN_V1);
		}
		break;
	case FT_POINT:
		CHECK(f->point.point_id != 0);
		n = frame_encode_point(reenc, sizeof(reenc), f->point.mark_seq, f->point.point_id);
		break;
	case FT_ERROR:
		CHECK(strlen(f->error.msg) + 5 == h->len);
		CHECK(printable((const uint8_t *)f->error.msg, strlen(f->error.msg)));
		if (!printable(body + 5, h->len - 5))
			return; /* neutralised bytes do not re-encode as sent */
		n = frame_encode_error(reenc, sizeof(reenc), f->error.code, f->error.msg);
		break;
	case FT_BYE:
		CHECK(h->len == 0);
		n = frame_encode_bye(reenc, sizeof(reenc));
		break;
	default:
		CHECK(!"parser accepted an unknown type");
	}
	CHECK(n == total);
	CHECK(memcmp(reenc, wire, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (size - pos >= FRAME_HDR_LEN) {
		struct frame_hdr h;
		struct frame f;
		const char *why = NULL;
		uint8_t *body;
		int rc;

		rc = frame_parse_header(data + pos, &h, &why);
		if (rc) {
			CHECK(rc == -EPROTO || rc == -EPROTONOSUPPORT);
			CHECK(why != NULL);
			break;
		}
		CHECK(h.len <= FRAME_MAX_BODY);
		if (h.len > size - pos - FRAME_HDR_LEN)
			break; /* the rest of this frame never arrived */
		/* exactly sized, so ASan sees any read past the body
		 * (malloc(0) gives a unique zero-byte block) */
		body = malloc(h.len);
		CHECK(body != NULL || h.len == 0);
		if (h.len)
			memcpy(body, data + pos + FRAME_HDR_LEN, h.len);
		why = NULL;
		rc = frame_parse_body(&h, body, &f, &why);
		if (rc) {
			CHECK(rc == -EPROTO);
			CHECK(why != NULL);
			free(body);
			break;
		}
		check_frame(&h, data + pos, body, &f);
		/* the names a receiver would log never fail */
		CHECK(frame_type_name(f.type) != NULL);
		free(body);
		pos += FRAME_HDR_LEN + h.len;
	}
	return 0;
}
