/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * livemig_cbt: user-space ABI of the change-tracking module.
 *
 * The misc device /dev/livemig-cbt takes the ioctls below. Every argument
 * struct starts with { __u32 size; __u32 version; }: size is sizeof() of the
 * struct as the caller compiled it, version is LIVEMIG_CBT_ABI_VERSION. The
 * kernel dispatches on the ioctl type and number only; the size field, not the
 * size encoded in the command, is authoritative. A caller built against an
 * older (shorter) struct is served; a newer (longer) struct is accepted when
 * the bytes the kernel does not know are zero (else E2BIG). Output fields are
 * copied back up to the caller's size.
 *
 * Semantics, error codes and sysfs files: docs/kmod-abi.md.
 */
#ifndef _UAPI_LIVEMIG_CBT_H
#define _UAPI_LIVEMIG_CBT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LIVEMIG_CBT_DEVICE		"/dev/livemig-cbt"
#define LIVEMIG_CBT_ABI_VERSION		1
#define LIVEMIG_CBT_EPOCH_LEN		16
#define LIVEMIG_CBT_DEFAULT_BLOCK_SHIFT	16	/* 64 KiB per bit */

/* livemig_cbt_info.flags */
#define LIVEMIG_CBT_F_FROZEN		(1U << 0) /* a frozen generation exists */
#define LIVEMIG_CBT_F_INVALID		(1U << 1) /* epoch broken: rescan */

/* livemig_cbt_info.invalid_reason */
#define LIVEMIG_CBT_INVALID_NONE	0
#define LIVEMIG_CBT_INVALID_REMOVED	1 /* the disk was removed */
#define LIVEMIG_CBT_INVALID_RESIZED	2 /* capacity changed */
#define LIVEMIG_CBT_INVALID_OVERFLOW	3 /* a write fell outside the map */
#define LIVEMIG_CBT_INVALID_PASSTHROUGH	4 /* a write of unknown range */
#define LIVEMIG_CBT_INVALID_INFLIGHT	5 /* too many writes in flight to follow */

/* ATTACH: start tracking the whole disk open as @fd. */
struct livemig_cbt_attach {
	__u32 size;
	__u32 version;
	__s32 fd;		/* in: fd of the whole-disk block device */
	__u32 flags;		/* in: 0 */
	__u32 min_block_shift;	/* in: 0 = default (16); 9..30 */
	__u32 major;		/* out */
	__u32 minor;		/* out */
	__u32 block_shift;	/* out: log2 of bytes per bit */
	__u64 disk_bytes;	/* out: capacity when attached */
	__u64 nr_blocks;	/* out: bits in the map */
	__u64 generation;	/* out: the active generation (1) */
	__u8 epoch[LIVEMIG_CBT_EPOCH_LEN]; /* out: random, new per attach */
};

/* INFO: state of the tracking of disk major:minor (no epoch needed). */
struct livemig_cbt_info {
	__u32 size;
	__u32 version;
	__u32 major;		/* in */
	__u32 minor;		/* in */
	__u32 flags;		/* out: LIVEMIG_CBT_F_* */
	__u32 invalid_reason;	/* out: LIVEMIG_CBT_INVALID_* */
	__u32 block_shift;	/* out */
	__u32 reserved;		/* out: 0 */
	__u64 disk_bytes;	/* out */
	__u64 nr_blocks;	/* out */
	__u64 generation;	/* out: active generation */
	__u64 frozen_generation; /* out: 0 when none */
	__u64 dirty_blocks;	/* out: bits set in the active map */
	__u64 frozen_blocks;	/* out: bits set in the frozen map */
	__u8 epoch[LIVEMIG_CBT_EPOCH_LEN]; /* out */
};

/*
 * SNAPSHOT, ACK, ABORT, DETACH. The epoch must match the tracking's.
 * SNAPSHOT: out generation = the generation just frozen, blocks = its bits.
 * ACK/ABORT: in generation = the frozen generation.
 * DETACH: generation ignored.
 */
struct livemig_cbt_gen {
	__u32 size;
	__u32 version;
	__u32 major;
	__u32 minor;
	__u8 epoch[LIVEMIG_CBT_EPOCH_LEN];
	__u64 generation;
	__u64 blocks;
};

