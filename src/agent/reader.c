// SPDX-License-Identifier: GPL-2.0-or-later
/* The reader stage: aligned reads from the source disk into free ring slots. */
#include "engine.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* Claim the slot at tail once one is free and the engine is not paused. */
static struct slot *claim_slot(struct engine *e)
{
	struct ring *r = &e->ring;
	struct slot *s = NULL;

	pthread_mutex_lock(&r->mu);
	while (!atomic_load(&e->stop) &&
	       (r->tail - r->head >= r->depth || atomic_load(&e->paused)))
		pthread_cond_wait(&r->changed, &r->mu);
	if (!atomic_load(&e->stop))
		s = ring_slot(r, r->tail);
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void publish_slot(struct engine *e, struct slot *s, enum slot_state st)
{
	struct ring *r = &e->ring;

	pthread_mutex_lock(&r->mu);
	/* seq 0 means "nothing acknowledged yet" */
	s->seq = (r->tail + 1) << SLOT_SEQ_SHIFT;
	if (s->kind == SLOT_MARK)
		s->last_seq = s->seq;
	s->state = st;
	r->tail++;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->mu);
}

int reader_feed(struct engine *e, unsigned disk, uint64_t offset, uint64_t length, int compare)
{
	struct engine_disk *d = &e->disks[disk];
	uint64_t end = offset + length;

	if (end > d->src.size)
		end = d->src.size;
	offset -= offset % BLOCK_SIZE; /* hashes and tracking are per block */
	while (offset < end) {
		/* slots never cross a chunk boundary, so a slot's blocks are one hash-store run */
		uint64_t next = (offset / CHUNK_SIZE + 1) * CHUNK_SIZE;
		uint32_t len = (uint32_t)((next < end ? next : end) - offset);
		struct slot *s = claim_slot(e);
		int rc;

		if (!s)
			return -ECANCELED;
		if (atomic_load(&e->store_changed))
			return -ESTALE;
		if (len % BLOCK_SIZE && offset + len < d->src.size)
			len += BLOCK_SIZE - len % BLOCK_SIZE; /* whole blocks, except at the disk's end */
		if (offset + len > d->src.size)
			len = (uint32_t)(d->src.size - offset);
		s->kind = SLOT_DATA;
		s->disk = disk;
		s->offset = offset;
		s->len = len;
		s->compare = compare;
		s->wire_len = 0;
		s->sent_bytes = 0;
		rc = src_disk_read(&d->src, s->raw, len, offset);
		if (rc) {
			engine_set_error(e, 1, "cannot read %s (%s) at offset %llu: %s", d->cfg->name,
					 d->cfg->path, (unsigned long long)offset, strerror(-rc));
			return rc;
		}
		if (compare) {
			uint32_t nb = (len + BLOCK_SIZE - 1) / BLOCK_SIZE;

			rc = hashstore_get(&d->hs, offset / BLOCK_SIZE, nb, &s->known[0][0]);
			if (rc) {
				engine_set_error(e, 1, "cannot read hash store of %s: %s",
						 d->cfg->name, strerror(-rc));
				return rc;
			}
		}
		publish_slot(e, s, SLOT_FILLED);
		offset += len;
	}
	return 0;
}

int reader_feed_mark(struct engine *e, uint64_t time_ns)
{
	struct slot *s = claim_slot(e);
	uint64_t seq;

	if (!s)
		return -ECANCELED;
	pthread_mutex_lock(&e->ring.mu);
	seq = (e->ring.tail + 1) << SLOT_SEQ_SHIFT;
	pthread_mutex_unlock(&e->ring.mu);
	s->kind = SLOT_MARK;
	s->mark_time_ns = time_ns;
	s->sent_bytes = 0;
	s->len = 0;
	s->wire_len = frame_encode_mark(s->wire, s->wire_cap, seq, MARK_CONSISTENT, time_ns,
					 MARK_ORIGIN_FINAL_SYNC, MARK_CONSISTENCY_CRASH);
	publish_slot(e, s, SLOT_READY);
	return 0;
}

int reader_drain(struct engine *e)
{
	struct ring *r = &e->ring;
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	while (!atomic_load(&e->stop) && r->head != r->tail)
		pthread_cond_wait(&r->changed, &r->mu);
	if (r->head != r->tail)
		rc = -ECANCELED;
	pthread_mutex_unlock(&r->mu);
	/* a round that ended on a replaced store proves nothing about it */
	if (!rc && atomic_load(&e->store_changed))
		rc = -ESTALE;
	return rc;
}
