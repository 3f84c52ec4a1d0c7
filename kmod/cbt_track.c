// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: tracked disks, the block_bio_queue probe and generations.
 *
 * The probe only observes: it never owns, redirects or delays a bio. At
 * block_bio_queue partition remapping has already happened, so the bio's
 * sector is relative to the whole disk; the disk is matched by its gendisk
 * pointer, which stays valid (and unique) because every tracked gendisk is
 * referenced until detach.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <trace/events/block.h>

#include "cbt.h"

DEFINE_MUTEX(cbt_mutex);
LIST_HEAD(cbt_disks);
struct cbt_stats cbt_stats;

void cbt_invalidate(struct cbt_disk *t, u32 reason)
{
	if (cmpxchg(&t->invalid_reason, LIVEMIG_CBT_INVALID_NONE, reason) ==
	    LIVEMIG_CBT_INVALID_NONE)
		atomic_long_inc(&cbt_stats.invalidations);
}

static void cbt_mark_bio(struct bio *bio)
{
	struct gendisk *disk;
	struct cbt_disk *t;
	struct cbt_map *map;
	unsigned long first, last;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int nr = bio_sectors(bio);

	if (!op_is_write(bio_op(bio)) || !nr)
		return;
	disk = cbt_bio_disk(bio);

	rcu_read_lock();
	list_for_each_entry_rcu(t, &cbt_disks, node) {
		if (t->disk != disk)
			continue;
		map = rcu_dereference(t->active);
		first = sector >> t->sector_shift;
		last = (sector + nr - 1) >> t->sector_shift;
		if (unlikely(last >= map->nbits)) {
			atomic_long_inc(&cbt_stats.overflows);
			cbt_invalidate(t, LIVEMIG_CBT_INVALID_OVERFLOW);
			if (first >= map->nbits)
				break;
			last = map->nbits - 1;
		}
		cbt_map_mark(map, first, last);
		break;
	}
	rcu_read_unlock();
}

#if CBT_HAVE_TP_BIO_QUEUE_BIO
static void cbt_probe_bio_queue(void *data, struct bio *bio)
{
	cbt_mark_bio(bio);
}
#elif CBT_HAVE_TP_BIO_QUEUE_Q_BIO
static void cbt_probe_bio_queue(void *data, struct request_queue *q,
				struct bio *bio)
{
	cbt_mark_bio(bio);
}
#else
#error "block_bio_queue has a prototype livemig_cbt does not know"
#endif

static struct tracepoint *cbt_tp_bio_queue;

static void cbt_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "block_bio_queue"))
		cbt_tp_bio_queue = tp;
}

int cbt_probes_register(void)
{
	int ret;

	/* Compile-time check that the probe matches the event's prototype. */
	check_trace_callback_type_block_bio_queue(cbt_probe_bio_queue);

	for_each_kernel_tracepoint(cbt_find_tp, NULL);
	if (!cbt_tp_bio_queue) {
		pr_err("livemig_cbt: tracepoint block_bio_queue not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(cbt_tp_bio_queue,
					(void *)cbt_probe_bio_queue, NULL);
	if (ret)
		pr_err("livemig_cbt: cannot attach to block_bio_queue: %d\n",
		       ret);
	return ret;
}

void cbt_probes_unregister(void)
{
	tracepoint_probe_unregister(cbt_tp_bio_queue,
				    (void *)cbt_probe_bio_queue, NULL);
	/* No probe runs, or will run, our code or touch our data after this. */
	tracepoint_synchronize_unregister();
}

static struct cbt_map *cbt_active(struct cbt_disk *t)
{
	return rcu_dereference_protected(t->active,
					 lockdep_is_held(&cbt_mutex));
}

struct cbt_disk *cbt_find(u32 major, u32 minor)
{
	struct cbt_disk *t;
	dev_t devt = MKDEV(major, minor);

	lockdep_assert_held(&cbt_mutex);
	if (MAJOR(devt) != major || MINOR(devt) != minor)
		return NULL;
	list_for_each_entry(t, &cbt_disks, node)
		if (t->devt == devt)
			return t;
	return NULL;
}

/* Control paths call this before trusting the tracking. */
void cbt_check_disk(struct cbt_disk *t)
{
	lockdep_assert_held(&cbt_mutex);
	if (!cbt_disk_live(t->disk))
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_REMOVED);
	else if (get_capacity(t->disk) != t->sectors)
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_RESIZED);
}

static unsigned int cbt_pick_shift(sector_t sectors, unsigned int min_shift)
{
	unsigned int shift = max_t(unsigned int, min_shift,
				   LIVEMIG_CBT_DEFAULT_BLOCK_SHIFT);
	u64 cap_bits = (u64)cbt_bitmap_cap_kib * 1024 * 8;

	while (shift < 40 &&
	       DIV_ROUND_UP_ULL((u64)sectors, 1ULL << (shift - 9)) > cap_bits)
		shift++;
	return shift;
}

int cbt_attach(struct block_device *bdev, unsigned int min_shift,
	       struct livemig_cbt_attach *out)
{
	struct gendisk *disk = bdev->bd_disk;
	struct cbt_disk *t, *old;
	struct cbt_map *map;
	sector_t sectors;
	int ret;