#define LIVEMIG_CBT_READ_BITMAP		0 /* bit i of byte j = block start+8j+i */
#define LIVEMIG_CBT_READ_EXTENTS	1 /* struct livemig_cbt_extent[] */
/*
 * struct livemig_cbt_extent[] as EXTENTS, but each marked block narrowed to
 * the pieces (1/16 of a block) its writes touched, where the module recorded
 * them; a block it could not follow is whole. A module without it: EINVAL.
 */
#define LIVEMIG_CBT_READ_PIECES		2

#define LIVEMIG_CBT_READ_END		(1U << 0) /* nothing after next_block */

/*
 * Byte range of the disk, clipped to the disk's end: block aligned (EXTENTS)
 * or piece aligned (PIECES).
 */
struct livemig_cbt_extent {
	__u64 offset;
	__u64 length;
};

/* READ: one page of the frozen generation, from start_block on. */
struct livemig_cbt_read {
	__u32 size;
	__u32 version;
	__u32 major;
	__u32 minor;
	__u8 epoch[LIVEMIG_CBT_EPOCH_LEN];
	__u64 generation;	/* in: the frozen generation */
	__u64 start_block;	/* in: BITMAP: a multiple of 64 */
	__u64 buf;		/* in: user pointer */
	__u32 buf_len;		/* in: bytes at buf */
	__u32 format;		/* in: LIVEMIG_CBT_READ_* */
	__u64 next_block;	/* out: start_block of the next page */
	__u32 count;		/* out: bytes (BITMAP) or extents (EXTENTS) */
	__u32 out_flags;	/* out: LIVEMIG_CBT_READ_END */
};

#define LIVEMIG_CBT_FREEZE_MAX_FDS	64	/* block devices in one FREEZE */
#define LIVEMIG_CBT_FREEZE_MAX_TIMEOUT_MS 600000 /* the longest FREEZE timeout: 10 min */

/*
 * FREEZE: freeze the file systems on the block devices open as fds[]
 * (partitions, device-mapper, md: whatever a file system is mounted from),
 * all or none. They stay frozen until THAW on this file descriptor, until
 * timeout_ms have passed since they were all frozen, or until this file
 * descriptor is released, whichever comes first. One FREEZE at a time per
 * file descriptor.
 */
struct livemig_cbt_freeze {
	__u32 size;
	__u32 version;
	__u32 flags;		/* in: 0 */
	__u32 timeout_ms;	/* in: 1..LIVEMIG_CBT_FREEZE_MAX_TIMEOUT_MS */
	__u64 fds;		/* in: user pointer to __s32[nr_fds] */
	__u32 nr_fds;		/* in: 1..LIVEMIG_CBT_FREEZE_MAX_FDS */
	__u32 failed;		/* out, also on error: index of the fd that failed */
};

/*
 * THAW: thaw what FREEZE froze on this file descriptor. ETIMEDOUT when the
 * timeout thawed them first (the file systems were not frozen throughout).
 */
struct livemig_cbt_thaw {
	__u32 size;
	__u32 version;
	__u32 flags;		/* in: 0 */
	__u32 reserved;		/* out: 0 */
	__u64 frozen_ns;	/* out: from the end of FREEZE to this THAW */
};

#define LIVEMIG_CBT_IOC_MAGIC	0xCB

#define LIVEMIG_CBT_IOC_ATTACH	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 1, struct livemig_cbt_attach)
#define LIVEMIG_CBT_IOC_INFO	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 2, struct livemig_cbt_info)
#define LIVEMIG_CBT_IOC_SNAPSHOT _IOWR(LIVEMIG_CBT_IOC_MAGIC, 3, struct livemig_cbt_gen)
#define LIVEMIG_CBT_IOC_READ	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 4, struct livemig_cbt_read)
#define LIVEMIG_CBT_IOC_ACK	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 5, struct livemig_cbt_gen)
#define LIVEMIG_CBT_IOC_ABORT	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 6, struct livemig_cbt_gen)
#define LIVEMIG_CBT_IOC_DETACH	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 7, struct livemig_cbt_gen)
#define LIVEMIG_CBT_IOC_FREEZE	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 8, struct livemig_cbt_freeze)
#define LIVEMIG_CBT_IOC_THAW	 _IOWR(LIVEMIG_CBT_IOC_MAGIC, 9, struct livemig_cbt_thaw)

#endif /* _UAPI_LIVEMIG_CBT_H */
