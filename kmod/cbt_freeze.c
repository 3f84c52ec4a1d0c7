// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: FREEZE and THAW, the file-system freeze that belongs to an
 * open file descriptor of /dev/livemig-cbt.
 *
 * The agent freezes the file systems on the replicated disks for the few
 * milliseconds it takes to snapshot the tracker and read the changed
 * blocks. A freeze made from user space (FIFREEZE) stays until someone
 * thaws it: an agent killed at that moment would leave the machine's file
 * systems frozen and every writer hung. Here the freeze is owned by the
 * file descriptor: it ends on THAW, when its timeout passes (a delayed work
 * on a workqueue with a rescuer, so the thaw runs even when no new worker
 * can be made), or when the file descriptor is released, which the kernel
 * does for a process however it dies.
 *
 * Lock rules: cf->lock serialises FREEZE, THAW, the timeout and release
 * on one file descriptor. It is never taken with cbt_mutex held, nor the
 * other way round. The block devices stay open (their struct file is held)
 * while frozen.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include <linux/blkdev.h>

#include "cbt.h"

struct cbt_frozen {
	struct file *file;		/* keeps the block device open */
	struct super_block *sb;		/* what 5.10's thaw_bdev() wants back */
};

struct cbt_file {
	struct mutex lock;
	struct delayed_work timeout;
	struct cbt_frozen *frozen;	/* NULL when nothing is frozen */
	unsigned int nr;
	bool timed_out;			/* the timeout thawed: THAW says so */
	ktime_t since;			/* when the last device froze */
};

static struct workqueue_struct *cbt_thaw_wq;

/* cf->lock held. Thaw in reverse order; the first error is returned. */
static int cbt_thaw_all(struct cbt_file *cf)
{
	int i, err, ret = 0;

	for (i = cf->nr - 1; i >= 0; i--) {
		err = cbt_bdev_thaw(cbt_file_bdev(cf->frozen[i].file),
				    cf->frozen[i].sb);
		if (err) {
			pr_warn("livemig_cbt: thaw of a block device failed: %d\n",
				err);
			ret = ret ?: err;
		}
		fput(cf->frozen[i].file);
	}
	kfree(cf->frozen);
	cf->frozen = NULL;
	cf->nr = 0;
	return ret;
}

static void cbt_freeze_timeout(struct work_struct *work)
{
	struct cbt_file *cf = container_of(to_delayed_work(work),
					   struct cbt_file, timeout);

	mutex_lock(&cf->lock);
	if (cf->frozen) {
		cbt_thaw_all(cf);
		cf->timed_out = true;
		atomic_long_inc(&cbt_stats.freeze_timeouts);
		pr_warn("livemig_cbt: freeze timed out; file systems thawed\n");
	}
	mutex_unlock(&cf->lock);
}

int cbt_freeze_open(struct file *file)
{
	struct cbt_file *cf = kzalloc(sizeof(*cf), GFP_KERNEL);

	if (!cf)
		return -ENOMEM;
	mutex_init(&cf->lock);
	INIT_DELAYED_WORK(&cf->timeout, cbt_freeze_timeout);
	file->private_data = cf;
	return 0;
}

/* The last reference to the file descriptor is gone, however it went. */
void cbt_freeze_release(struct file *file)
{
	struct cbt_file *cf = file->private_data;

	cancel_delayed_work_sync(&cf->timeout);
	mutex_lock(&cf->lock);
	if (cf->frozen) {
		cbt_thaw_all(cf);
		atomic_long_inc(&cbt_stats.freeze_releases);
		pr_warn("livemig_cbt: file descriptor closed during a freeze; file systems thawed\n");
	}
	mutex_unlock(&cf->lock);
	mutex_destroy(&cf->lock);
	kfree(cf);
}

