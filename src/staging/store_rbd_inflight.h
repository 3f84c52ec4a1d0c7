/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The writes in flight on one open RBD image (rbd_aio_write), and the
 * result of each kept until someone waits for it: staging acknowledges a
 * write only after inflight_drain() returned 0, so a write the cluster
 * refused is never acknowledged (docs/staging-store.md, "Writes and
 * durability"). librbd's cache is off (store_rbd.c): the completion of a
 * write is the OSD's answer.
 *
 * Threads: one thread writes (the session's, under its machine's lock);
 * any thread may drain (the committer's flush runs beside the writes).
 */
#ifndef LIVEMIG_STORE_RBD_INFLIGHT_H
#define LIVEMIG_STORE_RBD_INFLIGHT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <rbd/librbd.h>

/* Bounds on what one image has in flight: enough to keep a change round's
 * small writes from waiting for each other's round trip, little memory per
 * disk (each write's bytes are copied until it completes). */
#define INFLIGHT_WRITES 64
#define INFLIGHT_BYTES  (16u << 20)

struct rbd_inflight;

struct inflight_write {
	struct rbd_inflight *owner;
	uint64_t ticket; /* order of submission: a drain waits for those before it */
	uint64_t off, len;
	void *copy;
	int used;
};

struct rbd_inflight {
	pthread_mutex_t mu; /* everything below; never held while calling librbd */
	pthread_cond_t done;
	struct inflight_write w[INFLIGHT_WRITES];
	unsigned n;
	uint64_t bytes, tickets;
	int err; /* the first failed write's -errno: every later call returns it */
};

void inflight_init(struct rbd_inflight *f);
/* Only once nothing is in flight (after inflight_drain). */
void inflight_destroy(struct rbd_inflight *f);
/*
 * Send a write of buf (copied) at off. It may first wait for room, or for an
 * overlapping write in flight to finish (writes to one place land in their
 * order). 0, or -errno: this write's submission, or an earlier write's
 * failure.
 */
int inflight_write(struct rbd_inflight *f, rbd_image_t img, const void *buf, size_t len,
		   uint64_t off);
/* Wait until every write sent before this call has finished. 0, or the
 * -errno of the first write that ever failed on this image. */
int inflight_drain(struct rbd_inflight *f);

#endif
