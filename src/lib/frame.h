/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wire protocol between livemigd (agent) and livemig-staging.
 * docs/protocol.md is the normative description; this header mirrors it.
 *
 * Every message is a 12-byte header followed by a body of `len` bytes.
 * All integers are big-endian. Parsers check every length before use:
 * the staging side parses input from the network, so nothing here trusts it.
 */
#ifndef LIVEMIG_FRAME_H
#define LIVEMIG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC        0x4c4d4947u /* "LMIG" */
#define FRAME_VERSION      1
#define FRAME_HDR_LEN      12

#define FRAME_MAX_RAW      (4u << 20)               /* largest extent one DATA frame covers */
#define FRAME_MAX_BODY     (FRAME_MAX_RAW + 4096u)  /* payload plus body fields, with room */
#define FRAME_MAX_DISKS    64
#define FRAME_NAME_MAX     63                       /* disk names, version strings */
#define FRAME_HASH_LEN     16                       /* truncated SHA-256 per block */
#define FRAME_MAX_HASHES   4096                     /* blocks per HASH_REQ */
#define FRAME_EPOCH_LEN    16
#define FRAME_MSG_MAX      255

enum frame_type {
	FT_HELLO     = 1,  /* agent -> staging: who, which disks, codecs */
	FT_WELCOME   = 2,  /* staging -> agent: accepted codecs, store id */
	FT_DATA      = 3,  /* agent -> staging: (compressed) bytes at an offset */
	FT_ZERO      = 4,  /* agent -> staging: an all-zero extent */
	FT_FLUSH     = 5,  /* agent -> staging: make everything up to seq durable now */
	FT_ACK       = 6,  /* staging -> agent: everything up to seq is durable */
	FT_HASH_REQ  = 7,  /* agent -> staging: hashes of a run of blocks */
	FT_HASH_RESP = 8,  /* staging -> agent */
	FT_MARK      = 9,  /* agent -> staging: record a consistent point */
	FT_ERROR     = 10, /* either way: why the sender is closing */
	FT_BYE       = 11, /* either way: orderly close */
	FT_POINT     = 12, /* staging -> agent: a MARK became a durable recovery point */
};

enum frame_codec {
	CODEC_NONE    = 0,
	CODEC_DEFLATE = 1, /* zlib format (RFC 1950); any zlib can inflate it */
};
#define CODEC_MASK_ALL (1u << CODEC_DEFLATE)

/* Abilities other than codecs travel in the same HELLO/WELCOME bit mask,
 * from the top bit down: old peers mask them away. */
#define HELLO_CAP_POINT (1u << 15) /* the agent understands POINT frames */
#define HELLO_CAP_ALL   HELLO_CAP_POINT

enum frame_error {
	ERR_PROTOCOL = 1, /* malformed or unexpected frame */
	ERR_VERSION  = 2, /* protocol version not spoken */
	ERR_AUTH     = 3, /* certificate does not allow this */
	ERR_DISK     = 4, /* unknown disk, range past its end, size mismatch */
	ERR_NOSPACE  = 5, /* staging store is full: retry later */
	ERR_IO       = 6, /* staging store I/O error */
	ERR_BUSY     = 7, /* another connection replaced this one */
};

enum mark_kind {
	MARK_CONSISTENT = 1, /* replica equals the source as of `time_ns` */
};

/* How a consistent point was made (MARK's optional trailing bytes). */
enum mark_origin {
	MARK_ORIGIN_FINAL_SYNC = 1, /* the end of `livemig sync` */
	MARK_ORIGIN_PERIODIC   = 2, /* the agent's periodic point */
	MARK_ORIGIN_REQUESTED  = 3, /* `livemig point` */
};

enum mark_consistency {
	MARK_CONSISTENCY_CRASH       = 1, /* as after a power cut */
	MARK_CONSISTENCY_FILESYSTEM  = 2, /* file systems were frozen */
	MARK_CONSISTENCY_APPLICATION = 3, /* frozen, and every freeze hook succeeded */
};

#define FRAME_MARK_LEN_V1 17 /* seq, kind, time_ns: an older agent */
#define FRAME_MARK_LEN    19 /* ... origin, consistency */

struct frame_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t len;
};

struct hello_disk {
	uint32_t id;
	uint64_t size;
	char name[FRAME_NAME_MAX + 1];
};