/* cf->lock held; @fds in kernel memory. On error nothing stays frozen. */
static int cbt_freeze_fds(struct cbt_file *cf, const s32 *fds, u32 nr,
			  u32 *failed)
{
	struct block_device *bdev;
	struct file *f;
	int ret = 0;

	cf->frozen = kcalloc(nr, sizeof(*cf->frozen), GFP_KERNEL);
	if (!cf->frozen)
		return -ENOMEM;
	for (cf->nr = 0; cf->nr < nr; cf->nr++) {
		*failed = cf->nr;
		f = fget(fds[cf->nr]);
		if (!f) {
			ret = -EBADF;
			break;
		}
		bdev = cbt_file_bdev(f);
		ret = bdev ? cbt_bdev_freeze(bdev, &cf->frozen[cf->nr].sb) :
			     -ENOTBLK;
		if (ret) {
			fput(f);
			break;
		}
		cf->frozen[cf->nr].file = f;
	}
	if (ret)
		cbt_thaw_all(cf);
	return ret;
}

long cbt_ioc_freeze(struct file *file, void __user *uarg)
{
	struct cbt_file *cf = file->private_data;
	struct livemig_cbt_freeze fz;
	s32 *fds;
	u32 usize;
	int ret;

	ret = cbt_copy_in(&fz, sizeof(fz), uarg, &usize);
	if (ret)
		return ret;
	if (fz.flags || !fz.nr_fds || fz.nr_fds > LIVEMIG_CBT_FREEZE_MAX_FDS ||
	    !fz.timeout_ms || fz.timeout_ms > LIVEMIG_CBT_FREEZE_MAX_TIMEOUT_MS)
		return -EINVAL;
	fds = memdup_user(u64_to_user_ptr(fz.fds), fz.nr_fds * sizeof(*fds));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	fz.failed = 0;
	mutex_lock(&cf->lock);
	if (cf->frozen) {
		ret = -EBUSY;
		goto out;
	}
	cf->timed_out = false;
	ret = cbt_freeze_fds(cf, fds, fz.nr_fds, &fz.failed);
	if (ret)
		goto out;
	cf->since = ktime_get();
	atomic_long_inc(&cbt_stats.freezes);
	queue_delayed_work(cbt_thaw_wq, &cf->timeout,
			   msecs_to_jiffies(fz.timeout_ms));
out:
	mutex_unlock(&cf->lock);
	kfree(fds);
	/* the index of the device that failed is worth telling too */
	if (cbt_copy_out(uarg, &fz, sizeof(fz)) && !ret) {
		/* nobody can learn the freeze worked: undo it */
		cancel_delayed_work_sync(&cf->timeout);
		mutex_lock(&cf->lock);
		if (cf->frozen)
			cbt_thaw_all(cf);
		mutex_unlock(&cf->lock);
		ret = -EFAULT;
	}
	return ret;
}

long cbt_ioc_thaw(struct file *file, void __user *uarg)
{
	struct cbt_file *cf = file->private_data;
	struct livemig_cbt_thaw th;
	u32 usize;
	int ret;

	ret = cbt_copy_in(&th, sizeof(th), uarg, &usize);
	if (ret)
		return ret;
	if (th.flags)
		return -EINVAL;
	/*
	 * Before cf->lock (the work takes it): a timeout already running
	 * finishes first, so it can never thaw a later FREEZE.
	 */
	cancel_delayed_work_sync(&cf->timeout);
	mutex_lock(&cf->lock);
	if (cf->frozen) {
		th.frozen_ns = ktime_to_ns(ktime_sub(ktime_get(), cf->since));
		ret = cbt_thaw_all(cf);
	} else if (cf->timed_out) {
		cf->timed_out = false;
		ret = -ETIMEDOUT;
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&cf->lock);
	if (ret)
		return ret;
	th.reserved = 0;
	return cbt_copy_out(uarg, &th, sizeof(th));
}

int cbt_freeze_init(void)
{
	cbt_thaw_wq = alloc_workqueue("livemig_cbt_thaw",
				      WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	return cbt_thaw_wq ? 0 : -ENOMEM;
}

void cbt_freeze_exit(void)
{
	destroy_workqueue(cbt_thaw_wq);
}
