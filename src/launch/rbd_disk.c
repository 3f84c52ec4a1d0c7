// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshots protected and cloned, clones removed: librados and librbd
 * (rbd_disk.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "log.h"
#include "rbd_disk.h"

/* longer than the OSDs' default osd_client_watch_timeout (30 s) */
#define CLONE_WATCH_WAIT_S 45

struct ceph_conn {
	rados_t cluster;
};

int ceph_open(const char *conf, const char *id, struct ceph_conn **out, char *err, size_t len)
{
	struct ceph_conn *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	rc = rados_create(&c->cluster, id);
	if (rc) {
		snprintf(err, len, "cannot make a Ceph client: %s", strerror(-rc));
		free(c);
		return rc;
	}
	rc = rados_conf_read_file(c->cluster, conf);
	if (rc) {
		snprintf(err, len, "cannot read the Ceph configuration %s: %s (--ceph-conf FILE)",
			 conf ? conf : "($CEPH_CONF, /etc/ceph/ceph.conf)", strerror(-rc));
		goto fail;
	}
	/* an unreachable cluster fails the launch instead of hanging 5 min */
	rados_conf_set(c->cluster, "client_mount_timeout", "60");
	rc = rados_connect(c->cluster);
	if (rc) {
		snprintf(err, len, "cannot connect to the Ceph cluster as client.%s: %s (the monitors in "
			 "the configuration, the keyring, --ceph-id)", id ? id : "admin", strerror(-rc));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	rados_shutdown(c->cluster);
	free(c);
	return rc;
}

void ceph_close(struct ceph_conn *c)
{
	if (!c)
		return;
	rados_shutdown(c->cluster);
	free(c);
}

/* "1.2.3.4:6789" or "[::1]:6789" */
static int split_addr(const char *addr, struct ceph_mon *m)
{
	const char *colon = strrchr(addr, ':'), *host = addr;
	size_t n;
	char *end;
	unsigned long port;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (n < 2 || addr[n - 1] != ']')
			return -EINVAL;
		host++;
		n -= 2;
	}
	port = strtoul(colon + 1, &end, 10);
	if (!n || n >= sizeof(m->host) || (*end && *end != '/') || !port || port > 65535)
		return -EINVAL;
	memcpy(m->host, host, n);
	m->host[n] = '\0';
	m->port = (unsigned)port;
	return 0;
}

int ceph_monitors(struct ceph_conn *c, struct ceph_mon *mons, int max, char *err, size_t len)
{
	const char *cmd[] = { "{\"prefix\": \"mon dump\", \"format\": \"json\"}" };
	char *out = NULL, *status = NULL;
	size_t out_len = 0, status_len = 0, i, k;
	json_t *dump, *mon, *a;
	json_error_t e;
	int rc, n = 0;

	rc = rados_mon_command(c->cluster, cmd, 1, "", 0, &out, &out_len, &status, &status_len);
	if (rc) {
		snprintf(err, len, "the monitors did not give their map: %s%s%.*s", strerror(-rc),
			 status_len ? ": " : "", (int)status_len, status ? status : "");
		goto out;
	}
	dump = json_loadb(out, out_len, 0, &e);
	json_array_foreach(json_object_get(dump, "mons"), i, mon) {
		json_array_foreach(json_object_get(json_object_get(mon, "public_addrs"), "addrvec"), k, a) {
			const char *type = json_string_value(json_object_get(a, "type"));
			const char *addr = json_string_value(json_object_get(a, "addr"));

			if (n < max && type && addr && !strcmp(type, "v1") && !split_addr(addr, &mons[n]))
				n++;
		}
	}
	json_decref(dump);
	rc = n;
	if (!n) {
		snprintf(err, len, "the monitor map names no monitor with a v1 address (QEMU's rbd driver "
			 "and libvirt name monitors by host and v1 port)");
		rc = -ENOENT;
	}
out:
	rados_buffer_free(out);
	rados_buffer_free(status);
	return rc;
}

static int open_pool(struct ceph_conn *c, const char *pool, rados_ioctx_t *io, char *err, size_t len)
{
	int rc = rados_ioctx_create(c->cluster, pool, io);

	if (rc)
		snprintf(err, len, "cannot open Ceph pool %s: %s", pool, strerror(-rc));
	return rc;
}

int rbd_clone_point(struct ceph_conn *c, const struct rbd_name *parent, const struct rbd_name *clone,
		    int *protected_now, char *err, size_t len)
{
	rados_ioctx_t pio, cio;
	rbd_image_t img;
	rbd_image_options_t opts;
	int rc, is_protected = 0;

	*protected_now = 0;
	rc = open_pool(c, parent->pool, &pio, err, len);
	if (rc)
		return rc;
	rc = open_pool(c, clone->pool, &cio, err, len);
	if (rc)
		goto out_pio;
	rc = rbd_open(pio, parent->image, &img, NULL);
	if (rc) {
		snprintf(err, len, "cannot open RBD image %s/%s: %s", parent->pool, parent->image, strerror(-rc));
		goto out_cio;
	}
	rc = rbd_snap_is_protected(img, parent->snap, &is_protected);
	if (!rc && !is_protected) {
		rc = rbd_snap_protect(img, parent->snap);
		*protected_now = !rc;
		if (rc == -EBUSY) /* protected in the meantime by another launch */
			rc = 0;
	}
	rbd_close(img);
	if (rc) {
		snprintf(err, len, "cannot protect RBD snapshot %s/%s@%s: %s", parent->pool, parent->image,
			 parent->snap, strerror(-rc));
		goto out_cio;
	}
	/* layering only, as staging's images: the clone is written by one
	 * QEMU at a time and needs no exclusive lock */
	rbd_image_options_create(&opts);
	rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, RBD_FEATURE_LAYERING);
	rc = rbd_clone3(pio, parent->image, parent->snap, cio, clone->image, opts);
	rbd_image_options_destroy(opts);
	/* a protection this call added and no clone to show for it: undone
	 * (-EBUSY: another launch cloned it meanwhile, and keeps it) */
	if (rc && *protected_now && !rbd_open(pio, parent->image, &img, NULL)) {
		if (!rbd_snap_unprotect(img, parent->snap))
			*protected_now = 0;
		rbd_close(img);
	}
	if (rc)
		snprintf(err, len, "cannot clone RBD snapshot %s/%s@%s as %s/%s: %s%s", parent->pool,
			 parent->image, parent->snap, clone->pool, clone->image, strerror(-rc),
			 rc == -EEXIST ? " (an image of that name exists: remove it or choose another --output)" : "");
out_cio:
	rados_ioctx_destroy(cio);
out_pio:
	rados_ioctx_destroy(pio);
	return rc;
}

