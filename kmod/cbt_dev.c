// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: the misc device /dev/livemig-cbt (ioctls) and its read-only
 * sysfs statistics in /sys/class/misc/livemig-cbt/ (counters only: those
 * files are readable by anyone and must not stall the agent's ioctls).
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include "cbt.h"

#if !CBT_HAVE_COPY_STRUCT_FROM_USER
#error "livemig_cbt needs copy_struct_from_user() (Linux 5.4 or a backport)"
#endif

/* Copy an argument struct in; its first two fields are size and version. */
int cbt_copy_in(void *karg, size_t ksize, void __user *uarg,
		       u32 *usize)
{
	u32 hdr[2];
	int ret;

	if (copy_from_user(hdr, uarg, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] < ksize)	/* v1 is the oldest: every field is needed */
		return -EINVAL;
	if (hdr[0] > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(karg, ksize, uarg, hdr[0]);
	if (ret)
		return ret;
	if (hdr[1] != LIVEMIG_CBT_ABI_VERSION)
		return -EPROTONOSUPPORT;
	*usize = hdr[0];
	return 0;
}

int cbt_copy_out(void __user *uarg, const void *karg, size_t ksize)
{
	return copy_to_user(uarg, karg, ksize) ? -EFAULT : 0;
}

struct block_device *cbt_file_bdev(struct file *f)
{
	struct inode *host;

	if (f->f_mode & FMODE_PATH)
		return NULL;
	host = f->f_mapping ? f->f_mapping->host : NULL;
	if (!host || !S_ISBLK(file_inode(f)->i_mode) || !S_ISBLK(host->i_mode))
		return NULL;
#if CBT_HAVE_FILE_BDEV
	return file_bdev(f);
#else
	return I_BDEV(host);
#endif
}

static long cbt_ioc_attach(void __user *uarg)
{
	struct livemig_cbt_attach a;
	struct block_device *bdev;
	struct file *f;
	u32 usize;
	int ret;

	ret = cbt_copy_in(&a, sizeof(a), uarg, &usize);
	if (ret)
		return ret;
	if (a.flags)
		return -EINVAL;
	f = fget(a.fd);
	if (!f)
		return -EBADF;
	bdev = cbt_file_bdev(f);
	if (!bdev) {
		ret = -ENOTBLK;
		goto out;
	}
	mutex_lock(&cbt_mutex);
	ret = cbt_attach(bdev, a.min_block_shift, &a);
	mutex_unlock(&cbt_mutex);
	if (!ret)
		ret = cbt_copy_out(uarg, &a, sizeof(a));
	/* A tracking nobody learnt the epoch of stays until DETACH/unload. */
out:
	fput(f);
	return ret;
}

static long cbt_ioc_info(void __user *uarg)
{
	struct livemig_cbt_info in;
	struct cbt_disk *t;
	u32 usize;
	int ret;

	ret = cbt_copy_in(&in, sizeof(in), uarg, &usize);
	if (ret)
		return ret;
	mutex_lock(&cbt_mutex);
	t = cbt_find(in.major, in.minor);
	if (t) {
		cbt_check_disk(t);
		cbt_fill_info(t, &in);
	}
	mutex_unlock(&cbt_mutex);
	if (!t)
		return -ENODEV;
	return cbt_copy_out(uarg, &in, sizeof(in));
}

/* Find the tracking named by major:minor and epoch; cbt_mutex held. */
static int cbt_lookup(u32 major, u32 minor, const u8 *epoch,
		      bool allow_invalid, struct cbt_disk **tp)
{
	struct cbt_disk *t = cbt_find(major, minor);

	if (!t)
		return -ENODEV;
	if (memcmp(t->epoch, epoch, LIVEMIG_CBT_EPOCH_LEN))
		return -ESTALE;
	cbt_check_disk(t);
	if (!allow_invalid && READ_ONCE(t->invalid_reason))
		return -EIDRM;
	*tp = t;
	return 0;
}

static long cbt_ioc_gen(unsigned int nr, void __user *uarg)
{
	struct livemig_cbt_gen g;
	struct cbt_disk *t;
	u32 usize;
	int ret;

	ret = cbt_copy_in(&g, sizeof(g), uarg, &usize);
	if (ret)
		return ret;
	mutex_lock(&cbt_mutex);
	ret = cbt_lookup(g.major, g.minor, g.epoch,
			 nr == _IOC_NR(LIVEMIG_CBT_IOC_DETACH) ||
			 nr == _IOC_NR(LIVEMIG_CBT_IOC_ACK), &t);
	if (ret)
		goto out;
	switch (nr) {
	case _IOC_NR(LIVEMIG_CBT_IOC_SNAPSHOT):
		ret = cbt_snapshot(t, &g.generation, &g.blocks);
		break;
	case _IOC_NR(LIVEMIG_CBT_IOC_ACK):
		ret = cbt_ack(t, g.generation);
		break;
	case _IOC_NR(LIVEMIG_CBT_IOC_ABORT):
		ret = cbt_abort(t, g.generation);
		break;
	case _IOC_NR(LIVEMIG_CBT_IOC_DETACH):
		cbt_detach(t);
		break;
	}
out:
	mutex_unlock(&cbt_mutex);
	if (!ret)
		ret = cbt_copy_out(uarg, &g, sizeof(g));
	return ret;
}

/* The most one READ returns: the map is copied out after cbt_mutex. */
#define CBT_READ_MAX	(64 * 1024)

static long cbt_ioc_read(void __user *uarg)
{
	struct livemig_cbt_read rd;
	struct cbt_disk *t;
	size_t len;
	void *kbuf;
	u32 usize;
	long ret;

	ret = cbt_copy_in(&rd, sizeof(rd), uarg, &usize);
	if (ret)
		return ret;
	if (rd.format != LIVEMIG_CBT_READ_BITMAP &&
	    rd.format != LIVEMIG_CBT_READ_EXTENTS &&
	    rd.format != LIVEMIG_CBT_READ_PIECES)
		return -EINVAL;
	len = min_t(size_t, rd.buf_len, CBT_READ_MAX);
	kbuf = kvmalloc(max_t(size_t, len, 1), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	mutex_lock(&cbt_mutex);
	ret = cbt_lookup(rd.major, rd.minor, rd.epoch, false, &t);
	if (ret)
		goto out;
	if (!t->frozen)
		ret = -ENOENT;
	else if (rd.generation != t->frozen_generation)
		ret = -ESTALE;
	else
		ret = cbt_map_read(t->frozen, &rd, kbuf, len, t->block_shift,
				   (u64)t->sectors << 9);
out:
	mutex_unlock(&cbt_mutex);
	if (ret >= 0 && copy_to_user(u64_to_user_ptr(rd.buf), kbuf, ret))
		ret = -EFAULT;
	kvfree(kbuf);
	if (ret >= 0)
		ret = cbt_copy_out(uarg, &rd, sizeof(rd));
	return ret;
}

static long cbt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != LIVEMIG_CBT_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (nr) {
	case _IOC_NR(LIVEMIG_CBT_IOC_ATTACH):
		return cbt_ioc_attach(uarg);
	case _IOC_NR(LIVEMIG_CBT_IOC_INFO):
		return cbt_ioc_info(uarg);
	case _IOC_NR(LIVEMIG_CBT_IOC_READ):
		return cbt_ioc_read(uarg);
	case _IOC_NR(LIVEMIG_CBT_IOC_SNAPSHOT):
	case _IOC_NR(LIVEMIG_CBT_IOC_ACK):
	case _IOC_NR(LIVEMIG_CBT_IOC_ABORT):
	case _IOC_NR(LIVEMIG_CBT_IOC_DETACH):
		return cbt_ioc_gen(nr, uarg);
	case _IOC_NR(LIVEMIG_CBT_IOC_FREEZE):
		return cbt_ioc_freeze(file, uarg);
	case _IOC_NR(LIVEMIG_CBT_IOC_THAW):
		return cbt_ioc_thaw(file, uarg);
	default:
		return -ENOTTY;
	}
}

/* Each open file descriptor may own a freeze (cbt_freeze.c). */
static int cbt_open(struct inode *inode, struct file *file)
{
	return cbt_freeze_open(file);
}

static int cbt_release(struct inode *inode, struct file *file)
{
	cbt_freeze_release(file);
	return 0;
}

static const struct file_operations cbt_fops = {
	.owner		= THIS_MODULE,
	.open		= cbt_open,
	.release	= cbt_release,
	.unlocked_ioctl	= cbt_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* sysfs: /sys/class/misc/livemig-cbt/<name>, one value per file. */
#define CBT_ATTR_COUNTER(_name, _expr)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lu\n", (unsigned long)(_expr));	\
}									\
static DEVICE_ATTR_RO(_name)

CBT_ATTR_COUNTER(bitmap_bytes, atomic_long_read(&cbt_stats.bitmap_bytes));
CBT_ATTR_COUNTER(generations, atomic_long_read(&cbt_stats.generations));
CBT_ATTR_COUNTER(overflows, atomic_long_read(&cbt_stats.overflows));
CBT_ATTR_COUNTER(invalidations, atomic_long_read(&cbt_stats.invalidations));
CBT_ATTR_COUNTER(attaches, atomic_long_read(&cbt_stats.attaches));
CBT_ATTR_COUNTER(completion_marks, atomic_long_read(&cbt_stats.remarks));
CBT_ATTR_COUNTER(passthrough_writes, atomic_long_read(&cbt_stats.passthrough));
CBT_ATTR_COUNTER(block_size, 1UL << LIVEMIG_CBT_DEFAULT_BLOCK_SHIFT);
CBT_ATTR_COUNTER(bitmap_cap_bytes, cbt_bitmap_cap_kib * 1024UL);
CBT_ATTR_COUNTER(tracked_disks, atomic_read(&cbt_stats.tracked));
CBT_ATTR_COUNTER(dirty_blocks, atomic_long_read(&cbt_stats.dirty));
CBT_ATTR_COUNTER(freezes, atomic_long_read(&cbt_stats.freezes));
CBT_ATTR_COUNTER(freeze_timeouts, atomic_long_read(&cbt_stats.freeze_timeouts));
CBT_ATTR_COUNTER(freeze_releases, atomic_long_read(&cbt_stats.freeze_releases));
CBT_ATTR_COUNTER(piece_bytes, atomic_long_read(&cbt_stats.piece_bytes));
CBT_ATTR_COUNTER(piece_cap_bytes, cbt_piece_cap_kib * 1024UL);
CBT_ATTR_COUNTER(piece_fallbacks, atomic_long_read(&cbt_stats.piece_fallbacks));

static struct attribute *cbt_attrs[] = {
	&dev_attr_tracked_disks.attr,
	&dev_attr_block_size.attr,
	&dev_attr_bitmap_cap_bytes.attr,
	&dev_attr_dirty_blocks.attr,
	&dev_attr_bitmap_bytes.attr,
	&dev_attr_generations.attr,
	&dev_attr_overflows.attr,
	&dev_attr_invalidations.attr,
	&dev_attr_attaches.attr,
	&dev_attr_completion_marks.attr,
	&dev_attr_passthrough_writes.attr,
	&dev_attr_freezes.attr,
	&dev_attr_freeze_timeouts.attr,
	&dev_attr_freeze_releases.attr,
	&dev_attr_piece_bytes.attr,
	&dev_attr_piece_cap_bytes.attr,
	&dev_attr_piece_fallbacks.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbt);

static struct miscdevice cbt_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "livemig-cbt",
	.fops	= &cbt_fops,
	.mode	= 0600,
	.groups	= cbt_groups,
};

int cbt_dev_register(void)
{
	return misc_register(&cbt_misc);
}

void cbt_dev_unregister(void)
{
	misc_deregister(&cbt_misc);
}
