// SPDX-License-Identifier: GPL-2.0-or-later
/* Compression workers, the one place slots become frames: per 64 KiB block
 * decide zero / unchanged / data (fingerprints only where the pass compares;
 * a comparing pass's differing blocks then by 4 KiB piece, refine.c), then
 * encode runs of blocks or pieces as ZERO and DATA frames: headers and deflated
 * payloads into the slot's wire buffer, raw payloads left where they were
 * read; a MARK slot becomes its MARK frame. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "blockhash.h"
#include "codec.h"
#include "compress_choice.h"
#include "log.h"
#include "pieces.h"
#include "util.h"

/* The seq for the slot's next frame. */
static uint64_t next_seq(struct slot *s)
{
	if (s->last_seq - s->seq + 1 >= SLOT_MAX_FRAMES)
		abort(); /* cannot happen: a slot makes at most 128 frames (ring.h) */
	return ++s->last_seq;
}

/* Append to what the slot sends: len bytes at p, either just written at the
 * end of its wire buffer (merged with the piece before when that one ends
 * there) or, for a raw payload, a range of its raw buffer, sent from there
 * rather than copied. */
static void add_piece(struct slot *s, const uint8_t *p, size_t len, int in_wire)
{
	struct wire_piece *last = s->npieces ? &s->piece[s->npieces - 1] : NULL;

	if (in_wire)
		s->wire_used += len;
	s->wire_len += len;
	if (in_wire && last && last->in_wire && last->p + last->len == p) {
		last->len += len;
		return;
	}
	if (s->npieces >= SLOT_MAX_PIECES)
		abort(); /* cannot happen: at most two pieces per frame */
	s->piece[s->npieces++] = (struct wire_piece){ .p = p, .len = len, .in_wire = in_wire };
}

static uint8_t *wire_end(struct slot *s)
{
	return s->wire + s->wire_used;
}

static void put_raw(struct slot *s, uint32_t disk_id, uint64_t off, const uint8_t *src,
		    uint32_t rlen)
{
	uint8_t *out = wire_end(s);

	frame_encode_data_prefix(out, next_seq(s), disk_id, CODEC_NONE, off, rlen, rlen);
	add_piece(s, out, FRAME_DATA_PREFIX, 1);
	add_piece(s, src, rlen, 0);
}

/* One DATA frame, deflated if that saves at least 1/16, raw otherwise; adds
 * the bytes deflate saved to *saved. Returns whether it was deflated. */
static int put_data(struct codec_enc *enc, struct slot *s, uint32_t disk_id, uint64_t off,
		    const uint8_t *src, uint32_t rlen, uint64_t *saved)
{
	uint8_t *out = wire_end(s);
	size_t clen = codec_deflate(enc, src, rlen, out + FRAME_DATA_PREFIX,
				    s->wire_cap - s->wire_used - FRAME_DATA_PREFIX);

	if (!clen) {
		put_raw(s, disk_id, off, src, rlen);
		return 0;
	}
	frame_encode_data_prefix(out, next_seq(s), disk_id, CODEC_DEFLATE, off, rlen,
				 (uint32_t)clen);
	add_piece(s, out, FRAME_DATA_PREFIX + clen, 1);
	*saved += rlen - clen;
	return 1;
}

/* The rlen bytes at `at` in the slot, as one ZERO or one or two DATA frames;
 * what deflate saved is added to *saved. */
static void encode_run(struct codec_enc *enc, struct slot *s, uint32_t disk_id, uint32_t at,
		       uint32_t rlen, int zero, int deflate, uint64_t *saved)
{
	uint64_t off = s->offset + at;
	const uint8_t *src = s->raw + at;
	uint8_t *out = wire_end(s);

	if (zero) {
		add_piece(s, out, frame_encode_zero(out, s->wire_cap - s->wire_used, next_seq(s),
						    disk_id, off, rlen), 1);
		return;
	}
	if (!deflate) {
		put_raw(s, disk_id, off, src, rlen);
		return;
	}
	if (rlen <= BLOCK_SIZE) {
		put_data(enc, s, disk_id, off, src, rlen, saved);
		return;
	}
	/*
	 * The first block goes alone, as a trial: data that does not compress
	 * (media, encrypted or compressed files) usually fills whole extents, so
	 * when the trial fails the rest is sent raw without spending a deflate on
	 * it; when it succeeds its output is kept, so nothing is compressed twice.
	 */
	if (!put_data(enc, s, disk_id, off, src, BLOCK_SIZE, saved))
		put_raw(s, disk_id, off + BLOCK_SIZE, src + BLOCK_SIZE, rlen - BLOCK_SIZE);
	else
		put_data(enc, s, disk_id, off + BLOCK_SIZE, src + BLOCK_SIZE, rlen - BLOCK_SIZE,
			 saved);
}

/* A MARK is one frame: the consistent point the round before it made. */
static void encode_mark(struct slot *s)
{
	s->sent_bytes = 0;
	s->last_seq = s->seq;
	s->wire_len = s->wire_used = 0;
	s->npieces = 0;
	add_piece(s, s->wire, frame_encode_mark(s->wire, s->wire_cap, s->seq, MARK_CONSISTENT,
						s->mark_time_ns, s->mark_origin,
						s->mark_consistency), 1);
}

/* Whether to deflate the slot's data: always, never, or under `auto` as
 * compress_choose weighs it (compress_choice.c). */
