// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "util.h"

#define BAD(reason) do { *why = (reason); return -EPROTO; } while (0)

int frame_parse_header(const uint8_t *buf, struct frame_hdr *h, const char **why)
{
	if (get_be32(buf) != FRAME_MAGIC)
		BAD("bad magic");
	h->version = buf[4];
	h->type = buf[5];
	h->flags = get_be16(buf + 6);
	h->len = get_be32(buf + 8);
	if (h->version != FRAME_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTONOSUPPORT;
	}
	if (h->type < FT_HELLO || h->type > FT_POINT)
		BAD("unknown frame type");
	if (h->flags != 0)
		BAD("reserved flags set");
	if (h->len > FRAME_MAX_BODY)
		BAD("frame longer than the protocol allows");
	return 0;
}

/* A cursor over an untrusted body: every take checks the remaining length. */
struct cursor {
	const uint8_t *p;
	uint32_t left;
	int short_read;
};

static const uint8_t *take(struct cursor *c, uint32_t n)
{
	const uint8_t *p = c->p;

	if (c->left < n) {
		c->short_read = 1;
		c->left = 0;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint8_t take8(struct cursor *c) { const uint8_t *p = take(c, 1); return p ? p[0] : 0; }
static uint16_t take16(struct cursor *c) { const uint8_t *p = take(c, 2); return p ? get_be16(p) : 0; }
static uint32_t take32(struct cursor *c) { const uint8_t *p = take(c, 4); return p ? get_be32(p) : 0; }
static uint64_t take64(struct cursor *c) { const uint8_t *p = take(c, 8); return p ? get_be64(p) : 0; }

/* Names travel as a length byte and bytes; they become directory and file
 * names on staging, so only a conservative alphabet is accepted. */
static int take_name(struct cursor *c, char *out, int allow_empty)
{
	uint8_t n = take8(c);
	const uint8_t *p = take(c, n);

	if (!p || n > FRAME_NAME_MAX)
		return -1;
	if (n && memchr(p, '\0', n))
		return -1; /* would pass name_valid() as a shorter, different name */
	memcpy(out, p, n);
	out[n] = '\0';
	if (n == 0)
		return allow_empty ? 0 : -1;
	return name_valid(out) ? 0 : -1;
}

static int parse_hello(struct cursor *c, struct frame *f, const char **why)
{
	if (take_name(c, f->hello.machine, 0))
		BAD("HELLO: bad machine name");
	if (take_name(c, f->hello.agent_version, 1))
		BAD("HELLO: bad agent version");
	f->hello.codecs = take16(c);
	f->hello.block_size = take32(c);
	f->hello.ndisks = take16(c);
	if (c->short_read)
		BAD("HELLO: truncated");
	if (f->hello.block_size < 4096 || f->hello.block_size > FRAME_MAX_RAW ||
	    (f->hello.block_size & (f->hello.block_size - 1)))
		BAD("HELLO: block size not a power of two in [4 KiB, 4 MiB]");
	if (f->hello.ndisks == 0 || f->hello.ndisks > FRAME_MAX_DISKS)
		BAD("HELLO: disk count out of range");
	for (uint16_t i = 0; i < f->hello.ndisks; i++) {
		struct hello_disk *d = &f->hello.disks[i];

		d->id = take32(c);
		d->size = take64(c);
		if (take_name(c, d->name, 0) || c->short_read)
			BAD("HELLO: bad disk entry");
		if (d->size == 0 || d->size > (UINT64_C(1) << 56))
			BAD("HELLO: disk size out of range");
		for (uint16_t j = 0; j < i; j++)
			if (f->hello.disks[j].id == d->id || !strcmp(f->hello.disks[j].name, d->name))
				BAD("HELLO: duplicate disk");
	}
	return 0;
}

int frame_parse_body(const struct frame_hdr *h, const uint8_t *body, struct frame *f,
		     const char **why)
{
	struct cursor c = { body, h->len, 0 };
	int rc = 0;

	memset(f, 0, sizeof(*f));
	f->type = h->type;
	switch (h->type) {
	case FT_HELLO:
		rc = parse_hello(&c, f, why);
		if (rc)
			return rc;
		break;
	case FT_WELCOME: {
		const uint8_t *id;

		f->welcome.codecs = take16(&c);
		id = take(&c, FRAME_EPOCH_LEN);
		if (id)
			memcpy(f->welcome.store_id, id, FRAME_EPOCH_LEN);
		f->welcome.store_was_new = take8(&c);
		f->welcome.consistent_ns = take64(&c);
		if (f->welcome.store_was_new > 1)
			BAD("WELCOME: bad flag");
		break;
	}
	case FT_DATA: {
		const uint8_t *pad;

		f->data.seq = take64(&c);
		f->data.disk = take32(&c);
		f->data.codec = take8(&c);
		pad = take(&c, 3);
		f->data.offset = take64(&c);
		f->data.raw_len = take32(&c);
		if (c.short_read)
			BAD("DATA: truncated");
		if (pad[0] | pad[1] | pad[2])
			BAD("DATA: reserved bytes set");
		f->data.payload_len = c.left;
		f->data.payload = take(&c, c.left);
		if (f->data.raw_len == 0 || f->data.raw_len > FRAME_MAX_RAW)
			BAD("DATA: length out of range");
		if (f->data.offset > UINT64_MAX - f->data.raw_len)
			BAD("DATA: offset overflows");
		if (f->data.payload_len == 0)
			BAD("DATA: empty payload");
		if (f->data.codec == CODEC_NONE) {
			if (f->data.payload_len != f->data.raw_len)
				BAD("DATA: raw payload length differs from declared length");
		} else if (f->data.codec != CODEC_DEFLATE) {
			BAD("DATA: unknown codec");
		}
		return 0;
	}
	case FT_ZERO:
		f->zero.seq = take64(&c);
		f->zero.disk = take32(&c);
		if (take32(&c) != 0)
			BAD("ZERO: reserved bytes set");
		f->zero.offset = take64(&c);
		f->zero.length = take64(&c);
		if (!c.short_read && (f->zero.length == 0 ||
				      f->zero.offset > UINT64_MAX - f->zero.length))
			BAD("ZERO: length out of range");
		break;
	case FT_FLUSH:
	case FT_ACK:
		f->ack.seq = take64(&c);
		break;
	case FT_HASH_REQ:
		f->hash_req.req_id = take32(&c);
		f->hash_req.disk = take32(&c);
		f->hash_req.offset = take64(&c);
		f->hash_req.block_size = take32(&c);
		f->hash_req.count = take32(&c);
		if (c.short_read)
			break;
		if (f->hash_req.block_size < 4096 || f->hash_req.block_size > FRAME_MAX_RAW ||
		    (f->hash_req.block_size & (f->hash_req.block_size - 1)))
			BAD("HASH_REQ: bad block size");
		if (f->hash_req.count == 0 || f->hash_req.count > FRAME_MAX_HASHES)
			BAD("HASH_REQ: count out of range");
		if (f->hash_req.offset % f->hash_req.block_size)
			BAD("HASH_REQ: offset not block aligned");
		if (f->hash_req.offset > UINT64_MAX -
		    (uint64_t)f->hash_req.count * f->hash_req.block_size)
			BAD("HASH_REQ: range overflows");
		break;
	case FT_HASH_RESP:
		f->hash_resp.req_id = take32(&c);
		f->hash_resp.count = take32(&c);
		if (c.short_read)
			break;
		if (f->hash_resp.count == 0 || f->hash_resp.count > FRAME_MAX_HASHES)
			BAD("HASH_RESP: count out of range");
		f->hash_resp.hashes = take(&c, f->hash_resp.count * FRAME_HASH_LEN);
		break;
	case FT_MARK:
		/* an older agent sends no origin and consistency: its MARKs
		 * were all final syncs of a running machine */
		if (h->len != FRAME_MARK_LEN_V1 && h->len != FRAME_MARK_LEN)
			BAD("MARK: length is neither 17 nor 19 bytes");
		f->mark.seq = take64(&c);
		f->mark.kind = take8(&c);
		f->mark.time_ns = take64(&c);
		f->mark.origin = MARK_ORIGIN_FINAL_SYNC;
		f->mark.consistency = MARK_CONSISTENCY_CRASH;
		if (h->len == FRAME_MARK_LEN) {
			f->mark.origin = take8(&c);
			f->mark.consistency = take8(&c);
		}
		if (f->mark.kind != MARK_CONSISTENT)
			BAD("MARK: unknown kind");
		if (f->mark.origin < MARK_ORIGIN_FINAL_SYNC || f->mark.origin > MARK_ORIGIN_REQUESTED)
			BAD("MARK: unknown origin");
		if (f->mark.consistency < MARK_CONSISTENCY_CRASH ||
		    f->mark.consistency > MARK_CONSISTENCY_APPLICATION)
			BAD("MARK: unknown consistency");
		break;
	case FT_POINT:
		f->point.mark_seq = take64(&c);
		f->point.point_id = take64(&c);
		if (!c.short_read && f->point.point_id == 0)
			BAD("POINT: point id 0");
		break;
	case FT_ERROR: {
		uint8_t n;
		const uint8_t *p;

		f->error.code = take32(&c);
		n = take8(&c);
		p = take(&c, n);
		if (p) {
			for (uint8_t i = 0; i < n; i++)
				f->error.msg[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
			f->error.msg[n] = '\0';
		}
		break;
	}
	case FT_BYE:
		break;
	default:
		BAD("unknown frame type");
	}
	if (c.short_read)
		BAD("truncated body");
	if (c.left)
		BAD("trailing bytes after body");
	return 0;
}

/* ---- encoding ---- */

struct out {
	uint8_t *p;
	size_t left;
	int overflow;
};

static uint8_t *put(struct out *o, size_t n)
{
	uint8_t *p = o->p;

	if (o->left < n) {
		o->overflow = 1;
		o->left = 0;
		return NULL;
	}
	o->p += n;
	o->left -= n;
	return p;
}

static void put8(struct out *o, uint8_t v) { uint8_t *p = put(o, 1); if (p) p[0] = v; }
static void put16(struct out *o, uint16_t v) { uint8_t *p = put(o, 2); if (p) put_be16(p, v); }
static void put32(struct out *o, uint32_t v) { uint8_t *p = put(o, 4); if (p) put_be32(p, v); }
static void put64(struct out *o, uint64_t v) { uint8_t *p = put(o, 8); if (p) put_be64(p, v); }

static void put_bytes(struct out *o, const void *src, size_t n)
{
	uint8_t *p = put(o, n);

	if (p && n)
		memcpy(p, src, n);
}

static void put_str(struct out *o, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	put8(o, (uint8_t)n);
	put_bytes(o, s, n);
}

static void put_header(uint8_t *buf, uint8_t type, uint32_t len)
{
	put_be32(buf, FRAME_MAGIC);
	buf[4] = FRAME_VERSION;
	buf[5] = type;
	put_be16(buf + 6, 0);
	put_be32(buf + 8, len);
}

/* Start a frame: reserve the header, fill it in at finish. */
static struct out begin(uint8_t *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	put(&o, FRAME_HDR_LEN);
	return o;
}

static size_t finish(uint8_t *buf, struct out *o, uint8_t type)
{
	size_t total;

	if (o->overflow)
		return 0;
	total = (size_t)(o->p - buf);
	put_header(buf, type, (uint32_t)(total - FRAME_HDR_LEN));
	return total;
}

size_t frame_encode_hello(uint8_t *buf, size_t cap, const char *machine,
			  const char *agent_version, uint16_t codecs, uint32_t block_size,
			  const struct hello_disk *disks, uint16_t ndisks)
{
	struct out o = begin(buf, cap);

	put_str(&o, machine, FRAME_NAME_MAX);
	put_str(&o, agent_version, FRAME_NAME_MAX);
	put16(&o, codecs);
	put32(&o, block_size);
	put16(&o, ndisks);
	for (uint16_t i = 0; i < ndisks; i++) {
		put32(&o, disks[i].id);
		put64(&o, disks[i].size);
		put_str(&o, disks[i].name, FRAME_NAME_MAX);
	}
	return finish(buf, &o, FT_HELLO);
}

size_t frame_encode_welcome(uint8_t *buf, size_t cap, uint16_t codecs,
			    const uint8_t store_id[FRAME_EPOCH_LEN], int store_was_new,
			    uint64_t consistent_ns)
{
	struct out o = begin(buf, cap);

	put16(&o, codecs);
	put_bytes(&o, store_id, FRAME_EPOCH_LEN);
	put8(&o, store_was_new ? 1 : 0);
	put64(&o, consistent_ns);
	return finish(buf, &o, FT_WELCOME);
}

size_t frame_encode_data_prefix(uint8_t *buf, uint64_t seq, uint32_t disk, uint8_t codec,
				uint64_t offset, uint32_t raw_len, uint32_t payload_len)
{
	put_header(buf, FT_DATA, 28 + payload_len);
	put_be64(buf + 12, seq);
	put_be32(buf + 20, disk);
	buf[24] = codec;
	buf[25] = buf[26] = buf[27] = 0;
	put_be64(buf + 28, offset);
	put_be32(buf + 36, raw_len);
	return FRAME_DATA_PREFIX;
}

size_t frame_encode_zero(uint8_t *buf, size_t cap, uint64_t seq, uint32_t disk,
			 uint64_t offset, uint64_t length)
{
	struct out o = begin(buf, cap);

	put64(&o, seq);
	put32(&o, disk);
	put32(&o, 0);
	put64(&o, offset);
	put64(&o, length);
	return finish(buf, &o, FT_ZERO);
}

size_t frame_encode_seq(uint8_t *buf, size_t cap, uint8_t type, uint64_t seq)
{
	struct out o = begin(buf, cap);

	put64(&o, seq);
	return finish(buf, &o, type);
}

size_t frame_encode_hash_req(uint8_t *buf, size_t cap, uint32_t req_id, uint32_t disk,
			     uint64_t offset, uint32_t block_size, uint32_t count)
{
	struct out o = begin(buf, cap);

	put32(&o, req_id);
	put32(&o, disk);
	put64(&o, offset);
	put32(&o, block_size);
	put32(&o, count);
	return finish(buf, &o, FT_HASH_REQ);
}

size_t frame_encode_hash_resp(uint8_t *buf, size_t cap, uint32_t req_id, uint32_t count,
			      const uint8_t *hashes)
{
	struct out o = begin(buf, cap);

	put32(&o, req_id);
	put32(&o, count);
	put_bytes(&o, hashes, (size_t)count * FRAME_HASH_LEN);
	return finish(buf, &o, FT_HASH_RESP);
}

size_t frame_encode_mark(uint8_t *buf, size_t cap, uint64_t seq, uint8_t kind, uint64_t time_ns,
			 uint8_t origin, uint8_t consistency)
{
	struct out o = begin(buf, cap);

	put64(&o, seq);
	put8(&o, kind);
	put64(&o, time_ns);
	put8(&o, origin);
	put8(&o, consistency);
	return finish(buf, &o, FT_MARK);
}

size_t frame_encode_point(uint8_t *buf, size_t cap, uint64_t mark_seq, uint64_t point_id)
{
	struct out o = begin(buf, cap);

	put64(&o, mark_seq);
	put64(&o, point_id);
	return finish(buf, &o, FT_POINT);
}

size_t frame_encode_error(uint8_t *buf, size_t cap, uint32_t code, const char *msg)
{
	struct out o = begin(buf, cap);

	put32(&o, code);
	put_str(&o, msg, FRAME_MSG_MAX);
	return finish(buf, &o, FT_ERROR);
}

size_t frame_encode_bye(uint8_t *buf, size_t cap)
{
	struct out o = begin(buf, cap);

	return finish(buf, &o, FT_BYE);
}

const char *frame_type_name(uint8_t type)
{
	static const char *const names[] = {
		[FT_HELLO] = "HELLO", [FT_WELCOME] = "WELCOME", [FT_DATA] = "DATA",
		[FT_ZERO] = "ZERO", [FT_FLUSH] = "FLUSH", [FT_ACK] = "ACK",
		[FT_HASH_REQ] = "HASH_REQ", [FT_HASH_RESP] = "HASH_RESP", [FT_MARK] = "MARK",
		[FT_ERROR] = "ERROR", [FT_BYE] = "BYE", [FT_POINT] = "POINT",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

const char *frame_error_name(uint32_t code)
{
	switch (code) {
	case ERR_PROTOCOL: return "protocol error";
	case ERR_VERSION: return "unsupported protocol version";
	case ERR_AUTH: return "not authorized";
	case ERR_DISK: return "disk error";
	case ERR_NOSPACE: return "staging store full";
	case ERR_IO: return "staging I/O error";
	case ERR_BUSY: return "replaced by a newer connection";
	default: return "unknown error";
	}
}
