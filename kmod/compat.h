/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * livemig_cbt: what differs between the kernels the module builds on
 * (Debian's 5.10 to 7.x). Each choice comes from a compile probe
 * (cbt_config.h, written by dkms/livemig-cbt-probe.sh), never from
 * LINUX_VERSION_CODE: distribution kernels backport.
 */
#ifndef LIVEMIG_CBT_COMPAT_H
#define LIVEMIG_CBT_COMPAT_H

#include <linux/bio.h>
#include <linux/blkdev.h>

#include "cbt_config.h"

/* The disk a bio is queued on: bio->bi_bdev since 5.12, bi_disk before. */
#if CBT_HAVE_BIO_BI_BDEV
#define cbt_bio_disk(bio)	((bio)->bi_bdev->bd_disk)
#else
#define cbt_bio_disk(bio)	((bio)->bi_disk)
#endif

/* Whether a disk is still registered: disk_live() since 5.15. */
#if CBT_HAVE_DISK_LIVE
#define cbt_disk_live(disk)	disk_live(disk)
#else
#define cbt_disk_live(disk)	(!!((disk)->flags & GENHD_FL_UP))
#endif

/* The disk of a request: rq->rq_disk until 5.19, rq->q->disk since. */
#if CBT_HAVE_REQUEST_RQ_DISK
#define cbt_rq_disk(rq)		((rq)->rq_disk)
#else
#define cbt_rq_disk(rq)		((rq)->q->disk)
#endif

/* Request operations became enum req_op in 6.0. */
#if CBT_HAVE_ENUM_REQ_OP
#define cbt_op_t		enum req_op
#else
#define cbt_op_t		unsigned int
#endif

/* A passthrough request carrying data to the disk: SCSI's own op until 5.18. */
#if CBT_HAVE_REQ_OP_SCSI_OUT
#define cbt_op_passthrough_out(op) \
	((op) == REQ_OP_DRV_OUT || (op) == REQ_OP_SCSI_OUT)
#else
#define cbt_op_passthrough_out(op)	((op) == REQ_OP_DRV_OUT)
#endif

/* diskseq (5.15) changes when a disk's media is replaced; without it, 0. */
#if CBT_HAVE_DISK_DISKSEQ
#define cbt_disk_seq(disk)	((disk)->diskseq)
#else
#define cbt_disk_seq(disk)	0ULL
#endif

/*
 * block_bio_queue's probe arguments: (q, bio) until 5.10, (bio) since 5.11.
 * Declare a probe as: static void fn(CBT_BIO_QUEUE_ARGS(bio)).
 */
#if CBT_HAVE_TP_BIO_QUEUE_BIO
#define CBT_BIO_QUEUE_ARGS(bio)	void *data, struct bio *bio
#elif CBT_HAVE_TP_BIO_QUEUE_Q_BIO
#define CBT_BIO_QUEUE_ARGS(bio)	\
	void *data, struct request_queue *q, struct bio *bio
#else
#error "block_bio_queue has a prototype livemig_cbt does not know"
#endif

/*
 * block_rq_complete's error argument: blk_status_t on 6.x and later, int on
 * 5.10. Declare a probe as:
 * static void fn(void *data, struct request *rq, cbt_rq_error_t error,
 *		  unsigned int nr_bytes).
 */
#if CBT_HAVE_TP_RQ_COMPLETE_RQ_ERR_BYTES
#define cbt_rq_error_t		blk_status_t
#elif CBT_HAVE_TP_RQ_COMPLETE_RQ_INT_BYTES
#define cbt_rq_error_t		int
#else
#error "block_rq_complete has a prototype livemig_cbt does not know"
#endif

/*
 * Freezing the file system on a block device: bdev_freeze()/bdev_thaw()
 * since 6.8 (through the block device's holder), freeze_bdev()/thaw_bdev()
 * returning int from 5.11 to 6.7, and on 5.10 freeze_bdev() returning the
 * super block (NULL when nothing is mounted) that thaw_bdev() takes back.
 * *sbp carries that super block; it is unused elsewhere.
 */
struct super_block;

#if CBT_HAVE_BDEV_FREEZE
static inline int cbt_bdev_freeze(struct block_device *bdev,
				  struct super_block **sbp)
{
	*sbp = NULL;
	return bdev_freeze(bdev);
}

static inline int cbt_bdev_thaw(struct block_device *bdev,
				struct super_block *sb)
{
	return bdev_thaw(bdev);
}
#elif CBT_HAVE_FREEZE_BDEV_INT
static inline int cbt_bdev_freeze(struct block_device *bdev,
				  struct super_block **sbp)
{
	*sbp = NULL;
	return freeze_bdev(bdev);
}

static inline int cbt_bdev_thaw(struct block_device *bdev,
				struct super_block *sb)
{
	return thaw_bdev(bdev);
}
#elif CBT_HAVE_FREEZE_BDEV_SB
static inline int cbt_bdev_freeze(struct block_device *bdev,
				  struct super_block **sbp)
{
	struct super_block *sb = freeze_bdev(bdev);

	if (IS_ERR(sb))
		return PTR_ERR(sb);
	*sbp = sb;
	return 0;
}

static inline int cbt_bdev_thaw(struct block_device *bdev,
				struct super_block *sb)
{
	return thaw_bdev(bdev, sb);
}
#else
#error "livemig_cbt knows no way to freeze a block device's file system here"
#endif

#endif /* LIVEMIG_CBT_COMPAT_H */
