/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Conversion: make a copy of a recovery point's disk bootable on the
 * target's virtual hardware (virtio, BIOS or UEFI) without touching the
 * point. The copy is a qcow2 overlay whose backing file is the input.
 * Three phases, each in its own file:
 *   guest_inspect.c  libguestfs: what the guest is (OS, kernels, firmware,
 *                    boot loader, initramfs tool, partitions)
 *   guest_edit.c     libguestfs: the edits (fstab, network, identity, the
 *                    agent disabled, the first-boot unit, GRUB's defaults)
 *   native.c         the overlay's partitions mounted on this host: the
 *                    guest's own lsinitramfs/update-initramfs/dracut and
 *                    update-grub in a chroot, at native speed
 * Every change goes into the JSON report (report.c). A disk on Ceph RBD
 * (rbd_disk.h) is copied as a clone of its point's snapshot instead, and
 * edited in place through QEMU's rbd driver. */
#ifndef LIVEMIG_LAUNCH_CONVERT_H
#define LIVEMIG_LAUNCH_CONVERT_H

#include <guestfs.h>
#include <jansson.h>
#include <stdint.h>

#include "rbd_disk.h"

enum conv_purpose { PURPOSE_TEST, PURPOSE_CUTOVER };
enum conv_firmware { FW_UNKNOWN, FW_BIOS, FW_UEFI };
enum conv_loader { LOADER_NONE, LOADER_GRUB2, LOADER_GRUB1 };
enum conv_initramfs { INITRAMFS_NONE, INITRAMFS_TOOLS, INITRAMFS_DRACUT };

#define CONV_MAX_DISKS 16

/* One disk of the machine: the point's image (never written) and its copy,
 * a qcow2 overlay backed by it; or, both named rbd:..., the point's RBD
 * snapshot and its copy, a clone of it. disks[0] is the boot disk. */
struct conv_disk {
	const char *input, *input_format, *output;
	int rbd; /* input rbd:POOL/IMAGE@SNAP, output rbd:POOL/CLONE */
};

struct conv_options {
	struct conv_disk disks[CONV_MAX_DISKS]; /* in the machine's order */
	int n_disks;
	enum conv_purpose purpose;
	const char *hostname_suffix; /* test launches; default "-test" */
	const char *workdir;         /* scratch; default a directory under /tmp */
	const char *ceph_conf;       /* RBD disks: NULL for librados's own search */
	const char *ceph_id;         /* RBD disks: cephx user, NULL for admin */
};

#define CONV_MAX_MOUNTS  16
#define CONV_MAX_KERNELS 8

/* One file system the guest mounts, where it lies in the disks. */
struct conv_mount {
	char mountpoint[256];
	char device[64]; /* the appliance's name, e.g. /dev/sdb1 */
	char fstype[32];
	char uuid[64];
	int disk;             /* index in opt->disks; -1: not on a partition (LVM, RAID...) */
	int native;           /* the native phase mounts it (a partition the guest's tools need) */
	uint64_t start, size; /* bytes, within that disk */
};

struct conv_kernel {
	char version[128];
	char initrd[256]; /* path in the guest */
	int rebuilt;
};

struct conv {
	const struct conv_options *opt;
	guestfs_h *g;
	int n_created; /* overlays made (opt->disks[0..n_created)), removed on failure */
	struct ceph_conn *ceph; /* when a disk is on RBD */
	struct ceph_mon mons[CEPH_MAX_MONS];
	int n_mons;
	char *root; /* inspection's root device */
	char distro[64], product[128], os_type[32];
	int major, minor;
	enum conv_firmware firmware;
	enum conv_loader loader;
	enum conv_initramfs initramfs;
	struct conv_mount mounts[CONV_MAX_MOUNTS];
	int n_mounts;
	struct conv_kernel kernels[CONV_MAX_KERNELS];
	int n_kernels;
	char token[33]; /* the first-boot marker names this conversion */
	char hostname[256];
	json_t *changes;  /* [{"what", "path", "detail"}] */
	json_t *timings;  /* {"step": ms} */
	char error[512];  /* one line: why the conversion failed */
};

/* Runs the whole conversion. 0, or a negative errno with c->error set.
 * *report gets the JSON report either way (caller owns it). On failure the
 * output is removed: nothing is left to launch. */
int convert_run(const struct conv_options *opt, json_t **report);

/* phases (0 or negative errno with c->error set) */
int guest_inspect(struct conv *c);
int guest_edit(struct conv *c);
int native_convert(struct conv *c);

/* report.c */
void conv_change(struct conv *c, const char *what, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int conv_fail(struct conv *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
json_t *conv_report(const struct conv *c, int rc);
const char *conv_firmware_name(enum conv_firmware f);

/* The line the first-boot unit prints on the serial console:
 *   LIVEMIG-FIRSTBOOT token=<hex> result=up|no-network host=… addr=… livemigd=… */
#define FIRSTBOOT_MARKER "LIVEMIG-FIRSTBOOT"

#endif
