// SPDX-License-Identifier: GPL-2.0-or-later
/* The reader stage: aligned reads from the source disk into free ring slots,
 * and MARK slots between rounds; the workers encode both. */
#include "engine.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "pieces.h"

/*
 * From the disk, or from mem (holding [mem_off, ...)) when not NULL. A slot
 * covers whole blocks (hashes are per block), but a pass that does not
 * compare reads and sends only the pieces of the extent (a kmod round's
 * extents are piece aligned: docs/kmod-abi.md); a comparing pass reads whole
 * blocks, which it hashes.
 */
static int feed(struct engine *e, unsigned disk, uint64_t offset, uint64_t length, int mode,
		const uint8_t *mem)
{
	const uint64_t mem_off = offset;
	const int compare = !!(mode & FEED_COMPARE);
	struct engine_disk *d = &e->disks[disk];
	uint64_t end = offset + length, want;

	if (end > d->src.size)
		end = d->src.size;
	/* the first byte read: a piece's (a block's when comparing) */
	want = offset - offset % (compare ? BLOCK_SIZE : PIECE_SIZE);
	if (end % PIECE_SIZE && end < d->src.size)
		end += PIECE_SIZE - end % PIECE_SIZE;
	if (end > d->src.size)
		end = d->src.size;
	offset = want - want % BLOCK_SIZE; /* hashes and tracking are per block */
	while (offset < end) {
		/* slots never cross a chunk boundary, so a slot's blocks are one hash-store run */
		uint64_t next = (offset / CHUNK_SIZE + 1) * CHUNK_SIZE;
		uint32_t len = (uint32_t)((next < end ? next : end) - offset);
		struct slot *s = ring_claim(&e->ring, &e->paused);
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
		s->lo = 0;
		s->hi = len;
		if (!compare) {
			if (want > offset)
				s->lo = (uint32_t)(want - offset);
			if (end < offset + len)
				s->hi = (uint32_t)(end - offset);
		}
		s->compare = compare;
		s->pieces = compare && (mode & FEED_PIECES);
		s->wire_len = 0;
		s->npieces = 0;
		s->sent_bytes = 0;
		rc = 0;
		if (mem)
			memcpy(s->raw + s->lo, mem + (offset + s->lo - mem_off), s->hi - s->lo);
		else
			rc = src_disk_read(&d->src, s->raw + s->lo, s->hi - s->lo, offset + s->lo);
		if (rc) {
			engine_set_error(e, 1, "cannot read %s (%s) at offset %llu: %s", d->cfg->name,
					 d->cfg->path, (unsigned long long)(offset + s->lo),
					 strerror(-rc));
			return rc;
		}
		atomic_fetch_add(&e->read_bytes, s->hi - s->lo);
		if (compare) {
			uint32_t nb = (len + BLOCK_SIZE - 1) / BLOCK_SIZE;

			rc = hashstore_get(&d->hs, offset / BLOCK_SIZE, nb, &s->known[0][0]);
			if (rc) {
				engine_set_error(e, 1, "cannot read hash store of %s: %s",
						 d->cfg->name, strerror(-rc));
				return rc;
			}
		}
		ring_publish(&e->ring, s);
		offset += len;
	}
	return 0;
}

int reader_feed(struct engine *e, unsigned disk, uint64_t offset, uint64_t length, int mode)
{
	return feed(e, disk, offset, length, mode, NULL);
}

int reader_feed_mem(struct engine *e, unsigned disk, uint64_t offset, uint64_t length,
		    const uint8_t *data)
{
	uint64_t end = offset + length;

	/* exactly the bytes given: whole pieces, the last one at the disk's end */
	if (offset % PIECE_SIZE || (end % PIECE_SIZE && end < e->disks[disk].src.size))
		return -EINVAL;
	return feed(e, disk, offset, length, 0, data);
}

int reader_feed_point_mark(struct engine *e, uint64_t time_ns, int origin, int consistency,
			   uint64_t *seq)
{
	struct slot *s = ring_claim(&e->ring, &e->paused);

	if (!s)
		return -ECANCELED;
	s->kind = SLOT_MARK;
	s->mark_time_ns = time_ns;
	s->mark_origin = origin;
	s->mark_consistency = consistency;
	s->len = 0;
	ring_publish(&e->ring, s);
	if (seq) {
		/* numbered by ring_publish; only this thread claims, so it stays */
		pthread_mutex_lock(&e->ring.mu);
		*seq = s->seq;
		pthread_mutex_unlock(&e->ring.mu);
	}
	return 0;
}

int reader_feed_mark(struct engine *e, uint64_t time_ns)
{
	return reader_feed_point_mark(e, time_ns, MARK_ORIGIN_FINAL_SYNC, MARK_CONSISTENCY_CRASH,
				      NULL);
}

int reader_drain(struct engine *e)
{
	int rc = ring_drain(&e->ring);

	/* a round that ended on a replaced store proves nothing about it */
	if (!rc && atomic_load(&e->store_changed))
		rc = -ESTALE;
	return rc;
}