	lockdep_assert_held(&cbt_mutex);
	if (bdev_is_partition(bdev))
		return -EINVAL;
	if (min_shift && (min_shift < 9 || min_shift > 30))
		return -EINVAL;
	list_for_each_entry(old, &cbt_disks, node) {
		if (old->disk == disk || old->devt == disk_devt(disk))
			return -EEXIST;
	}
	sectors = get_capacity(disk);
	if (!sectors || !cbt_disk_live(disk))
		return -ENXIO;
	if (!try_module_get(disk->fops->owner))
		return -ENXIO;

	ret = -ENOMEM;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		goto err_module;
	t->block_shift = cbt_pick_shift(sectors, min_shift);
	t->sector_shift = t->block_shift - 9;
	t->sectors = sectors;
	map = cbt_map_alloc(DIV_ROUND_UP_ULL((u64)sectors,
					     1ULL << t->sector_shift));
	if (!map)
		goto err_free;
	RCU_INIT_POINTER(t->active, map);
	get_device(disk_to_dev(disk));
	t->disk = disk;
	t->devt = disk_devt(disk);
	t->generation = 1;
	get_random_bytes(t->epoch, sizeof(t->epoch));
	list_add_tail_rcu(&t->node, &cbt_disks);
	atomic_long_inc(&cbt_stats.attaches);

	out->major = MAJOR(t->devt);
	out->minor = MINOR(t->devt);
	out->block_shift = t->block_shift;
	out->disk_bytes = (u64)sectors << 9;
	out->nr_blocks = map->nbits;
	out->generation = t->generation;
	memcpy(out->epoch, t->epoch, sizeof(out->epoch));
	return 0;

err_free:
	kfree(t);
err_module:
	module_put(disk->fops->owner);
	return ret;
}

void cbt_fill_info(struct cbt_disk *t, struct livemig_cbt_info *info)
{
	struct cbt_map *map = cbt_active(t);

	info->flags = 0;
	if (t->frozen)
		info->flags |= LIVEMIG_CBT_F_FROZEN;
	info->invalid_reason = READ_ONCE(t->invalid_reason);
	if (info->invalid_reason)
		info->flags |= LIVEMIG_CBT_F_INVALID;
	info->block_shift = t->block_shift;
	info->reserved = 0;
	info->disk_bytes = (u64)t->sectors << 9;
	info->nr_blocks = map->nbits;
	info->generation = t->generation;
	info->frozen_generation = t->frozen_generation;
	info->dirty_blocks = cbt_map_weight(map);
	info->frozen_blocks = t->frozen ? cbt_map_weight(t->frozen) : 0;
	memcpy(info->epoch, t->epoch, sizeof(info->epoch));
}

int cbt_snapshot(struct cbt_disk *t, u64 *gen, u64 *blocks)
{
	struct cbt_map *old = cbt_active(t), *map;

	if (t->frozen)
		return -EBUSY;
	map = cbt_map_alloc(old->nbits);
	if (!map)
		return -ENOMEM;
	rcu_assign_pointer(t->active, map);
	/* Wait for every probe that may still be marking the old map. */
	synchronize_rcu();
	t->frozen = old;
	t->frozen_generation = t->generation++;
	atomic_long_inc(&cbt_stats.generations);
	*gen = t->frozen_generation;
	*blocks = cbt_map_weight(old);
	return 0;
}

int cbt_ack(struct cbt_disk *t, u64 gen)
{
	if (!t->frozen)
		return -ENOENT;
	if (gen != t->frozen_generation)
		return -ESTALE;
	cbt_map_free(t->frozen);
	t->frozen = NULL;
	t->frozen_generation = 0;
	return 0;
}

int cbt_abort(struct cbt_disk *t, u64 gen)
{
	if (!t->frozen)
		return -ENOENT;
	if (gen != t->frozen_generation)
		return -ESTALE;
	cbt_map_merge(cbt_active(t), t->frozen);
	cbt_map_free(t->frozen);
	t->frozen = NULL;
	t->frozen_generation = 0;
	return 0;
}

static void cbt_free(struct cbt_disk *t)
{
	struct module *owner = t->disk->fops->owner;

	cbt_map_free(rcu_dereference_protected(t->active, 1));
	cbt_map_free(t->frozen);
	put_device(disk_to_dev(t->disk));
	module_put(owner);
	kfree(t);
}

void cbt_detach(struct cbt_disk *t)
{
	lockdep_assert_held(&cbt_mutex);
	list_del_rcu(&t->node);
	synchronize_rcu();
	cbt_free(t);
}

/* Module exit: the probe is already unregistered and synchronized. */
void cbt_detach_all(void)
{
	struct cbt_disk *t, *n;

	mutex_lock(&cbt_mutex);
	list_for_each_entry_safe(t, n, &cbt_disks, node) {
		list_del(&t->node);
		cbt_free(t);
	}
	mutex_unlock(&cbt_mutex);
}

unsigned long cbt_total_dirty(void)
{
	struct cbt_disk *t;
	unsigned long n = 0;

	lockdep_assert_held(&cbt_mutex);
	list_for_each_entry(t, &cbt_disks, node) {
		n += cbt_map_weight(cbt_active(t));
		if (t->frozen)
			n += cbt_map_weight(t->frozen);
	}
	return n;
}

unsigned int cbt_nr_disks(void)
{
	struct cbt_disk *t;
	unsigned int n = 0;

	lockdep_assert_held(&cbt_mutex);
	list_for_each_entry(t, &cbt_disks, node)
		n++;
	return n;
}
