// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: the tracepoint probes.
 *
 * The probes only observe: they never own, redirect or delay an I/O.
 *
 * block_bio_queue marks a write when it is queued. Partition remapping has
 * already happened there, so the sector is relative to the whole disk; the
 * disk is matched by its gendisk pointer, which stays valid (and unique)
 * because every tracked gendisk is referenced until detach or until its
 * driver module goes.
 *
 * A write queued before a SNAPSHOT may reach the disk after it, once the
 * agent has copied the block. So every write is marked again when it
 * completes, in the generation active then: block_rq_complete for blk-mq
 * disks (its bios still carry their ranges), block_bio_complete for
 * bio-based ones, with the range kept from queue time (cbt_inflight.c),
 * because a bio-based driver may have trimmed a bio it split. A completion
 * comes after the data is on the disk, and the generation it marks is frozen
 * only later, so the agent copies the block again after the write landed:
 * the completion mark alone is what makes the replica converge; the queue
 * mark puts the block in the generation being written.
 *
 * block_rq_complete also sees passthrough requests (SG_IO, NVMe passthrough,
 * uring_cmd), whose range the block layer does not know: a passthrough
 * request carrying data to a tracked disk invalidates its tracking.
 *
 * Probe prototypes differ between kernels: compat.h.
 */
#include <linux/module.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <trace/events/block.h>

#include "cbt.h"

/* Bio-based disks tracked: the bio completion probe returns early at 0. */
atomic_t cbt_nr_bio_based = ATOMIC_INIT(0);

void cbt_invalidate(struct cbt_disk *t, u32 reason)
{
	if (cmpxchg(&t->invalid_reason, LIVEMIG_CBT_INVALID_NONE, reason) ==
	    LIVEMIG_CBT_INVALID_NONE)
		atomic_long_inc(&cbt_stats.invalidations);
}

/* Probe context, rcu_read_lock() held. */
static struct cbt_disk *cbt_lookup_disk(const struct gendisk *disk)
{
	struct cbt_disk *t;

	if (!disk)
		return NULL;
	list_for_each_entry_rcu(t, &cbt_disks, node)
		if (READ_ONCE(t->disk) == disk)
			return t;
	return NULL;
}

/*
 * Probe context, rcu_read_lock() held. Mark sectors [sector, sector + nr)
 * in @t's active map; returns the bits newly set.
 */
static unsigned long cbt_mark(struct cbt_disk *t, cbt_op_t op,
			      sector_t sector, unsigned int nr)
{
	struct cbt_map *map = rcu_dereference(t->active);
	sector_t end = sector + nr, limit;
	unsigned long n;

	/* The device picks a zone-append write's place: mark the zone. */
	if (unlikely(op == REQ_OP_ZONE_APPEND) && t->zone_sectors)
		end = max_t(sector_t, end, sector + t->zone_sectors);
	limit = (sector_t)map->nbits << t->sector_shift;
	if (unlikely(end > limit)) {
		atomic_long_inc(&cbt_stats.overflows);
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_OVERFLOW);
		if (sector >= limit)
			return 0;
		end = limit;
	}
	n = cbt_map_mark(map, sector, end, t->sector_shift);
	/* only when a bit changes: most writes hit blocks already set */
	if (n)
		atomic_long_add(n, &cbt_stats.dirty);
	return n;
}

static void cbt_bio_queued(struct bio *bio)
{
	struct cbt_disk *t;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int nr = bio_sectors(bio);

	if (!op_is_write(bio_op(bio)) || !nr)
		return;
	rcu_read_lock();
	t = cbt_lookup_disk(cbt_bio_disk(bio));
	if (t) {
		cbt_mark(t, bio_op(bio), sector, nr);
		if (t->bio_based && !cbt_inflight_add(bio, t, sector, nr))
			cbt_invalidate(t, LIVEMIG_CBT_INVALID_INFLIGHT);
	}
	rcu_read_unlock();
}

static void cbt_remarked(unsigned long n)
{
	if (n)
		atomic_long_add(n, &cbt_stats.remarks);
}

/* Bio-based disks; interrupt context. */
static void cbt_bio_completed(struct bio *bio)
{
	struct cbt_disk *t;
	sector_t sector;
	unsigned int nr;

	if (!atomic_read(&cbt_nr_bio_based) || !op_is_write(bio_op(bio)))
		return;
	rcu_read_lock();
	t = cbt_inflight_take(bio, &sector, &nr);
	if (t) {
		cbt_remarked(cbt_mark(t, bio_op(bio), sector, nr));
	} else if (bio_sectors(bio)) {
		/* Queued before ATTACH: its remaining range is all we know. */
		t = cbt_lookup_disk(cbt_bio_disk(bio));
		if (t)
			cbt_remarked(cbt_mark(t, bio_op(bio),
					      bio->bi_iter.bi_sector,
					      bio_sectors(bio)));
	}
	rcu_read_unlock();
}

