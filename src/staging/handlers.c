// SPDX-License-Identifier: GPL-2.0-or-later
/* What DATA, ZERO, FLUSH, MARK and HASH_REQ do to a machine's store. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "codec.h"
#include "hashes.h"
#include "log.h"
#include "machines.h"
#include "points.h"
#include "server.h"
#include "session_priv.h"
#include "store.h"
#include "util.h"

static struct session_disk *find_disk(struct session *s, uint32_t id)
{
	for (unsigned i = 0; i < s->ndisks; i++)
		if (s->disks[i].id == id)
			return &s->disks[i];
	return NULL;
}

static int range_ok(const struct session_disk *d, uint64_t off, uint64_t len)
{
	return off <= d->size && len <= d->size - off;
}

int handle_data(struct session *s, const struct frame *f)
{
	struct session_disk *d = find_disk(s, f->data.disk);
	const uint8_t *src = f->data.payload;

	if (!d)
		return session_fail(s, ERR_DISK, "DATA for disk id %u, which HELLO did not name",
				    f->data.disk);
	if (!range_ok(d, f->data.offset, f->data.raw_len))
		return session_fail(s, ERR_DISK, "DATA range %" PRIu64 "+%u crosses the end of "
				    "disk %s (%" PRIu64 " bytes)", f->data.offset,
				    f->data.raw_len, d->name, d->size);
	if (f->data.codec == CODEC_DEFLATE) {
		if (!(s->codecs & (1u << CODEC_DEFLATE)))
			return session_fail(s, ERR_PROTOCOL, "DATA uses deflate, which was not "
					    "negotiated");
		/* inflates into work, never past raw_len: a bomb stops there */
		if (codec_inflate(f->data.payload, f->data.payload_len, s->work, f->data.raw_len))
			return session_fail(s, ERR_PROTOCOL, "DATA: deflate payload does not "
					    "inflate to the declared %u bytes", f->data.raw_len);
		src = s->work;
	}
	if (session_write(s, d, f->data.seq, f->data.offset, f->data.raw_len, src))
		return -1;
	s->data_frames++;
	s->source_bytes += f->data.raw_len;
	s->wire_bytes += f->data.payload_len;
	return 0;
}

int handle_zero(struct session *s, const struct frame *f)
{
	struct session_disk *d = find_disk(s, f->zero.disk);

	if (!d)
		return session_fail(s, ERR_DISK, "ZERO for disk id %u, which HELLO did not name",
				    f->zero.disk);
	if (!range_ok(d, f->zero.offset, f->zero.length))
		return session_fail(s, ERR_DISK, "ZERO range %" PRIu64 "+%" PRIu64 " crosses the "
				    "end of disk %s (%" PRIu64 " bytes)", f->zero.offset,
				    f->zero.length, d->name, d->size);
	if (session_write(s, d, f->zero.seq, f->zero.offset, f->zero.length, NULL))
		return -1;
	s->zeroed_bytes += f->zero.length;
	return 0;
}

int handle_flush(struct session *s, const struct frame *f)
{
	/* every frame before the FLUSH has been written: its seq covers them */
	if (session_release_held(s))
		return -1;
	committer_seen(&s->committer, f->flush.seq);
	return session_commit(s, COMMIT_REPORT_ALWAYS);
}

int handle_mark(struct session *s, const struct frame *f)
{
	const __typeof__(f->mark) *mk = &f->mark;
	uint64_t id = 0;
	unsigned pruned = 0, held = 0;
	char err[512];
	int rc;

	/* neither the checkpoint nor a point may name data that is not yet durable */
	if (session_commit(s, COMMIT_REPORT_NEW))
		return -1;
	machine_lock(s->m);
	rc = machine_owned_by(s->m, s->token) ? 0 : -EBUSY;
	if (!rc)
		rc = store_write_checkpoint(s->cfg->store_dir, s->machine, mk->time_ns, mk->seq, err,
					    sizeof(err));
	if (!rc)
		rc = point_writer_make(&s->points, mk->time_ns, mk->seq, mk->origin, mk->consistency,
				       &id, err, sizeof(err));
	machine_unlock(s->m);
	if (rc == -ERANGE)
		return session_fail(s, ERR_PROTOCOL, "%s", err);
	if (rc == -ENOSPC || rc == -EDQUOT || rc == -EBUSY)
		return session_store_failed(s, "record the consistent point", NULL, rc);
	if (rc)
		return session_fail(s, ERR_IO, "%s", err);
	log_info("machine %s: consistent point %" PRIu64 " recorded (seq %" PRIu64 "): recovery "
		 "point %" PRIu64 " (%s, %s)", s->machine, mk->time_ns, mk->seq, id,
		 point_origin_name(mk->origin), point_consistency_name(mk->consistency));
	/* the point is durable: say so before the ACK that covers the MARK */
	if (s->codecs & HELLO_CAP_POINT) {
		size_t n = frame_encode_point(s->tx, SESSION_TX_LEN, mk->seq, id);

		if (session_send(s, s->tx, n))
			return -1;
	}
	committer_seen(&s->committer, mk->seq);
	if (session_commit(s, COMMIT_REPORT_ALWAYS))
		return -1;
	rc = points_prune(s->cfg->store_dir, s->machine, &s->cfg->keep, now_real_ns(), &pruned,
			  &held);
	if (rc)
		log_warn("machine %s: cannot prune its recovery points: %s", s->machine,
			 strerror(-rc));
	else if (pruned)
		log_info("machine %s: pruned %u recovery point%s (retention policy)", s->machine,
			 pruned, pruned == 1 ? "" : "s");
	if (!rc && held)
		log_info("machine %s: %u recovery point%s the retention policy would prune kept: "
			 "held by clones of their snapshots (launches; docs/launch.md)", s->machine, held,
			 held == 1 ? "" : "s");
	return 0;
}

int handle_hash_req(struct session *s, const struct frame *f)
{
	const __typeof__(f->hash_req) *r = &f->hash_req;
	struct session_disk *d = find_disk(s, r->disk);
	uint64_t last;
	size_t n;
	int rc;

	if (!d)
		return session_fail(s, ERR_DISK, "HASH_REQ for disk id %u, which HELLO did not name",
				    r->disk);
	/* every block must start inside the disk; the last may be clipped */
	last = r->offset + (uint64_t)(r->count - 1) * r->block_size;
	if (last >= d->size)
		return session_fail(s, ERR_DISK, "HASH_REQ blocks %" PRIu64 "+%u*%u start past the "
				    "end of disk %s (%" PRIu64 " bytes)", r->offset, r->count,
				    r->block_size, d->name, d->size);
	/*
	 * The hashes are of what the agent sent so far: held writes into the
	 * range are applied first. Only those: a rescan asks for the pieces of
	 * each slot's differing blocks between its DATA frames, and releasing
	 * on every request would sync the points' deltas once per slot.
	 */
	if (session_held_overlaps(s, d, r->offset, (uint64_t)r->count * r->block_size) &&
	    session_release_held(s))
		return -1;
	rc = hashes_compute(d->vol, d->size, r->offset, r->block_size, r->count, s->hashes,
			    s->work, SESSION_WORK_LEN);
	if (rc)
		return session_store_failed(s, "read the image", d->name, rc);
	n = frame_encode_hash_resp(s->tx, SESSION_TX_LEN, r->req_id, r->count, s->hashes);
	return session_send(s, s->tx, n);
}
