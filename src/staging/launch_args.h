/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command lines of the launch and destroy jobs (launch_job.h): what
 * staging passes to `livemig-launch convert`, `launch` and `destroy`,
 * built from the jobs' params, the point's disks and the launch options,
 * without running anything (docs/launch.md, "Launching from staging").
 *
 * Two ways to a launch: the point's disks exported to qcow2 files in
 * LAUNCH_DIR/<name>/ and copied by the conversion (the files store, and
 * the export driver on any store), or, with the RBD store and the libvirt
 * driver, each disk's snapshot cloned in the pool by the conversion and
 * booted as an rbd network disk (nothing exported, nothing copied).
 */
#ifndef LIVEMIG_STAGING_LAUNCH_ARGS_H
#define LIVEMIG_STAGING_LAUNCH_ARGS_H

#include <limits.h>
#include <stdint.h>

#include <jansson.h>

#include "frame.h"

/* livemig-launch's limit (CONV_MAX_DISKS, LAUNCH_MAX_DISKS) */
#define LAUNCH_MAX_DISKS 16
#define LAUNCH_ARGV_MAX  (4 * LAUNCH_MAX_DISKS + 32)
/* rbd:POOL/IMAGE@SNAP: each part is at most 127 in livemig-launch */
#define LAUNCH_ARG_LEN   (PATH_MAX + 96)

struct launch_config {
	const char *driver;   /* "libvirt", "export", or NULL: this server launches nothing */
	const char *launcher; /* the livemig-launch program */
	const char *dir;      /* LAUNCH_DIR: one directory per instance */
	const char *uri;      /* libvirt: connection URI (NULL: the launcher's default) */
	const char *nic;      /* libvirt: NIC spec (NULL: the launcher's default) */
	unsigned timeout_s;   /* bound for "up" (0: the launcher's default) */
	/* the RBD store (--image-store rbd:POOL): its pool, NULL for files;
	 * with it --ceph-conf and --ceph-id (NULL: the launcher's defaults) */
	const char *rbd_pool, *ceph_conf, *ceph_id;
	/* --launch-ceph-secret: the libvirt secret with the Ceph user's key */
	const char *ceph_secret;
};

struct launch_params {
	const char *name, *purpose, *hostname_suffix;
	uint64_t point;
	json_int_t cpus, memory_mib;
};

/* The point's disks, in the point's order (the first boots). */
struct point_disks {
	char name[LAUNCH_MAX_DISKS][FRAME_NAME_MAX + 1];
	int n;
};

/* An argv and the strings it points into (one per command). */
struct launch_argv {
	const char *argv[LAUNCH_ARGV_MAX];
	int argc;
	char input[LAUNCH_MAX_DISKS][LAUNCH_ARG_LEN], output[LAUNCH_MAX_DISKS][LAUNCH_ARG_LEN];
	char report[LAUNCH_ARG_LEN], image[LAUNCH_ARG_LEN];
	char cpus[24], memory[24], timeout[24];
};

/* Whether s is a UUID as libvirt names its secrets (8-4-4-4-12 hex). */
int launch_secret_valid(const char *s);

/* Whether launches of this configuration clone the point's RBD snapshots
 * (the RBD store and the libvirt driver: the export driver takes files). */
int launch_from_clones(const struct launch_config *c);

/* `convert` of the point's disks for instance dir (LAUNCH_DIR/<name>) of
 * machine. 0, or -ENAMETOOLONG. */
int launch_convert_argv(struct launch_argv *a, const struct launch_config *c, const char *machine,
			const struct launch_params *lp, const struct point_disks *pd, const char *dir);
/* `launch --json` of the converted copy. 0, or -ENAMETOOLONG. */
int launch_launch_argv(struct launch_argv *a, const struct launch_config *c, const struct launch_params *lp,
		       const char *dir);
/* The clones a launch of machine's point makes (from clones: each disk's
 * snapshot cloned as POOL/<instance>-<disk>). */
struct launch_clones {
	const char *machine;
	uint64_t point;
	const struct point_disks *disks;
};

/* `destroy` of instance name; report: the conversion's report to pass
 * (a launch from clones that converted: destroy removes the clones and
 * unprotects the snapshots), or NULL; lc: the point's clones, named to
 * destroy as --snapshot/--clone pairs whether or not a report names them
 * (a conversion cut short wrote none), or NULL (the point is unknown).
 * lc is ignored unless launches are from clones. 0, or -ENAMETOOLONG. */
int launch_destroy_argv(struct launch_argv *a, const struct launch_config *c, const char *name,
			const char *dir, const char *report, const struct launch_clones *lc);

#endif
