// SPDX-License-Identifier: GPL-2.0-or-later
#include "write_hold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machines.h"
#include "session_priv.h"
#include "stats.h"
#include "store_backend.h"

/* A ZERO frame costs the sync little, but a stream of them must still be
 * synced now and then when the agent never pauses. */
#define ZERO_SYNC_WEIGHT (64u << 10)

/* an empty queue takes any frame */
_Static_assert(HOLD_BYTES >= FRAME_MAX_RAW, "a DATA frame must fit an empty hold");

static int apply(struct session *s, unsigned disk, int zero, uint64_t off, uint64_t len,
		 const void *data)
{
	struct store_volume *v = s->disks[disk].vol;

	return zero ? store_volume_zero(v, off, len) : store_volume_write(v, data, len, off);
}

/* After a write into the image: the committer decides when to sync. A
 * sync failure or a lost connection ends the session. */
static int wrote(struct session *s, unsigned disk, int zero, uint64_t seq, uint64_t len)
{
	const char *name = NULL;
	int rc;

	if (zero)
		stats_zeroed(len);
	else
		stats_written(len);
	rc = committer_wrote(&s->committer, disk, seq, zero ? ZERO_SYNC_WEIGHT : len, &name);
	if (rc == -ENOTCONN)
		return session_fail(s, ERR_IO, "connection lost while acknowledging");
	if (rc)
		return session_store_failed(s, "sync the image", name, rc);
	return 0;
}

static int full(const struct write_hold *h, uint64_t more)
{
	return h->n == HOLD_MAX_WRITES || h->used + more > HOLD_BYTES;
}

static int hold(struct write_hold *h, unsigned disk, uint64_t seq, uint64_t off, uint64_t len,
		const void *data)
{
	struct held_write *w;

	if (!h->buf) {
		h->buf = malloc(HOLD_BYTES);
		h->w = malloc(HOLD_MAX_WRITES * sizeof(*h->w));
		if (!h->buf || !h->w) {
			write_hold_free(h);
			return -ENOMEM;
		}
	}
	w = &h->w[h->n++];
	*w = (struct held_write){ .disk = disk, .zero = !data, .seq = seq, .off = off, .len = len,
				  .at = h->used };
	/* the frame's buffers are reused for the next frame */
	if (data) {
		memcpy(h->buf + h->used, data, len);
		h->used += len;
	}
	h->held++;
	return 0;
}

int session_write(struct session *s, struct session_disk *d, uint64_t seq, uint64_t off,
		  uint64_t len, const void *data)
{
	struct write_hold *h = &s->hold;
	unsigned i = (unsigned)(d - s->disks);
	int appended = 0, held, rc;

	if (h->n && full(h, data ? len : 0) && session_release_held(s))
		return -1;
	machine_lock(s->m);
	rc = machine_owned_by(s->m, s->token) ? 0 : -EBUSY;
	/* a point still reading the old contents gets them first */
	if (!rc)
		rc = point_writer_before_write(&s->points, i, off, len, !data, &appended);
	/* behind a held write, any write waits: the order on an offset is kept */
	held = h->n || appended;
	if (!rc && held)
		rc = hold(h, i, seq, off, len, data);
	else if (!rc)
		rc = apply(s, i, !data, off, len, data);
	machine_unlock(s->m);
	if (rc)
		return session_store_failed(s, data ? "write the image" : "zero a range", d->name,
					    rc);
	if (!held)
		return wrote(s, i, !data, seq, len);
	return full(h, 1) ? session_release_held(s) : 0;
}

int session_release_held(struct session *s)
{
	struct write_hold *h = &s->hold;
	unsigned n = h->n, done = 0;
	int rc;

	if (!n)
		return 0;
	h->n = 0;
	h->used = 0;
	machine_lock(s->m);
	rc = machine_owned_by(s->m, s->token) ? 0 : -EBUSY;
	/* the old contents are durable before the live images change */
	if (!rc)
		rc = point_writer_sync(&s->points);
	if (rc) {
		machine_unlock(s->m);
		return session_store_failed(s, "save old contents for a recovery point", NULL, rc);
	}
	for (; done < n; done++) {
		const struct held_write *w = &h->w[done];

		rc = apply(s, w->disk, w->zero, w->off, w->len, h->buf + w->at);
		if (rc)
			break;
	}
	machine_unlock(s->m);
	if (rc)
		return session_store_failed(s, h->w[done].zero ? "zero a range" : "write the image",
					    s->disks[h->w[done].disk].name, rc);
	h->releases++;
	/* only now written: the committer may count them */
	for (unsigned k = 0; k < n; k++)
		if (wrote(s, h->w[k].disk, h->w[k].zero, h->w[k].seq, h->w[k].len))
			return -1;
	return 0;
}

int session_held_overlaps(const struct session *s, const struct session_disk *d, uint64_t off,
			  uint64_t len)
{
	const struct write_hold *h = &s->hold;
	unsigned i = (unsigned)(d - s->disks);

	for (unsigned k = 0; k < h->n; k++) {
		const struct held_write *w = &h->w[k];

		if (w->disk == i && w->off < off + len && off < w->off + w->len)
			return 1;
	}
	return 0;
}

void write_hold_free(struct write_hold *h)
{
	free(h->buf);
	free(h->w);
	h->buf = NULL;
	h->w = NULL;
	h->n = 0;
	h->used = 0;
}