/* Whether image (open) is a clone of exactly parent: 1, 0 (another
 * parent, or none), or a negative errno. */
static int clone_of(rbd_image_t img, const struct rbd_name *parent, char *was, size_t len)
{
	rbd_linked_image_spec_t pimg;
	rbd_snap_spec_t psnap;
	int rc = rbd_get_parent(img, &pimg, &psnap);

	if (rc == -ENOENT) {
		snprintf(was, len, "no clone at all");
		return 0;
	}
	if (rc)
		return rc;
	rc = !strcmp(pimg.pool_name, parent->pool) && !*pimg.pool_namespace &&
	     !strcmp(pimg.image_name, parent->image) && !strcmp(psnap.name, parent->snap);
	snprintf(was, len, "a clone of %s/%s@%s", pimg.pool_name, pimg.image_name, psnap.name);
	rbd_linked_image_spec_cleanup(&pimg);
	rbd_snap_spec_cleanup(&psnap);
	return rc;
}

static int any_extent(uint64_t off, size_t len, int exists, void *arg)
{
	(void)off;
	(void)len;
	if (exists)
		*(int *)arg = 1;
	return 0;
}

/* Whether img, no clone of anything, is a clone of parent cut short while
 * librbd was making it: rbd_clone3 creates the image at the parent
 * snapshot's size before it attaches the parent, and a conversion killed
 * between the two leaves such an image. It holds nothing (no data object,
 * no snapshot), so removing it loses nothing; any image that holds
 * something, or has another size, stays. 1, 0, or a negative errno. */
