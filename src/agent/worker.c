// SPDX-License-Identifier: GPL-2.0-or-later
/* Compression workers: per 64 KiB block decide zero / unchanged / data, then
 * encode runs of blocks as ZERO and DATA frames into the slot's wire buffer. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "blockhash.h"
#include "codec.h"
#include "log.h"

static struct slot *take_filled(struct engine *e)
{
	struct ring *r = &e->ring;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (atomic_load(&e->stop)) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		for (uint64_t pos = r->sent; pos < r->tail; pos++) {
			struct slot *s = ring_slot(r, pos);

			if (s->state == SLOT_FILLED) {
				s->state = SLOT_BUSY;
				pthread_mutex_unlock(&r->mu);
				return s;
			}
		}
		pthread_cond_wait(&r->changed, &r->mu);
	}
}

/* The seq for the slot's next frame. */
static uint64_t next_seq(struct slot *s)
{
	if (s->last_seq - s->seq + 1 >= SLOT_MAX_FRAMES)
		abort(); /* cannot happen: a slot makes at most 32 frames */
	return ++s->last_seq;
}

static size_t put_raw(struct slot *s, uint8_t *out, uint32_t disk_id, uint64_t off,
		      const uint8_t *src, uint32_t rlen)
{
	memcpy(out + FRAME_DATA_PREFIX, src, rlen);
	frame_encode_data_prefix(out, next_seq(s), disk_id, CODEC_NONE, off, rlen, rlen);
	return FRAME_DATA_PREFIX + rlen;
}

/* One DATA frame, deflated if that saves at least 1/16, raw otherwise.
 * Returns the frame's length and whether it was deflated. */
static size_t put_data(struct codec_enc *enc, struct slot *s, uint8_t *out, size_t room,
		       uint32_t disk_id, uint64_t off, const uint8_t *src, uint32_t rlen,
		       int *deflated)
{
	size_t clen = codec_deflate(enc, src, rlen, out + FRAME_DATA_PREFIX,
				    room - FRAME_DATA_PREFIX);

	*deflated = clen != 0;
	if (!clen)
		return put_raw(s, out, disk_id, off, src, rlen);
	frame_encode_data_prefix(out, next_seq(s), disk_id, CODEC_DEFLATE, off, rlen,
				 (uint32_t)clen);
	return FRAME_DATA_PREFIX + clen;
}

static size_t encode_run(struct codec_enc *enc, struct slot *s, uint32_t disk_id, uint32_t first,
			 uint32_t rlen, int zero)
{
	uint8_t *out = s->wire + s->wire_len;
	size_t room = s->wire_cap - s->wire_len, n;
	uint64_t off = s->offset + (uint64_t)first * BLOCK_SIZE;
	const uint8_t *src = s->raw + (size_t)first * BLOCK_SIZE;
	int deflated;

	if (zero)
		return frame_encode_zero(out, room, next_seq(s), disk_id, off, rlen);
	if (rlen <= BLOCK_SIZE)
		return put_data(enc, s, out, room, disk_id, off, src, rlen, &deflated);
	/*
	 * The first block goes alone, as a trial: data that does not compress
	 * (media, encrypted or compressed files) usually fills whole extents, so
	 * when the trial fails the rest is sent raw without spending a deflate on
	 * it; when it succeeds its output is kept, so nothing is compressed twice.
	 */
	n = put_data(enc, s, out, room, disk_id, off, src, BLOCK_SIZE, &deflated);
	if (!deflated)
		return n + put_raw(s, out + n, disk_id, off + BLOCK_SIZE, src + BLOCK_SIZE,
				   rlen - BLOCK_SIZE);
	return n + put_data(enc, s, out + n, room - n, disk_id, off + BLOCK_SIZE,
			    src + BLOCK_SIZE, rlen - BLOCK_SIZE, &deflated);
}

static void encode_slot(struct engine *e, struct codec_enc *enc, struct slot *s)
{
	uint32_t nb = (s->len + BLOCK_SIZE - 1) / BLOCK_SIZE;
	uint8_t send[BLOCKS_PER_CHUNK], zero[BLOCKS_PER_CHUNK];
	uint32_t b = 0;

	for (uint32_t i = 0; i < nb; i++) {
		const uint8_t *p = s->raw + (size_t)i * BLOCK_SIZE;
		uint32_t bl = s->len - i * BLOCK_SIZE < BLOCK_SIZE ? s->len - i * BLOCK_SIZE : BLOCK_SIZE;

		zero[i] = (uint8_t)is_zero(p, bl);
		if (zero[i])
			blockhash_zero(bl, s->hash[i]);
		else
			blockhash(p, bl, s->hash[i]);
		send[i] = !s->compare || memcmp(s->hash[i], s->known[i], FRAME_HASH_LEN) != 0;
	}
	s->wire_len = 0;
	s->sent_bytes = 0;
	s->last_seq = s->seq - 1; /* next_seq() hands out s->seq first */
	while (b < nb) {
		uint32_t end = b, rlen;

		if (!send[b]) {
			b++;
			continue;
		}
		while (end + 1 < nb && send[end + 1] && zero[end + 1] == zero[b])
			end++;
		rlen = ((end + 1) * BLOCK_SIZE < s->len ? (end + 1) * BLOCK_SIZE : s->len) - b * BLOCK_SIZE;
		s->wire_len += encode_run(enc, s, s->disk, b, rlen, zero[b]);
		s->sent_bytes += rlen;
		b = end + 1;
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
	while ((s = take_filled(e))) {
		encode_slot(e, enc, s);
		pthread_mutex_lock(&e->ring.mu);
		s->state = SLOT_READY;
		pthread_cond_broadcast(&e->ring.changed);
		pthread_mutex_unlock(&e->ring.mu);
	}
	codec_enc_free(enc);
	return NULL;
}