struct frame {
	uint8_t type;
	union {
		struct {
			char machine[FRAME_NAME_MAX + 1];
			char agent_version[FRAME_NAME_MAX + 1];
			uint16_t codecs;
			uint32_t block_size;
			uint16_t ndisks;
			struct hello_disk disks[FRAME_MAX_DISKS];
		} hello;
		struct {
			uint16_t codecs;
			uint8_t store_id[FRAME_EPOCH_LEN];
			uint8_t store_was_new;
			uint64_t consistent_ns; /* last MARK_CONSISTENT, 0 if none */
		} welcome;
		struct {
			uint64_t seq;
			uint32_t disk;
			uint8_t codec;
			uint64_t offset;
			uint32_t raw_len;
			uint32_t payload_len;
			const uint8_t *payload; /* points into the parsed body */
		} data;
		struct {
			uint64_t seq;
			uint32_t disk;
			uint64_t offset;
			uint64_t length;
		} zero;
		struct {
			uint64_t seq;
		} flush, ack;
		struct {
			uint32_t req_id;
			uint32_t disk;
			uint64_t offset;
			uint32_t block_size;
			uint32_t count;
		} hash_req;
		struct {
			uint32_t req_id;
			uint32_t count;
			const uint8_t *hashes; /* count * FRAME_HASH_LEN bytes in the body */
		} hash_resp;
		struct {
			uint64_t seq;
			uint8_t kind;
			uint64_t time_ns;
			uint8_t origin;      /* enum mark_origin */
			uint8_t consistency; /* enum mark_consistency */
		} mark;
		struct {
			uint64_t mark_seq;
			uint64_t point_id;
		} point;
		struct {
			uint32_t code;
			char msg[FRAME_MSG_MAX + 1];
		} error;
	};
};

/*
 * Parsing. Both return 0 or a negative errno (-EPROTO for anything malformed,
 * -EPROTONOSUPPORT for a version we do not speak) and set *why to a static
 * string naming the defect, for the log line that closes the connection.
 */
int frame_parse_header(const uint8_t *buf, struct frame_hdr *h, const char **why);
int frame_parse_body(const struct frame_hdr *h, const uint8_t *body, struct frame *f,
		     const char **why);

/*
 * Encoding. Each writes header and body into buf (at least the returned size)
 * and returns the total length, or 0 if cap is too small.
 */
size_t frame_encode_hello(uint8_t *buf, size_t cap, const char *machine,
			  const char *agent_version, uint16_t codecs, uint32_t block_size,
			  const struct hello_disk *disks, uint16_t ndisks);
size_t frame_encode_welcome(uint8_t *buf, size_t cap, uint16_t codecs,
			    const uint8_t store_id[FRAME_EPOCH_LEN], int store_was_new,
			    uint64_t consistent_ns);
/* DATA: the payload is written by the caller after the returned header+fields length. */
#define FRAME_DATA_PREFIX (FRAME_HDR_LEN + 28)
size_t frame_encode_data_prefix(uint8_t *buf, uint64_t seq, uint32_t disk, uint8_t codec,
				uint64_t offset, uint32_t raw_len, uint32_t payload_len);
size_t frame_encode_zero(uint8_t *buf, size_t cap, uint64_t seq, uint32_t disk,
			 uint64_t offset, uint64_t length);
size_t frame_encode_seq(uint8_t *buf, size_t cap, uint8_t type, uint64_t seq); /* FLUSH, ACK */
size_t frame_encode_hash_req(uint8_t *buf, size_t cap, uint32_t req_id, uint32_t disk,
			     uint64_t offset, uint32_t block_size, uint32_t count);
/* HASH_RESP: hashes are copied in. */
size_t frame_encode_hash_resp(uint8_t *buf, size_t cap, uint32_t req_id, uint32_t count,
			      const uint8_t *hashes);
size_t frame_encode_mark(uint8_t *buf, size_t cap, uint64_t seq, uint8_t kind, uint64_t time_ns,
			 uint8_t origin, uint8_t consistency);
size_t frame_encode_point(uint8_t *buf, size_t cap, uint64_t mark_seq, uint64_t point_id);
size_t frame_encode_error(uint8_t *buf, size_t cap, uint32_t code, const char *msg);
size_t frame_encode_bye(uint8_t *buf, size_t cap);

const char *frame_type_name(uint8_t type);
const char *frame_error_name(uint32_t code);

#endif
