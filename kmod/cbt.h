/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * livemig_cbt internals.
 *
 * Lock rules (the only locks in the module):
 *
 * cbt_mutex (cbt_disk.c) serialises every control operation: attach,
 *   detach, snapshot, read, ack, abort, info and module exit. Writers of
 *   cbt_disks and of cbt_disk->active hold it. It is a mutex: control paths
 *   sleep (allocation, synchronize_rcu). No path holds it across a user
 *   copy (a fault on a user page could then stall every other caller), and
 *   the sysfs files, readable by anyone, never take it: they read counters
 *   (cbt_stats) kept exact by the code that changes the maps.
 *
 * RCU protects the tracepoint probe's view: the probe runs with preemption
 *   disabled and takes rcu_read_lock() itself; it walks cbt_disks with
 *   list_for_each_entry_rcu() and dereferences cbt_disk->active with
 *   rcu_dereference(). It takes no lock and marks with one set_bit() per
 *   block, and for a block it writes only in part, an atomic OR of the
 *   pieces into the block's piece mask (cbt_map.c: the ordering that keeps
 *   a mask from ever being narrower than what was written). A map that has
 *   been replaced is frozen (read, merged or freed) only after
 *   synchronize_rcu(), when no probe can still be setting bits in it. A cbt_disk removed from the list is freed only after
 *   synchronize_rcu() too.
 *
 * Everything else in struct cbt_disk is read and written under cbt_mutex,
 * except ->invalid_reason, which the probe may set with cmpxchg(), and
 * ->disk, which the probes read with READ_ONCE() (it becomes NULL when the
 * disk's driver module goes away; the gendisk is released one grace period
 * later).
 *
 * cbt_freeze.c has one lock per open file descriptor, for its freeze; it
 * never nests with cbt_mutex.
 *
 * cbt_inflight.c keeps, lock free, the queue-time ranges of writes in flight
 * on bio-based tracked disks; see there.
 */
#ifndef LIVEMIG_CBT_H
#define LIVEMIG_CBT_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/atomic.h>
#include <linux/blkdev.h>

#include "cbt_config.h"
#include "compat.h"
#include "uapi/livemig_cbt.h"

/* Pieces per block: one bit of a block's 16-bit piece mask each. */
#define CBT_PIECES		16
#define CBT_MASK_WHOLE		0xffffU

/*
 * One generation: a bit per block, and beside it, for blocks written only in
 * part, a 16-bit mask of the pieces written (cbt_map.c). The masks live in
 * pages allocated when a block first needs one, found through directory
 * pages allocated the same way: dir[i] points to a page of pointers to mask
 * pages (NULL until needed); a block whose mask page is missing, or whose
 * mask is 0, is whole.
 */
struct cbt_map {
	unsigned long nbits;
	size_t bytes;			/* allocation size, for statistics */
	unsigned int piece_shift;	/* sectors per piece, log2; 0: no masks */
	unsigned long dir_len;		/* entries in dir (0: no masks) */
	void **dir;			/* directory pages -> mask pages */
	unsigned long bits[];
};

struct cbt_disk {
	struct list_head node;		/* in cbt_disks, RCU */
	struct gendisk *disk;		/* get_device() ref; NULL once released */
	struct module *owner;		/* the disk's driver */
	dev_t devt;
	u64 diskseq;			/* at attach; 0 where unknown */
	bool bio_based;			/* no blk-mq: keep in-flight ranges */
	sector_t zone_sectors;		/* 0 unless zoned */
	unsigned int block_shift;	/* log2 bytes per bit */
	unsigned int sector_shift;	/* block_shift - 9 */
	sector_t sectors;		/* capacity at attach */
	struct cbt_map __rcu *active;	/* probes mark here */
	struct cbt_map *frozen;		/* after SNAPSHOT, until ACK/ABORT */
	u64 generation;			/* active generation */
	u64 frozen_generation;		/* 0 when none */
	u32 invalid_reason;		/* LIVEMIG_CBT_INVALID_*, cmpxchg */
	u8 epoch[LIVEMIG_CBT_EPOCH_LEN];
};

