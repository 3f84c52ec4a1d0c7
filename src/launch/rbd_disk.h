/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disks on Ceph RBD (librbd, librados): a recovery point kept by staging's
 * RBD store is a snapshot (POOL/livemig-<machine>+<disk>@point-N); a launch
 * from it writes to a clone of that snapshot instead of a copy of the disk.
 *   convert   protects the snapshot and clones it (rbd_clone_point);
 *   destroy   removes the clone and unprotects the snapshot once no clone
 *             of it is left (rbd_release_clone); the clones are named by
 *             the conversion's report, or by the caller (a conversion cut
 *             short wrote no report: its names are the caller's to give).
 * A protected snapshot cannot be removed (librbd: -EBUSY), and cannot be
 * unprotected while a clone of it exists: a point with a live launch stays.
 * On the command line and in the conversion's report an RBD disk is named
 * rbd:POOL/IMAGE, a snapshot rbd:POOL/IMAGE@SNAP. Built with make RBD=1;
 * without it (rbd_disk_none.c) every call fails with -ENOTSUP.
 * Single-threaded; a connection is the caller's until ceph_close. */
#ifndef LIVEMIG_LAUNCH_RBD_DISK_H
#define LIVEMIG_LAUNCH_RBD_DISK_H

#include <stddef.h>

#define RBD_PREFIX       "rbd:"
#define CEPH_MAX_MONS    8
#define CEPH_ADDR_MAX    64

struct rbd_name {
	char pool[128];
	char image[128];
	char snap[128]; /* "" for an image */
};

struct ceph_mon {
	char host[CEPH_ADDR_MAX]; /* an address, IPv6 without brackets */
	unsigned port;            /* the monitor's v1 (legacy) port: what
				   * QEMU's and libvirt's host:port mean */
};

struct ceph_conn;

/* 1 when spec names an RBD disk (starts with rbd:) */
int rbd_spec(const char *spec);

/* "rbd:POOL/IMAGE[@SNAP]" into out; want_snap: 1 a snapshot is required,
 * 0 it is refused. 0, or -EINVAL. */
int rbd_name_parse(const char *spec, int want_snap, struct rbd_name *out);

/* conf NULL: librados's own search ($CEPH_CONF, /etc/ceph/ceph.conf); id
 * the cephx user without "client." (NULL: admin). 0, or a negative errno
 * with why in err. */
int ceph_open(const char *conf, const char *id, struct ceph_conn **out, char *err, size_t len);
void ceph_close(struct ceph_conn *c);

/* The monitors (the monitor map, asked of the cluster): what the launched
 * QEMU is told, as it reads no Ceph configuration. The count (>= 1), or a
 * negative errno with why in err. */
int ceph_monitors(struct ceph_conn *c, struct ceph_mon *mons, int max, char *err, size_t len);

/* parent's snapshot protected (unless it is already) and cloned as clone
 * (layering only). *protected_now: 1 when this call protected it. 0, or a
 * negative errno with why in err (-EEXIST: the clone's name is taken); a
 * failed clone leaves the snapshot as it found it. */
int rbd_clone_point(struct ceph_conn *c, const struct rbd_name *parent, const struct rbd_name *clone,
		    int *protected_now, char *err, size_t len);

/* clone removed (one not there is not an error), then parent's snapshot
 * unprotected when no clone of it is left (-EBUSY from librbd: others
 * remain). An image of clone's name that is not a clone of parent is left
 * alone: -EPERM. A clone still open is waited for up to 45 s (the watch of
 * a client killed with it open outlives it by the OSDs' watch timeout).
 * *removed, *unprotected: what was done. 0, or a negative errno with why
 * in err (-EBUSY: the clone is still open, e.g. by a running domain). */
int rbd_release_clone(struct ceph_conn *c, const struct rbd_name *clone, const struct rbd_name *parent,
		      int *removed, int *unprotected, char *err, size_t len);

#endif