/*
 * A bio-based driver may send the bio it was given, remapped, to a blk-mq
 * disk (NVMe multipath's head disk, md raid0/linear without iostats). The
 * request path then clears the bio's "trace completion" flag, and
 * block_bio_complete never fires for it: its completion is this request's.
 * rcu_read_lock() held.
 */
static void cbt_rq_completed_remapped(struct request *rq, cbt_op_t op,
				      unsigned int nr_bytes)
{
	struct cbt_disk *t;
	struct bio *bio;
	sector_t sector;
	unsigned int nr;

	/* only the bios this completion ends: the rest lands later */
	__rq_for_each_bio(bio, rq) {
		if (bio->bi_iter.bi_size > nr_bytes)
			break;
		nr_bytes -= bio->bi_iter.bi_size;
		t = cbt_inflight_take(bio, &sector, &nr);
		if (t)
			cbt_remarked(cbt_mark(t, op, sector, nr));
	}
}

/* blk-mq disks; interrupt context. Runs before the bios are advanced. */
static void cbt_rq_completed(struct request *rq, unsigned int nr_bytes)
{
	cbt_op_t op = req_op(rq);
	struct cbt_disk *t;
	struct bio *bio;
	unsigned long n = 0;

	if (blk_rq_is_passthrough(rq)) {
		if (!cbt_op_passthrough_out(op))
			return;
		rcu_read_lock();
		t = cbt_lookup_disk(cbt_rq_disk(rq));
		if (t) {
			atomic_long_inc(&cbt_stats.passthrough);
			cbt_invalidate(t, LIVEMIG_CBT_INVALID_PASSTHROUGH);
		}
		rcu_read_unlock();
		return;
	}
	if (!op_is_write(op) || !rq->bio)
		return;
	rcu_read_lock();
	if (atomic_read(&cbt_nr_bio_based))
		cbt_rq_completed_remapped(rq, op, nr_bytes);
	t = cbt_lookup_disk(cbt_rq_disk(rq));
	if (t) {
		/*
		 * Every bio still in the request: more than this completion's
		 * bytes when it is partial, which only marks early. A
		 * multi-range discard's bios are not contiguous.
		 */
		__rq_for_each_bio(bio, rq)
			if (bio_sectors(bio))
				n += cbt_mark(t, op, bio->bi_iter.bi_sector,
					      bio_sectors(bio));
		cbt_remarked(n);
	}
	rcu_read_unlock();
}

/* Probe prototypes differ between kernels: compat.h */
static void cbt_probe_bio_queue(CBT_BIO_QUEUE_ARGS(bio))
{
	cbt_bio_queued(bio);
}

#if CBT_HAVE_TP_BIO_COMPLETE_Q_BIO
static void cbt_probe_bio_complete(void *data, struct request_queue *q,
				   struct bio *bio)
{
	cbt_bio_completed(bio);
}
#else
#error "block_bio_complete has a prototype livemig_cbt does not know"
#endif

static void cbt_probe_rq_complete(void *data, struct request *rq,
				  cbt_rq_error_t error, unsigned int nr_bytes)
{
	cbt_rq_completed(rq, nr_bytes);
}

static struct cbt_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool registered;
} cbt_tps[] = {
	/* completions first: a write is never marked at queue only */
	{ "block_rq_complete", cbt_probe_rq_complete },
	{ "block_bio_complete", cbt_probe_bio_complete },
	{ "block_bio_queue", cbt_probe_bio_queue },
};

static void cbt_find_tp(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cbt_tps); i++)
		if (!strcmp(tp->name, cbt_tps[i].name))
			cbt_tps[i].tp = tp;
}

int cbt_probes_register(void)
{
	int i, ret;

	/* Compile-time checks that the probes match the events' prototypes. */
	check_trace_callback_type_block_bio_queue(cbt_probe_bio_queue);
	check_trace_callback_type_block_bio_complete(cbt_probe_bio_complete);
	check_trace_callback_type_block_rq_complete(cbt_probe_rq_complete);

	for_each_kernel_tracepoint(cbt_find_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(cbt_tps); i++) {
		if (!cbt_tps[i].tp) {
			pr_err("livemig_cbt: tracepoint %s not found\n",
			       cbt_tps[i].name);
			ret = -ENOENT;
			goto err;
		}
		ret = tracepoint_probe_register(cbt_tps[i].tp,
						cbt_tps[i].probe, NULL);
		if (ret) {
			pr_err("livemig_cbt: cannot attach to %s: %d\n",
			       cbt_tps[i].name, ret);
			goto err;
		}
		cbt_tps[i].registered = true;
	}
	return 0;
err:
	cbt_probes_unregister();
	return ret;
}

void cbt_probes_unregister(void)
{
	int i;

	for (i = ARRAY_SIZE(cbt_tps) - 1; i >= 0; i--) {
		if (!cbt_tps[i].registered)
			continue;
		tracepoint_probe_unregister(cbt_tps[i].tp, cbt_tps[i].probe,
					    NULL);
		cbt_tps[i].registered = false;
	}
	/* No probe runs, or will run, our code or touch our data after this. */
	tracepoint_synchronize_unregister();
}
