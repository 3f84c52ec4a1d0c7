// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writes in flight on one RBD image: see store_rbd_inflight.h. librbd calls
 * write_done() from its own thread when the OSD answered.
 */
#include "store_rbd_inflight.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void inflight_init(struct rbd_inflight *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->done, NULL);
}

void inflight_destroy(struct rbd_inflight *f)
{
	pthread_cond_destroy(&f->done);
	pthread_mutex_destroy(&f->mu);
}

static void finish(struct inflight_write *w, int rc)
{
	struct rbd_inflight *f = w->owner;

	pthread_mutex_lock(&f->mu);
	if (rc < 0 && !f->err)
		f->err = rc;
	free(w->copy);
	w->copy = NULL;
	w->used = 0;
	f->n--;
	f->bytes -= w->len;
	pthread_cond_broadcast(&f->done);
	pthread_mutex_unlock(&f->mu);
}

static void write_done(rbd_completion_t c, void *arg)
{
	int rc = (int)rbd_aio_get_return_value(c);

	rbd_aio_release(c);
	finish(arg, rc);
}

static int overlaps(const struct rbd_inflight *f, uint64_t off, uint64_t len)
{
	for (unsigned i = 0; i < INFLIGHT_WRITES; i++) {
		const struct inflight_write *w = &f->w[i];

		if (w->used && w->off < off + len && off < w->off + w->len)
			return 1;
	}
	return 0;
}

/* A write alone may be bigger than INFLIGHT_BYTES: it waits for an empty queue. */
static int must_wait(const struct rbd_inflight *f, uint64_t off, size_t len)
{
	return f->n == INFLIGHT_WRITES || (f->n && f->bytes + len > INFLIGHT_BYTES) ||
	       overlaps(f, off, len);
}

int inflight_write(struct rbd_inflight *f, rbd_image_t img, const void *buf, size_t len,
		   uint64_t off)
{
	struct inflight_write *w = NULL;
	void *copy = malloc(len ? len : 1);
	rbd_completion_t c;
	int rc;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	pthread_mutex_lock(&f->mu);
	while (!f->err && must_wait(f, off, len))
		pthread_cond_wait(&f->done, &f->mu);
	rc = f->err;
	if (!rc) {
		for (unsigned i = 0; i < INFLIGHT_WRITES && !w; i++)
			if (!f->w[i].used)
				w = &f->w[i];
		*w = (struct inflight_write){ .owner = f, .ticket = f->tickets++, .off = off,
					      .len = len, .copy = copy, .used = 1 };
		f->n++;
		f->bytes += len;
	}
	pthread_mutex_unlock(&f->mu);
	if (rc) {
		free(copy);
		return rc;
	}
	/* from here on the write is finish()ed exactly once, maybe before rbd_aio_write returns */
	rc = rbd_aio_create_completion(w, write_done, &c);
	if (rc < 0) {
		finish(w, rc);
		return rc;
	}
	rc = rbd_aio_write(img, off, len, copy, c);
	if (rc < 0) {
		/* refused before it was queued: librbd never completes it */
		rbd_aio_release(c);
		finish(w, rc);
		return rc;
	}
	return 0;
}

static uint64_t oldest(const struct rbd_inflight *f)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < INFLIGHT_WRITES; i++)
		if (f->w[i].used && f->w[i].ticket < t)
			t = f->w[i].ticket;
	return t;
}

int inflight_drain(struct rbd_inflight *f)
{
	uint64_t upto;
	int rc;

	pthread_mutex_lock(&f->mu);
	upto = f->tickets;
	while (oldest(f) < upto)
		pthread_cond_wait(&f->done, &f->mu);
	rc = f->err;
	pthread_mutex_unlock(&f->mu);
	return rc;
}
