/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The copy mounted natively (native.c) and what runs in its chroot
 * (native_boot.c: initramfs, GRUB). */
#ifndef LIVEMIG_LAUNCH_NATIVE_H
#define LIVEMIG_LAUNCH_NATIVE_H

#include <fcntl.h>

#include "convert.h"

struct native {
	char dir[512];     /* scratch directory */
	char raw[CONV_MAX_DISKS][600]; /* the FUSE exports: each disk's copy as a raw disk */
	int n_raw;
	char pidfile[600];
	char root[600];    /* the guest's / */
	int exported;
	char loops[CONV_MAX_MOUNTS][32];
	int n_loops;
	int loop_of[CONV_MAX_MOUNTS]; /* per mount: index in loops, -1: not mounted here */
	char mounted[CONV_MAX_MOUNTS + 3][700];
	int n_mounted;
};

/* cmd in the guest's chroot, with a clean environment; as run_capture */
int native_chroot(struct conv *c, struct native *n, const char *const *cmd, char **out);
int native_initramfs(struct conv *c, struct native *n);
int native_grub(struct conv *c, struct native *n);

#endif
