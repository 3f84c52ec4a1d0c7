// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: tracked disks (attach, checks, detach) and their generations
 * (SNAPSHOT, ACK, ABORT). Every function here runs under cbt_mutex; the
 * probes (cbt_probe.c) see a disk and its active map through RCU only.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/blkdev.h>

#include "cbt.h"

DEFINE_MUTEX(cbt_mutex);
LIST_HEAD(cbt_disks);
struct cbt_stats cbt_stats;

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

/*
 * Control paths call this before trusting the tracking. A changed disk
 * sequence number means new media behind the same gendisk (a loop device
 * detached and set up again); no capacity means the media is gone (a loop
 * device detached). Both count as removal: the blocks are not the ones
 * tracked. The sequence number only grows, so a change is never missed,
 * however late this runs.
 */
void cbt_check_disk(struct cbt_disk *t)
{
	struct gendisk *disk = t->disk;
	sector_t cap;

	lockdep_assert_held(&cbt_mutex);
	if (!disk || !cbt_disk_live(disk) || cbt_disk_seq(disk) != t->diskseq) {
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_REMOVED);
		return;
	}
	cap = get_capacity(disk);
	if (!cap)
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_REMOVED);
	else if (cap != t->sectors)
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
	if (!queue_is_mq(disk->queue)) {
		ret = cbt_inflight_alloc();
		if (ret)
			return ret;
	}

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->block_shift = cbt_pick_shift(sectors, min_shift);
	t->sector_shift = t->block_shift - 9;
	t->sectors = sectors;
	map = cbt_map_alloc(DIV_ROUND_UP_ULL((u64)sectors,
					     1ULL << t->sector_shift),
			    t->sector_shift);
	if (!map) {
		kfree(t);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(t->active, map);
	/*
	 * The gendisk is held, not its driver module: the module notifier
	 * releases the gendisk when the driver goes, so the driver can be
	 * unloaded while tracked.
	 */
	get_device(disk_to_dev(disk));
	t->disk = disk;
	t->owner = disk->fops->owner;
	t->devt = disk_devt(disk);
	t->diskseq = cbt_disk_seq(disk);
	t->zone_sectors = bdev_zone_sectors(bdev);
	t->bio_based = !queue_is_mq(disk->queue);
	if (t->bio_based)
		atomic_inc(&cbt_nr_bio_based);
	t->generation = 1;
	get_random_bytes(t->epoch, sizeof(t->epoch));
	list_add_tail_rcu(&t->node, &cbt_disks);
	atomic_inc(&cbt_stats.tracked);
	atomic_long_inc(&cbt_stats.attaches);

	out->major = MAJOR(t->devt);
	out->minor = MINOR(t->devt);
	out->block_shift = t->block_shift;
	out->disk_bytes = (u64)sectors << 9;
	out->nr_blocks = map->nbits;
	out->generation = t->generation;
	memcpy(out->epoch, t->epoch, sizeof(out->epoch));
	return 0;
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
	map = cbt_map_alloc(old->nbits, t->sector_shift);
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
	atomic_long_sub(cbt_map_weight(t->frozen), &cbt_stats.dirty);
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
	/* the bits already set in the active map are counted there */
	atomic_long_sub(cbt_map_weight(t->frozen) -
			cbt_map_merge(cbt_active(t), t->frozen),
			&cbt_stats.dirty);
	cbt_map_free(t->frozen);
	t->frozen = NULL;
	t->frozen_generation = 0;
	return 0;
}

/* @t is unlisted and no probe can reach it any more. */
static void cbt_free(struct cbt_disk *t)
{
	struct cbt_map *active = rcu_dereference_protected(t->active, 1);

	atomic_long_sub(cbt_map_weight(active), &cbt_stats.dirty);
	if (t->frozen)
		atomic_long_sub(cbt_map_weight(t->frozen), &cbt_stats.dirty);
	atomic_dec(&cbt_stats.tracked);
	cbt_map_free(active);
	cbt_map_free(t->frozen);
	if (t->disk)
		put_device(disk_to_dev(t->disk));
	if (t->bio_based)
		atomic_dec(&cbt_nr_bio_based);
	kfree(t);
}

void cbt_detach(struct cbt_disk *t)
{
	lockdep_assert_held(&cbt_mutex);
	list_del_rcu(&t->node);
	synchronize_rcu();
	if (t->bio_based) {
		cbt_inflight_forget(t);
		/* a completion may have taken a slot naming @t just now */
		synchronize_rcu();
	}
	cbt_free(t);
}

/* Module exit: the probes are already unregistered and synchronized. */
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
