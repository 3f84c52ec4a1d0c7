// SPDX-License-Identifier: GPL-2.0-or-later
/* The acknowledgement reader: one per connection. ACKs retire slots from the
 * ring's head; hash answers go to the waiting rescan; errors are reported. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void acker_retire_slot(void *arg, struct slot *s)
{
	struct engine *e = arg;
	struct engine_disk *d;
	uint32_t nb;
	int rc;

	if (s->kind != SLOT_DATA)
		return;
	d = &e->disks[s->disk];
	nb = (s->len + BLOCK_SIZE - 1) / BLOCK_SIZE;
	rc = hashstore_put(&d->hs, s->offset / BLOCK_SIZE, nb, &s->hash[0][0]);
	/* a lost hash only costs a resend later: the entry stays stale, never wrong */
	if (rc)
		log_warn("cannot update hash store of %s: %s", d->cfg->name, strerror(-rc));
	atomic_store(&d->pass_pos, s->offset + s->len);
	atomic_fetch_add(&d->sent_bytes, s->sent_bytes);
	atomic_fetch_add(&e->acked_bytes, s->sent_bytes);
	if (s->compare)
		atomic_fetch_sub(&d->backlog, s->sent_bytes);
}

void *acker_main(void *arg)
{
	struct engine *e = arg;
	uint8_t *buf = malloc(FRAME_HDR_LEN + FRAME_MAX_BODY);
	struct frame *f = malloc(sizeof(*f));
	const char *why;

	while (buf && f) {
		int rc = conn_read_frame(&e->conn, buf, f, -1, &why);

		if (rc) {
			if (!atomic_load(&e->conn.closing))
				engine_set_error(e, 0, "connection to staging lost: %s",
						 why ? why : strerror(-rc));
			break;
		}
		if (f->type == FT_ACK) {
			ring_ack(&e->ring, f->ack.seq);
		} else if (f->type == FT_HASH_RESP) {
			session_hash_answer(e, f->hash_resp.req_id, f->hash_resp.count,
					    f->hash_resp.hashes);
		} else if (f->type == FT_POINT) {
			point_received(e, f->point.mark_seq, f->point.point_id);
		} else if (f->type == FT_ERROR) {
			if (f->error.code == ERR_NOSPACE)
				engine_set_error(e, 1, "staging is out of space, replication paused until space is freed there: %s",
						 f->error.msg);
			else
				engine_set_error(e, 1, "staging closed the session: %s: %s",
						 frame_error_name(f->error.code), f->error.msg);
			break;
		} else if (f->type == FT_BYE) {
			engine_set_error(e, 0, "staging is shutting down");
			break;
		} else {
			engine_set_error(e, 0, "unexpected %s from staging", frame_type_name(f->type));
			break;
		}
	}
	free(buf);
	free(f);
	atomic_store(&e->conn_broken, 1);
	ring_wake(&e->ring);
	pthread_mutex_lock(&e->mu);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return NULL;
}
