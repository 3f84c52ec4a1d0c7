// SPDX-License-Identifier: GPL-2.0-or-later
/* The ring's slots and every change of their state (see ring.h). */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


static struct slot *slot_at(struct ring *r, uint64_t pos)
{
	return &r->slots[pos % r->depth];
}

static int stopping(const struct ring *r)
{
	return atomic_load(r->stop);
}

/* A state change: mu held. */
static void changed(struct ring *r)
{
	pthread_cond_broadcast(&r->changed);
}

int ring_init(struct ring *r, unsigned depth, const atomic_int *stop, ring_retire_fn *retire,
	      void *retire_arg)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->stop = stop;
	r->retire = retire;
	r->retire_arg = retire_arg;
	r->depth = depth;
	r->slots = calloc(depth, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < depth; i++) {
		struct slot *s = &r->slots[i];

		/* pages are touched only when used, so small disks cost little */
		if (posix_memalign((void **)&s->raw, 4096, CHUNK_SIZE))
			return -ENOMEM;
		s->wire_cap = CHUNK_SIZE + SLOT_MAX_FRAMES * (FRAME_DATA_PREFIX + 64) + 4096;
		s->wire = malloc(s->wire_cap);
		if (!s->wire)
			return -ENOMEM;
	}
	return 0;
}

void ring_free(struct ring *r)
{
	if (!r->slots)
		return;
	for (unsigned i = 0; i < r->depth; i++) {
		free(r->slots[i].raw);
		free(r->slots[i].wire);
	}
	free(r->slots);
	r->slots = NULL;
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->mu);
}

void ring_wake(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	changed(r);
	pthread_mutex_unlock(&r->mu);
}

/* Retire from head every sent slot staging holds durably; mu held. */
static void retire_locked(struct ring *r)
{
	while (r->head < r->sent) {
		struct slot *s = slot_at(r, r->head);

		if (s->wire_len && s->last_seq > r->acked_seq)
			break;
		r->retire(r->retire_arg, s);
		s->state = SLOT_FREE;
		r->head++;
	}
	changed(r);
}

struct slot *ring_claim(struct ring *r, const atomic_int *paused)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&r->mu);
	while (!stopping(r) && (r->tail - r->head >= r->depth || atomic_load(paused)))
		pthread_cond_wait(&r->changed, &r->mu);
	if (!stopping(r))
		s = slot_at(r, r->tail);
	pthread_mutex_unlock(&r->mu);
	return s;
}

void ring_publish(struct ring *r, struct slot *s)
{
	pthread_mutex_lock(&r->mu);
	/* seq 0 means "nothing acknowledged yet" */
	s->seq = (r->tail + 1) << SLOT_SEQ_SHIFT;
	s->state = SLOT_FILLED;
	r->tail++;
	changed(r);
	pthread_mutex_unlock(&r->mu);
}

int ring_drain(struct ring *r)
{
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	while (!stopping(r) && r->head != r->tail)
		pthread_cond_wait(&r->changed, &r->mu);
	if (r->head != r->tail)
		rc = -ECANCELED;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

struct slot *ring_take(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	while (!stopping(r)) {
		for (uint64_t pos = r->sent; pos < r->tail; pos++) {
			struct slot *s = slot_at(r, pos);

			if (s->state == SLOT_FILLED) {
				s->state = SLOT_BUSY;
				pthread_mutex_unlock(&r->mu);
				return s;
			}
		}
		pthread_cond_wait(&r->changed, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

void ring_ready(struct ring *r, struct slot *s)
{
	pthread_mutex_lock(&r->mu);
	s->state = SLOT_READY;
	changed(r);
	pthread_mutex_unlock(&r->mu);
}

unsigned ring_ready_count(struct ring *r)
{
	unsigned n = 0;

	pthread_mutex_lock(&r->mu);
	for (uint64_t pos = r->sent; pos < r->tail; pos++)
		n += slot_at(r, pos)->state == SLOT_READY;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/*
 * Whether to ask staging for an ACK now; mu held. Staging acknowledges by
 * itself when its input runs dry or a sync batch (8 MiB written by default)
 * is full. Slots of zeros or of data that compressed well carry few wire
 * bytes and little written weight: a ring of them is on the link long before
 * a round trip is over, no batch fills, and the link idles until staging,
 * its input dry, syncs and its ACK comes back (over a 100 Mbit/s link with a
 * 50 ms round trip: gaps of about 60 ms at nine places of a 256 MiB mirror,
 * docs/performance.md "Slow link"). Asked once a quarter of the ring waits,
 * staging acknowledges it while the rest is still on its way (asked at
 * half, the answer came late more often). One FLUSH at a time: a sync that
 * is slow is not asked for again before it answered, so staging syncs for
 * FLUSHes at most once per round trip and sync.
 */
static int flush_due(const struct ring *r)
{
	return r->sent_seq > r->flush_seq && r->acked_seq >= r->flush_seq &&
	       (r->sent - r->head) * 4 >= r->depth;
}

/* The sender's wait; flush NULL: for a slot only. */
static struct slot *next_to_send(struct ring *r, const atomic_int *broken, uint64_t *flush)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&r->mu);
	while (!stopping(r) && !atomic_load(broken) && !(flush && flush_due(r)) &&
	       (r->sent == r->tail || slot_at(r, r->sent)->state != SLOT_READY))
		pthread_cond_wait(&r->changed, &r->mu);
	if (stopping(r) || atomic_load(broken))
		s = NULL;
	else if (flush && flush_due(r))
		r->flush_seq = *flush = r->sent_seq + 1;
	else
		s = slot_at(r, r->sent);
	pthread_mutex_unlock(&r->mu);
	return s;
}

struct slot *ring_next_ready(struct ring *r, const atomic_int *broken)
{
	return next_to_send(r, broken, NULL);
}

struct slot *ring_next_send(struct ring *r, const atomic_int *broken, int flushes,
			    uint64_t *flush)
{
	*flush = 0;
	return next_to_send(r, broken, flushes ? flush : NULL);
}

void ring_sent(struct ring *r, struct slot *s)
{
	pthread_mutex_lock(&r->mu);
	if (s->wire_len)
		r->sent_seq = s->last_seq;
	s->state = SLOT_SENT;
	r->sent++;
	retire_locked(r); /* a slot with nothing to send retires in order right away */
	pthread_mutex_unlock(&r->mu);
}

void ring_rewind(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	for (uint64_t pos = r->head; pos < r->sent; pos++)
		slot_at(r, pos)->state = SLOT_READY;
	r->sent = r->head;
	r->acked_seq = 0; /* acknowledgements are per connection */
	r->sent_seq = r->flush_seq = 0;
	changed(r);
	pthread_mutex_unlock(&r->mu);
}

void ring_ack(struct ring *r, uint64_t seq)
{
	pthread_mutex_lock(&r->mu);
	if (seq > r->acked_seq)
		r->acked_seq = seq;
	retire_locked(r);
	pthread_mutex_unlock(&r->mu);
}
