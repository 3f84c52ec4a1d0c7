/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Launchers: one interface, one driver per kind of target.
 *   libvirt  defines and starts a domain (launch_libvirt.c), then waits for
 *            the first-boot marker on its serial log (serial_watch.c)
 *   export   writes the disk as qcow2 or raw plus a JSON description of the
 *            machine for a cloud's image import (launch_export.c)
 * The converted copy's report (convert.h) gives firmware and marker, and
 * for disks on Ceph RBD the clones, their snapshots and the monitors. */
#ifndef LIVEMIG_LAUNCH_LAUNCHER_H
#define LIVEMIG_LAUNCH_LAUNCHER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LAUNCH_MAX_DISKS 16

struct launch_request {
	const char *name;      /* domain / instance name: [A-Za-z0-9_.-] */
	const char *disks[LAUNCH_MAX_DISKS]; /* the converted copies (qcow2 overlays), in the
					      * machine's order: disks[0] boots */
	int n_disks;
	const char *firmware;  /* "bios" or "uefi" */
	const char *marker;    /* "LIVEMIG-FIRSTBOOT token=..." */
	unsigned vcpus;
	unsigned memory_mib;
	const char *nic;       /* "user", "network:NAME" or "bridge:NAME" */
	const char *uri;       /* libvirt: connection URI */
	const char *state_dir; /* libvirt: serial log and NVRAM go here */
	uint64_t timeout_s;    /* libvirt: bound for the marker */
	int keep_on_failure;   /* libvirt: leave a failed domain defined */
	const char *output;    /* export: image file; its description is OUTPUT.json */
	const char *format;    /* export: "qcow2" or "raw" */
	/* Disks on Ceph RBD (rbd_disk.h): disks[i] is rbd:POOL/CLONE, a clone
	 * of the point's snapshot rbd_parents[i] (NULL for a file copy) */
	const char *rbd_parents[LAUNCH_MAX_DISKS];
	int n_rbd;
	const char *ceph_conf;       /* the report's: NULL for librados's search */
	const char *ceph_id;         /* the report's cephx user */
	const json_t *ceph_monitors; /* the report's [{"host", "port"}] */
	const char *ceph_secret;     /* libvirt: UUID of the secret (usage ceph) with ceph_id's key */
};

struct launcher {
	const char *name;
	/* 0 when the instance is up (libvirt) or written (export); a negative
	 * errno otherwise. *result describes it either way (caller owns):
	 * {"driver","name","state":"up"|"failed"|"exported",...,"error"?} */
	int (*launch)(const struct launch_request *rq, json_t **result);
	/* stops and removes what launch made; 0 or negative errno */
	int (*destroy)(const struct launch_request *rq, json_t **result);
};

extern const struct launcher launcher_libvirt;
extern const struct launcher launcher_export;

const struct launcher *launcher_find(const char *name);

/* launcher.c: the copies (its "disks", else the one "output" of a report
 * from before multi-disk conversions), firmware and marker of a conversion
 * report into rq; the strings stay the report's. 0, or -EINVAL with why in
 * err. */
int launch_request_from_report(const json_t *report, struct launch_request *rq, char *err, size_t len);

/* launcher.c: for destroy, clone (rbd:POOL/IMAGE), a clone of snapshot
 * (rbd:POOL/IMAGE@SNAP), added to rq's RBD disks unless the report named
 * it already: a conversion cut short wrote no report, and its clones are
 * named by whoever cleans up. The strings stay the caller's. 0, or
 * -EINVAL (bad names, or the report says otherwise) or -E2BIG, with why
 * in err. */
int launch_request_add_clone(struct launch_request *rq, const char *clone, const char *snapshot, char *err,
			     size_t len);

/* launch_rbd.c: after the domain is gone, each RBD clone of rq removed
 * and its snapshot unprotected when no clone of it is left; what was done
 * goes into result ("clones_removed", "snapshots_unprotected"). A clone
 * that cannot go does not stop the others. 0, or the first failure's
 * negative errno with why in err. */
int launch_release_clones(const struct launch_request *rq, json_t *result, char *err, size_t len);

/* launch_export.c: where the export writes disk i: OUTPUT itself for the
 * boot disk, STEM-disk<i>.EXT beside it for the others (web.qcow2,
 * web-disk1.qcow2...). 0, or -ENAMETOOLONG. */
int export_disk_path(const char *output, int i, char *out, size_t len);

/* launch_libvirt.c: the domain's XML (caller frees), NULL for an unknown
 * NIC kind */
char *libvirt_domain_xml(const struct launch_request *rq);

/* serial_watch.c: waits until log has a line starting with marker and
 * "result=up" (0), a marker with another result (-ENETUNREACH), a known
 * fatal boot message (-EIO), alive() returning 0 (-ECHILD) or timeout_s
 * (-ETIMEDOUT). *line gets the marker line or the fatal one; *tail the last
 * lines of the log (both caller frees). */
int serial_watch(const char *log, const char *marker, uint64_t timeout_s, int (*alive)(void *), void *arg,
		 char **line, char **tail);

#endif
