/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session's DATA and ZERO writes into the live images, and the queue
 * that holds them back in copy-on-write mode (docs/recovery-points.md).
 *
 * A write that first overwrites chunks after a point must not reach the
 * live image before the chunks' old contents are durable in the newest
 * point's delta. Instead of one fdatasync of the delta per such frame, the
 * old contents are only appended and the write waits here, with every
 * write after it (so that writes to the same offsets keep their order);
 * one sync of the deltas then releases them all. Released writes are
 * applied in order and only then handed to the committer, so its "every
 * frame up to seq is written" never covers a held one.
 *
 * The queue is released when it is full, and by whatever reads the live
 * images or promises durability (session_commit(), HASH_REQ). Writes held
 * when the connection is lost are dropped: none was acknowledged, the
 * agent sends them again.
 */
#ifndef LIVEMIG_STAGING_WRITE_HOLD_H
#define LIVEMIG_STAGING_WRITE_HOLD_H

#include <stddef.h>
#include <stdint.h>

#define HOLD_BYTES       (16u << 20) /* payload bytes held per session */
#define HOLD_MAX_WRITES  1024u      /* writes held per session (ZERO has no payload) */

struct held_write {
	unsigned disk;   /* index in the session's disks */
	int zero;        /* ZERO, else DATA */
	uint64_t seq, off, len;
	size_t at;       /* DATA: its bytes in the queue's buffer */
};

struct write_hold {
	uint8_t *buf;            /* HOLD_BYTES, allocated at the first hold */
	struct held_write *w;    /* HOLD_MAX_WRITES */
	size_t used;             /* bytes of buf in use */
	unsigned n;              /* writes held, oldest first */
	uint64_t held, releases; /* for the session's summary */
};

struct session;
struct session_disk;

/*
 * Write a DATA (data: len bytes) or a ZERO (data NULL) of frame seq into
 * disk d, saving what a point still needs first; hold it if it must wait
 * for a delta sync, or if older writes are held. 0, or -1 with the reason
 * recorded in the session.
 */
int session_write(struct session *s, struct session_disk *d, uint64_t seq, uint64_t off,
		  uint64_t len, const void *data);

/* Sync the deltas, apply the held writes in order, hand them to the
 * committer. 0, or -1 with the reason recorded (the held writes are then
 * dropped). */
int session_release_held(struct session *s);

/* Whether a held write of disk d touches [off, off + len): only then must a
 * reader of that range (HASH_REQ) release the queue first. */
int session_held_overlaps(const struct session *s, const struct session_disk *d, uint64_t off,
			  uint64_t len);

void write_hold_free(struct write_hold *h);

#endif