struct cbt_stats {
	atomic_long_t bitmap_bytes;
	atomic_long_t generations;	/* snapshots taken */
	atomic_long_t overflows;	/* marks outside a map */
	atomic_long_t invalidations;
	atomic_long_t attaches;
	atomic_long_t remarks;		/* completions re-marked */
	atomic_long_t passthrough;	/* passthrough writes seen */
	atomic_long_t dirty;		/* set bits in every active and frozen map */
	atomic_t tracked;		/* trackings in cbt_disks */
	atomic_long_t freezes;		/* FREEZEs that froze */
	atomic_long_t freeze_timeouts;	/* freezes the timeout ended */
	atomic_long_t freeze_releases;	/* freezes ended by closing the fd */
	atomic_long_t piece_bytes;	/* mask pages and directories */
	atomic_long_t piece_pages;	/* mask pages, against the cap */
	atomic_long_t piece_fallbacks;	/* partial writes marked whole: no page */
};

extern struct cbt_stats cbt_stats;
extern struct mutex cbt_mutex;
extern struct list_head cbt_disks;
extern unsigned int cbt_bitmap_cap_kib;
extern unsigned int cbt_piece_cap_kib;

/* cbt_map.c */
struct cbt_map *cbt_map_alloc(unsigned long nbits, unsigned int sector_shift);
void cbt_map_free(struct cbt_map *map);
unsigned long cbt_map_mark(struct cbt_map *map, sector_t start, sector_t end,
			   unsigned int sector_shift);
unsigned long cbt_map_merge(struct cbt_map *dst, const struct cbt_map *src);
unsigned long cbt_map_weight(const struct cbt_map *map);
long cbt_map_read(const struct cbt_map *map, struct livemig_cbt_read *rd,
		  void *kbuf, size_t len, unsigned int block_shift,
		  u64 disk_bytes);

/* cbt_inflight.c */
int cbt_inflight_alloc(void);
void cbt_inflight_free(void);
bool cbt_inflight_add(const struct bio *bio, struct cbt_disk *t,
		      sector_t sector, unsigned int nr);
struct cbt_disk *cbt_inflight_take(const struct bio *bio, sector_t *sector,
				   unsigned int *nr);
void cbt_inflight_forget(struct cbt_disk *t);

/* cbt_probe.c */
extern atomic_t cbt_nr_bio_based;
int cbt_probes_register(void);
void cbt_probes_unregister(void);
void cbt_invalidate(struct cbt_disk *t, u32 reason);

/* cbt_watch.c */
int cbt_watch_register(void);
void cbt_watch_unregister(void);

/* cbt_disk.c */
int cbt_attach(struct block_device *bdev, unsigned int min_shift,
	       struct livemig_cbt_attach *out);
struct cbt_disk *cbt_find(u32 major, u32 minor);
void cbt_check_disk(struct cbt_disk *t);
void cbt_fill_info(struct cbt_disk *t, struct livemig_cbt_info *info);
int cbt_snapshot(struct cbt_disk *t, u64 *gen, u64 *blocks);
int cbt_ack(struct cbt_disk *t, u64 gen);
int cbt_abort(struct cbt_disk *t, u64 gen);
void cbt_detach(struct cbt_disk *t);
void cbt_detach_all(void);

/* cbt_freeze.c: FREEZE/THAW, owned by an open file descriptor */
int cbt_freeze_init(void);
void cbt_freeze_exit(void);
int cbt_freeze_open(struct file *file);
void cbt_freeze_release(struct file *file);
long cbt_ioc_freeze(struct file *file, void __user *uarg);
long cbt_ioc_thaw(struct file *file, void __user *uarg);

/* cbt_dev.c */
int cbt_dev_register(void);
void cbt_dev_unregister(void);
int cbt_copy_in(void *karg, size_t ksize, void __user *uarg, u32 *usize);
int cbt_copy_out(void __user *uarg, const void *karg, size_t ksize);
struct block_device *cbt_file_bdev(struct file *f);

#endif /* LIVEMIG_CBT_H */