static int want_deflate(struct engine *e)
{
	static const char *const why[] = {
		[COMPRESS_PAYS] = "deflating saves the link more time than it costs the workers",
		[COMPRESS_RAW] = "deflating costs the workers more time than it saves the link",
	};
	enum compress_reason r;
	unsigned ready;
	double link, gain;
	int was, now;

	if (e->cfg->compression == COMPRESSION_DEFLATE)
		return 1;
	if (e->cfg->compression == COMPRESSION_NONE)
		return 0;
	ready = ring_ready_count(&e->ring); /* ring.mu: before engine.mu, not inside it */
	pthread_mutex_lock(&e->mu);
	link = engine_link_rate(e, e->wire_peak);
	gain = compress_gain_rate(&e->deflate_gain);
	was = e->compress.link_says;
	r = compress_choose(&e->compress, gain, link, ready, e->ring.depth);
	now = e->compress.link_says;
	pthread_mutex_unlock(&e->mu);
	if (now != was)
		log_info("compression: %s (%.1f MB saved per second of deflating, a link of %.1f MB/s)",
			 why[now ? COMPRESS_PAYS : COMPRESS_RAW], gain / 1e6, link / 1e6);
	return r != COMPRESS_RAW;
}

static void encode_data(struct engine *e, struct codec_enc *enc, struct slot *s)
{
	uint32_t nb = (s->len + BLOCK_SIZE - 1) / BLOCK_SIZE;
	unsigned np = pieces_in(s->len), first, count;
	uint8_t send[BLOCKS_PER_CHUNK], zero[BLOCKS_PER_CHUNK];
	uint8_t kind[PIECES_PER_CHUNK];
	int any_data = 0, deflate = 0;
	uint64_t saved = 0, t0 = 0;

	for (uint32_t i = 0; i < nb; i++) {
		const uint8_t *p = s->raw + (size_t)i * BLOCK_SIZE;
		uint32_t bl = s->len - i * BLOCK_SIZE < BLOCK_SIZE ? s->len - i * BLOCK_SIZE : BLOCK_SIZE;
		uint32_t bs = i * BLOCK_SIZE;

		if (bs < s->lo || bs + bl > s->hi) {
			/*
			 * Only some pieces were read (a kmod round, not comparing):
			 * those go as DATA. The block's hash is unknown, as any block
			 * a pass sent without comparing.
			 */
			zero[i] = 0;
			memset(s->hash[i], 0, FRAME_HASH_LEN);
			send[i] = pieces_plan_range(kind + (size_t)i * PIECES_PER_BLOCK,
						    pieces_in(bl), bs, s->lo, s->hi) > 0;
			any_data |= send[i];
			continue;
		}
		zero[i] = (uint8_t)is_zero(p, bl);
		if (zero[i])
			blockhash_zero(bl, s->hash[i]);
		else if (s->compare)
			blockhash(p, bl, s->hash[i]);
		else
			/*
			 * Sent without comparing (initial mirror, kmod rounds): nothing
			 * reads this fingerprint before the next comparing pass, which
			 * asks staging for unknown entries instead. Hashing here cost
			 * the agent a third of its CPU during the mirror.
			 */
			memset(s->hash[i], 0, FRAME_HASH_LEN);
		send[i] = !s->compare || memcmp(s->hash[i], s->known[i], FRAME_HASH_LEN) != 0;
		memset(kind + (size_t)i * PIECES_PER_BLOCK,
		       !send[i] ? PIECE_SKIP : zero[i] ? PIECE_ZERO : PIECE_DATA,
		       i + 1 < nb ? PIECES_PER_BLOCK : np - i * PIECES_PER_BLOCK);
		any_data |= send[i] && !zero[i];
	}
	/* a zero block that differs costs a ZERO frame's header: no finer look */
	if (s->compare && s->pieces && any_data)
		refine_slot(e, s, send, zero, kind);
	/* only data is deflated: a slot of zero or unchanged blocks has no say */
	if (any_data)
		deflate = want_deflate(e);
	if (deflate)
		t0 = now_mono_ns();
	s->wire_len = s->wire_used = 0;
	s->npieces = 0;
	s->sent_bytes = 0;
	s->last_seq = s->seq - 1; /* next_seq() hands out s->seq first */
	for (unsigned p = 0; pieces_next_run(kind, np, p, &first, &count); p = first + count) {
		uint32_t at = first * PIECE_SIZE;
		uint32_t end = (first + count) * PIECE_SIZE < s->len ? (first + count) * PIECE_SIZE
								      : s->len;

		encode_run(enc, s, s->disk, at, end - at, kind[first] == PIECE_ZERO, deflate,
			   &saved);
		s->sent_bytes += end - at;
	}
	/*
	 * What deflating this slot gained, in the worker's own time: a worker
	 * that a busy machine preempts takes longer, and the slot waits for it.
	 * A slot whose data did not compress tells nothing about data that
	 * does, and cost little (one trial block a run): no sample.
	 */
	if (deflate && saved) {
		uint64_t ns = now_mono_ns() - t0;

		pthread_mutex_lock(&e->mu);
		compress_gain_note(&e->deflate_gain, saved, ns);
		pthread_mutex_unlock(&e->mu);
	}
	if (s->compare)
		atomic_fetch_add(&e->disks[s->disk].backlog, s->sent_bytes);
}

void *worker_main(void *arg)
{
	struct engine *e = arg;
	struct codec_enc *enc = codec_enc_new();
	struct slot *s;

	if (!enc) {
		log_error("out of memory for a compression worker");
		return NULL;
	}
	while ((s = ring_take(&e->ring))) {
		if (s->kind == SLOT_MARK)
			encode_mark(s);
		else
			encode_data(e, enc, s);
		ring_ready(&e->ring, s);
	}
	codec_enc_free(enc);
	return NULL;
}
