/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file systems on the replicated disks, and their freeze through the
 * livemig_cbt module (docs/kmod-abi.md, FREEZE/THAW): the module owns the
 * freeze, so a livemigd that dies while the file systems are frozen never
 * leaves them so; its own timeout thaws them even if livemigd hangs.
 */
#ifndef LIVEMIG_FREEZE_H
#define LIVEMIG_FREEZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FREEZE_MAX_FS 64

struct freeze_set {
	int cbt_fd;                 /* /dev/livemig-cbt: the freeze belongs to it */
	int fds[FREEZE_MAX_FS];     /* the devices file systems are mounted from */
	char where[FREEZE_MAX_FS][128]; /* their mount points, for messages */
	unsigned n;
	int frozen;
};

/*
 * Find every file system mounted from the disks (whole-disk block devices)
 * at paths[0..ndisks): from the disk, its partitions and whatever holds them
 * (device-mapper, md), as sysfs shows, recursively; then the mounts of any
 * of those devices in /proc/self/mountinfo (paths given for tests). Opens
 * each device read-only. 0 (n may be 0), or -errno with err set.
 */
int freeze_find(struct freeze_set *fs, const char *const *paths, unsigned ndisks,
		 const char *sysfs, const char *mountinfo, char *err, size_t errlen);
/* The same from the disks' device numbers. */
int freeze_find_devs(struct freeze_set *fs, const dev_t *disks, unsigned ndisks,
		     const char *sysfs, const char *mountinfo, char *err, size_t errlen);
/* Freeze them all (or none), the module thawing them by itself after
 * timeout_ms. 0, or -errno with err set. */
int freeze_begin(struct freeze_set *fs, unsigned timeout_ms, char *err, size_t errlen);
/* Thaw. 0 with *frozen_ns (as the module measured), -ETIMEDOUT when the
 * module's timeout thawed first (not frozen throughout), or -errno. */
int freeze_end(struct freeze_set *fs, uint64_t *frozen_ns);
void freeze_close(struct freeze_set *fs);

#endif