static int clone_cut_short(struct ceph_conn *c, rbd_image_t img, const struct rbd_name *parent)
{
	rados_ioctx_t pio;
	rbd_image_t pimg;
	rbd_snap_info_t snaps[2];
	int nsnaps = 2, data = 0, rc;
	uint64_t size, psize;
	char err[256];

	rc = rbd_get_size(img, &size);
	if (rc)
		return rc;
	rc = rbd_snap_list(img, snaps, &nsnaps);
	if (rc == -ERANGE || rc > 0) {
		if (rc > 0)
			rbd_snap_list_end(snaps);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = rbd_diff_iterate2(img, NULL, 0, size, 0, 1, any_extent, &data);
	if (rc || data)
		return rc ? rc : 0;
	rc = open_pool(c, parent->pool, &pio, err, sizeof(err));
	if (rc)
		return rc;
	rc = rbd_open_read_only(pio, parent->image, &pimg, parent->snap);
	if (!rc) {
		rc = rbd_get_size(pimg, &psize);
		rbd_close(pimg);
	}
	rados_ioctx_destroy(pio);
	if (rc == -ENOENT) /* no such snapshot: nothing to have been cut short from */
		return 0;
	return rc ? rc : psize == size;
}

/* rbd_remove, waiting out a dead client's watch: a process killed while it
 * had the clone open (a conversion's appliance, its qemu-storage-daemon)
 * leaves a watch the OSDs drop only after osd_client_watch_timeout (30 s
 * by default); until then librbd says -EBUSY, as it does for a live one. */
static int remove_waiting(rados_ioctx_t io, const struct rbd_name *clone)
{
	int rc = rbd_remove(io, clone->image);

	for (int s = 0; rc == -EBUSY && s < CLONE_WATCH_WAIT_S; s++) {
		if (!s)
			log_info("RBD clone %s/%s is still open somewhere: waiting up to %d s for the watch "
				 "of a client that died with it open to expire", clone->pool, clone->image,
				 CLONE_WATCH_WAIT_S);
		sleep(1);
		rc = rbd_remove(io, clone->image);
	}
	return rc;
}

int rbd_release_clone(struct ceph_conn *c, const struct rbd_name *clone, const struct rbd_name *parent,
		      int *removed, int *unprotected, char *err, size_t len)
{
	rados_ioctx_t pio, cio;
	rbd_image_t img;
	char was[400] = "";
	int rc;

	*removed = *unprotected = 0;
	rc = open_pool(c, clone->pool, &cio, err, len);
	if (rc)
		return rc;
	/* only a clone of this very snapshot is this launch's: an image that
	 * happens to bear the name stays */
	rc = rbd_open_read_only(cio, clone->image, &img, NULL);
	if (!rc) {
		rc = clone_of(img, parent, was, sizeof(was));
		if (rc == 0 && !strcmp(was, "no clone at all")) {
			rc = clone_cut_short(c, img, parent);
			if (rc == 1)
				log_info("RBD image %s/%s is an empty image of %s/%s@%s's size without a parent: a "
					 "clone cut short while librbd made it, removed", clone->pool, clone->image,
					 parent->pool, parent->image, parent->snap);
		}
		rbd_close(img);
		if (rc == 0) {
			snprintf(err, len, "RBD image %s/%s is not a clone of %s/%s@%s (it is %s): not removed, "
				 "it is not this launch's", clone->pool, clone->image, parent->pool, parent->image,
				 parent->snap, was);
			rados_ioctx_destroy(cio);
			return -EPERM;
		}
		rc = rc < 0 ? rc : remove_waiting(cio, clone);
	}
	rados_ioctx_destroy(cio);
	*removed = !rc;
	if (rc == -ENOENT) /* destroyed before, or never made: destroy is idempotent */
		rc = 0;
	if (rc) {
		snprintf(err, len, "cannot remove RBD clone %s/%s: %s%s", clone->pool, clone->image, strerror(-rc),
			 rc == -EBUSY ? " (still open: a domain running from it?)" : "");
		return rc;
	}
	rc = open_pool(c, parent->pool, &pio, err, len);
	if (rc)
		return rc;
	rc = rbd_open(pio, parent->image, &img, NULL);
	if (!rc) {
		rc = rbd_snap_unprotect(img, parent->snap);
		*unprotected = !rc;
		/* EBUSY: another launch's clone remains; EINVAL: not protected;
		 * ENOENT: the point is gone. Each leaves nothing to do. */
		if (rc == -EBUSY || rc == -EINVAL || rc == -ENOENT)
			rc = 0;
		rbd_close(img);
	} else if (rc == -ENOENT) {
		rc = 0;
	}
	rados_ioctx_destroy(pio);
	if (rc)
		snprintf(err, len, "cannot unprotect RBD snapshot %s/%s@%s: %s", parent->pool, parent->image,
			 parent->snap, strerror(-rc));
	return rc;
}
