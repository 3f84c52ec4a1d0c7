// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Ceph RBD backend (librbd): one RBD image per disk in one pool, named
 * livemig-<machine>+<disk> ('+' is in no machine or disk name, so the name
 * says whose it is); recovery point N of a disk is its snapshot point-N.
 * Built with make RBD=1 (docs/staging-store.md).
 */
#include "store_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "rbd_names.h"
#include "stats.h"
#include "store_rbd_inflight.h"
#include "util.h"

#define IMAGE_NAME_MAX 160
#define ZERO_STEP      (1u << 30) /* rbd_write_zeroes takes a size_t and works per object */

struct rbd_volume {
	struct store_volume base;
	rbd_image_t img;
	struct rbd_inflight writes;
	char name[IMAGE_NAME_MAX];
	struct rbd_volume *next; /* in open_rw, when opened for writing */
	int rw;
};

/* Every image open for writing. A session that replaces an older one of
 * its machine opens the images anew while it holds the machine's lock, and
 * the older session sends no write without that lock and its ownership:
 * the newer waits here for the older one's writes still in flight, so none
 * of them lands after its own. */
static pthread_mutex_t open_rw_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rbd_volume *open_rw;

/* Bounds on each OSD and monitor operation, unless the configuration sets
 * them: without one an unreachable cluster holds a write, and with it the
 * session and its ACKs, until the cluster answers again. */
#define OP_TIMEOUT_S "60"

static rados_t cluster;
static rados_ioctx_t io;
static char pool_name[256];
static char timeout_msg[160];
static int connected;

static void image_name(char *out, const char *machine, const char *disk)
{
	snprintf(out, IMAGE_NAME_MAX, RBD_IMAGE_FMT, machine, disk);
}

static void snap_name(char *out, size_t len, uint64_t id)
{
	snprintf(out, len, RBD_SNAP_PREFIX "%" PRIu64, id);
}

static const char *rbd_strerror(int rc)
{
	return rc == -ETIMEDOUT && timeout_msg[0] ? timeout_msg : strerror(-rc);
}

static void rbd_shutdown_all(void)
{
	if (!connected)
		return;
	rados_ioctx_destroy(io);
	rados_shutdown(cluster);
	connected = 0;
}

/* Set a client option to OP_TIMEOUT_S where the configuration (file,
 * CEPH_ARGS) left it at 0, librados's "wait for ever". */
static void default_timeout(const char *option)
{
	char val[32];

	if (rados_conf_get(cluster, option, val, sizeof(val)) || strtod(val, NULL) == 0)
		rados_conf_set(cluster, option, OP_TIMEOUT_S);
}

static int rbd_setup(const struct store_backend_config *cfg, char *err, size_t errlen)
{
	const char *id = cfg->ceph_id;
	int rc;

	snprintf(pool_name, sizeof(pool_name), "%s", cfg->spec);
	if (id && !strncmp(id, "client.", 7))
		id += 7;
	rc = rados_create(&cluster, id);
	if (rc) {
		snprintf(err, errlen, "cannot make a Ceph client: %s", strerror(-rc));
		return rc;
	}
	/* NULL: $CEPH_CONF, then /etc/ceph/ceph.conf and the other defaults */
	rc = rados_conf_read_file(cluster, cfg->ceph_conf);
	if (rc) {
		snprintf(err, errlen, "cannot read the Ceph configuration %s: %s (pass --ceph-conf "
			 "FILE)", cfg->ceph_conf ? cfg->ceph_conf : "(default search: $CEPH_CONF, "
			 "/etc/ceph/ceph.conf)", strerror(-rc));
		goto fail;
	}
	rados_conf_parse_env(cluster, NULL);
	/*
	 * librbd's cache off, whatever the configuration says: staging
	 * acknowledges a write once its completion and rbd_flush returned 0
	 * (store_rbd_inflight.h), so each write must complete with the OSD's
	 * answer. With the cache on (Pacific's default: writearound), a write
	 * completes as soon as it is sent, and a write the OSD then refuses (a
	 * full pool, an op timeout) is reported only to a flush that was
	 * already waiting for it: a flush made after the failed write had
	 * finished finds nothing in flight and returns 0. Staging would
	 * acknowledge bytes the image never got, and the agent would never
	 * send them again.
	 */
	rc = rados_conf_set(cluster, "rbd_cache", "false");
	if (rc) {
		snprintf(err, errlen, "cannot turn librbd's cache off: %s", strerror(-rc));
		goto fail;
	}
	/* an unreachable cluster fails the start instead of hanging for 5 min */
	rados_conf_set(cluster, "client_mount_timeout", "60");
	default_timeout("rados_osd_op_timeout");
	default_timeout("rados_mon_op_timeout");
	{
		char osd_s[32] = "?";

		rados_conf_get(cluster, "rados_osd_op_timeout", osd_s, sizeof(osd_s));
		snprintf(timeout_msg, sizeof(timeout_msg), "the Ceph cluster did not answer within "
			 "%s s (rados_osd_op_timeout; check it with ceph -s)", osd_s);
	}
	rc = rados_connect(cluster);
	if (rc) {
		snprintf(err, errlen, "cannot connect to the Ceph cluster as client.%s: %s (check "
			 "the monitors in the configuration, the keyring and --ceph-id)",
			 id ? id : "admin", strerror(-rc));
		goto fail;
	}
	rc = rados_ioctx_create(cluster, pool_name, &io);
	if (rc) {
		snprintf(err, errlen, "cannot open Ceph pool %s: %s%s", pool_name, strerror(-rc),
			 rc == -ENOENT ? " (create it: ceph osd pool create POOL; rbd pool init POOL)"
				       : "");
		goto fail;
	}
	/* A write to a full pool (its quota, or the cluster's full ratio) then
	 * fails with EDQUOT or ENOSPC, which ends the session with ERROR 5 as
	 * a full files store does; without it librados holds the write until
	 * space is freed. Writes that add no bytes (overwrites, the image's
	 * watch) still succeed. librbd copies the flag from this context. */
	rados_set_pool_full_try(io);
	connected = 1;
	return 0;
fail:
	rados_shutdown(cluster);
	return rc;
}

static int rbd_create_volume(const char *machine, const char *disk, uint64_t size, char *err,
			     size_t errlen)
{
	char name[IMAGE_NAME_MAX];
	int order = 0, rc;

	image_name(name, machine, disk);
	/* layering only: clones of snapshots need it; exclusive-lock would
	 * make the replaced and the replacing session of a machine trade the
	 * lock on every write */
	rc = rbd_create2(io, name, size, RBD_FEATURE_LAYERING, &order);
	if (rc == -EEXIST) {
		/* left by a crash before the manifest named it: never held
		 * acknowledged data */
		rc = rbd_remove(io, name);
		if (!rc)
			rc = rbd_create2(io, name, size, RBD_FEATURE_LAYERING, &order);
	}
	if (rc)
		snprintf(err, errlen, "cannot create RBD image %s/%s: %s", pool_name, name,
			 rbd_strerror(rc));
	return rc;
}

/* The pool's or the image's own configuration (rbd config pool|image set)
 * overrides the client's rbd_cache: an image it turns the cache on for
 * would be written as rbd_setup explains, so it is refused. */
static int refuse_cached(rbd_image_t img, const char *name, char *err, size_t errlen)
{
	rbd_config_option_t *opts = NULL;
	int max = 0, rc, cached = 0;

	for (;;) {
		rc = rbd_config_image_list(img, opts, &max);
		if (rc != -ERANGE)
			break;
		free(opts);
		opts = calloc((size_t)max, sizeof(*opts));
		if (!opts) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (rc) {
		free(opts);
		snprintf(err, errlen, "cannot read the configuration of RBD image %s/%s: %s",
			 pool_name, name, rbd_strerror(rc));
		return rc;
	}
	for (int i = 0; i < max; i++)
		if (!strcmp(opts[i].name, "rbd_cache"))
			cached = !strcmp(opts[i].value, "true");
	rbd_config_image_list_cleanup(opts, max);
	free(opts);
	if (!cached)
		return 0;
	/* at most 255 bytes in ERROR */
	snprintf(err, errlen, "RBD image %s/%s has rbd_cache true from its pool's or its own "
		 "configuration, and staging needs each write's own result: remove it (rbd "
		 "config image remove %s/%s rbd_cache, or rbd config pool remove %s rbd_cache)",
		 pool_name, name, pool_name, name, pool_name);
	return -EOPNOTSUPP;
}

static int open_image(const char *name, const char *snap, uint64_t size,
		      struct store_volume **out, char *err, size_t errlen)
{
	struct rbd_volume *v = calloc(1, sizeof(*v));
	uint64_t have = 0;
	int rc;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	inflight_init(&v->writes);
	snprintf(v->name, sizeof(v->name), "%s", name);
	rc = snap ? rbd_open_read_only(io, name, &v->img, snap) : rbd_open(io, name, &v->img, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot open RBD image %s/%s%s%s: %s", pool_name, name,
			 snap ? "@" : "", snap ? snap : "", rbd_strerror(rc));
		inflight_destroy(&v->writes);
		free(v);
		return rc;
	}
	rc = rbd_get_size(v->img, &have);
	if (!rc && have != size) {
		snprintf(err, errlen, "RBD image %s/%s is %" PRIu64 " bytes but its disk is %" PRIu64
			 " bytes; the store is damaged (move the machine's directory aside and "
			 "remove the image to replicate it anew)", pool_name, name, have, size);
		rc = -EUCLEAN;
	} else if (rc) {
		snprintf(err, errlen, "cannot read the size of RBD image %s/%s: %s", pool_name, name,
			 rbd_strerror(rc));
	} else if (!snap) {
		rc = refuse_cached(v->img, name, err, errlen);
	}
	if (rc) {
		rbd_close(v->img);
		inflight_destroy(&v->writes);
		free(v);
		return rc;
	}
	if (!snap) {
		pthread_mutex_lock(&open_rw_mu);
		for (struct rbd_volume *o = open_rw; o; o = o->next)
			if (!strcmp(o->name, v->name))
				inflight_drain(&o->writes); /* its failure is its session's */
		v->rw = 1;
		v->next = open_rw;
		open_rw = v;
		pthread_mutex_unlock(&open_rw_mu);
	}
	v->base.ops = &store_rbd_ops;
	*out = &v->base;
	return 0;
}

static int rbd_open_volume(const char *machine, const char *disk, uint64_t size,
			   struct store_volume **out, char *err, size_t errlen)
{
	char name[IMAGE_NAME_MAX];

	image_name(name, machine, disk);
	return open_image(name, NULL, size, out, err, errlen);
}

static rbd_image_t img_of(struct store_volume *v)
{
	return ((struct rbd_volume *)v)->img;
}

/* Before anything but another write: the writes sent so far have landed
 * (reads see them, a snapshot holds them). 0 or the first failed write's
 * -errno. */
static int landed(struct store_volume *v)
{
	return inflight_drain(&((struct rbd_volume *)v)->writes);
}

static void rbd_close_volume(struct store_volume *v)
{
	struct rbd_volume *rv = (struct rbd_volume *)v;

	landed(v);
	if (rv->rw) {
		pthread_mutex_lock(&open_rw_mu);
		for (struct rbd_volume **p = &open_rw; *p; p = &(*p)->next)
			if (*p == rv) {
				*p = rv->next;
				break;
			}
		pthread_mutex_unlock(&open_rw_mu);
	}
	rbd_close(rv->img);
	inflight_destroy(&rv->writes);
	free(rv);
}

static int rbd_read_volume(struct store_volume *v, void *buf, size_t len, uint64_t off)
{
	int rc = landed(v);

	if (rc)
		return rc;
	while (len) {
		ssize_t n = rbd_read(img_of(v), off, len, buf);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO; /* past the end: the size was checked at open */
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* No reservation: a write to a full pool fails with EDQUOT or ENOSPC
 * (rados_set_pool_full_try), reported by this call or a later one (each
 * write's own result: store_rbd_inflight.h); the flush before an ACK waits
 * for them all. */
static int rbd_write_volume(struct store_volume *v, const void *buf, size_t len, uint64_t off)
{
	struct rbd_volume *rv = (struct rbd_volume *)v;

	return inflight_write(&rv->writes, rv->img, buf, len, off);
}

/* Whole objects in the range are deallocated, partial ones zeroed. */
static int rbd_zero_volume(struct store_volume *v, uint64_t off, uint64_t len)
{
	int rc = landed(v);

	if (rc)
		return rc;
	while (len) {
		size_t n = len < ZERO_STEP ? (size_t)len : ZERO_STEP;
		ssize_t done = rbd_write_zeroes(img_of(v), off, n, 0, 0);

		if (done < 0)
			return (int)done;
		off += n;
		len -= n;
	}
	return 0;
}

/* The fdatasync of the durability rules: every write sent before it has
 * landed, and none failed. */
static int rbd_flush_volume(struct store_volume *v)
{
	uint64_t t0 = now_mono_ns();
	int rc = landed(v);

	if (!rc)
		rc = rbd_flush(img_of(v));

	stats_fsync(now_mono_ns() - t0);
	return rc;
}

/* One at a time, every range may hold data: asking librbd where the next
 * data is costs as much as reading up to it (data_ranges asks once for a
 * whole range). */
static int rbd_next_data(struct store_volume *v, uint64_t from, uint64_t *start, uint64_t *end)
{
	(void)v;
	*start = from;
	*end = UINT64_MAX;
	return 0;
}

struct ranges_arg {
	int (*found)(void *arg, uint64_t start, uint64_t end);
	void *arg;
};

static int object_found(uint64_t off, size_t len, int exists, void *arg)
{
	struct ranges_arg *r = arg;

	return exists ? r->found(r->arg, off, off + len) : 0;
}

/* The objects of the range that exist (rbd_diff_iterate2 from the image's
 * creation, whole objects): without an object map, as staging's images
 * have none (layering only), librbd lists each object's snapshots at its
 * OSD, which is one small request, where a read of an object that does not
 * exist is one as well and then 4 MiB of zeros to hash. Writes in flight
 * land first: an object they create must be seen. */
static int rbd_data_ranges(struct store_volume *v, uint64_t off, uint64_t len,
			   int (*found)(void *arg, uint64_t start, uint64_t end), void *arg)
{
	struct ranges_arg r = { found, arg };
	int rc = landed(v);

	return rc ? rc : rbd_diff_iterate2(img_of(v), NULL, off, len, 1, 1, object_found, &r);
}

static int rbd_snap_create_volume(struct store_volume *v, uint64_t id)
{
	char snap[64];
	int rc;

	snap_name(snap, sizeof(snap), id);
	rc = landed(v);
	if (rc)
		return rc;
	rc = rbd_snap_create(img_of(v), snap);
	if (rc == -EEXIST) {
		/* ids are never reused: a leftover of this id's interrupted making */
		rc = rbd_snap_remove(img_of(v), snap);
		if (!rc)
			rc = rbd_snap_create(img_of(v), snap);
	}
	return rc;
}

/* The children of the snapshot img is open at (rbd_list_children3 looks
 * in every pool, and at clones in the trash, which hold it as well). */
static int list_clones(rbd_image_t img, char *out, size_t len)
{
	rbd_linked_image_spec_t *kids = NULL;
	size_t max = 4, n = 0;
	int rc;

	for (;;) {
		rbd_linked_image_spec_t *more = realloc(kids, max * sizeof(*kids));

		if (!more) {
			free(kids);
			return -ENOMEM;
		}
		kids = more;
		rc = rbd_list_children3(img, kids, &max);
		if (rc != -ERANGE)
			break;
	}
	if (!rc) {
		n = max;
		for (size_t i = 0, at = 0; i < n && at < len; i++) {
			int w = snprintf(out + at, len - at, "%s%s/%s%s", i ? ", " : "", kids[i].pool_name,
					 kids[i].image_name, kids[i].trash ? " (in the trash)" : "");

			at += w > 0 ? (size_t)w : 0;
		}
		rbd_linked_image_spec_list_cleanup(kids, n);
	}
	free(kids);
	return rc ? rc : (int)n;
}

static int rbd_snap_clones_disk(const char *machine, const char *disk, uint64_t id, char *out,
				size_t len)
{
	char name[IMAGE_NAME_MAX], snap[64];
	rbd_image_t img;
	int rc;

	image_name(name, machine, disk);
	snap_name(snap, sizeof(snap), id);
	rc = rbd_open_read_only(io, name, &img, snap);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* no image, no snapshot: no clone */
	rc = list_clones(img, out, len);
	rbd_close(img);
	return rc;
}

static int rbd_snap_remove_disk(const char *machine, const char *disk, uint64_t id)
{
	char name[IMAGE_NAME_MAX], snap[64], kids[8];
	rbd_image_t img;
	int rc, prot = 0;

	image_name(name, machine, disk);
	snap_name(snap, sizeof(snap), id);
	rc = rbd_open(io, name, &img, NULL);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = rbd_snap_remove(img, snap);
	/* protected without a clone: a launch's conversion stopped between
	 * the two (docs/launch.md), a protection nothing needs. With one,
	 * librbd refuses the unprotect, and -EBUSY stands. */
	if (rc == -EBUSY && !rbd_snap_is_protected(img, snap, &prot) && prot &&
	    rbd_snap_clones_disk(machine, disk, id, kids, sizeof(kids)) == 0 &&
	    !rbd_snap_unprotect(img, snap))
		rc = rbd_snap_remove(img, snap);
	rbd_close(img);
	return rc == -ENOENT ? 0 : rc;
}

static int rbd_snap_prune_volume(struct store_volume *v,
				 int (*have_point)(void *arg, uint64_t id), void *arg)
{
	rbd_snap_info_t *snaps = NULL;
	int max = 16, n, rc = 0;

	for (;;) {
		rbd_snap_info_t *more = realloc(snaps, (size_t)max * sizeof(*snaps));

		if (!more) {
			free(snaps);
			return -ENOMEM;
		}
		snaps = more;
		n = rbd_snap_list(img_of(v), snaps, &max);
		if (n != -ERANGE)
			break;
	}
	if (n < 0) {
		free(snaps);
		return n;
	}
	for (int i = 0; i < n && !rc; i++) {
		const char *s = snaps[i].name;
		char *end;
		uint64_t id;

		if (strncmp(s, RBD_SNAP_PREFIX, strlen(RBD_SNAP_PREFIX)))
			continue;
		id = strtoull(s + strlen(RBD_SNAP_PREFIX), &end, 10);
		if (*end || have_point(arg, id))
			continue;
		rc = rbd_snap_remove(img_of(v), s);
		/* EBUSY: protected, a launch's clone lives on it (livemig-launch,
		 * docs/launch.md); a later prune removes it once destroy has
		 * unprotected it. The session goes on meanwhile. */
		if (rc == -ENOENT || rc == -EBUSY)
			rc = 0;
	}
	rbd_snap_list_end(snaps);
	free(snaps);
	return rc;
}

static int rbd_snap_open_disk(const char *machine, const char *disk, uint64_t id, uint64_t size,
			      struct store_volume **out, char *err, size_t errlen)
{
	char name[IMAGE_NAME_MAX], snap[64];

	image_name(name, machine, disk);
	snap_name(snap, sizeof(snap), id);
	return open_image(name, snap, size, out, err, errlen);
}

/* What the pool can still take ("max_avail": the fullest OSD and the
 * pool's replication accounted for, as `ceph df` shows it), and that plus
 * what the pool stores. */
static int rbd_space(const char *root, uint64_t *free_bytes, uint64_t *total_bytes)
{
	const char *cmd[] = { "{\"prefix\": \"df\", \"format\": \"json\"}" };
	char *out = NULL, *status = NULL;
	size_t outlen = 0, statuslen = 0, i;
	json_t *doc, *pools;
	int rc;

	(void)root;
	rc = rados_mon_command(cluster, cmd, 1, "", 0, &out, &outlen, &status, &statuslen);
	if (rc) {
		rados_buffer_free(out);
		rados_buffer_free(status);
		return rc;
	}
	doc = json_loadb(out, outlen, 0, NULL);
	rados_buffer_free(out);
	rados_buffer_free(status);
	pools = json_object_get(doc, "pools");
	rc = -ENOENT;
	for (i = 0; i < json_array_size(pools); i++) {
		json_t *p = json_array_get(pools, i), *st = json_object_get(p, "stats");
		json_t *avail = json_object_get(st, "max_avail"), *stored = json_object_get(st, "stored");

		if (strcmp(json_string_value(json_object_get(p, "name")) ?: "", pool_name))
			continue;
		if (!json_is_integer(avail) || !json_is_integer(stored)) {
			rc = -EPROTO;
			break;
		}
		*free_bytes = (uint64_t)json_integer_value(avail);
		*total_bytes = *free_bytes + (uint64_t)json_integer_value(stored);
		rc = 0;
		break;
	}
	json_decref(doc);
	return rc;
}

static void rbd_full_what(char *out, size_t len)
{
	snprintf(out, len, "RBD pool %s is full (its quota or the cluster's full ratio; see ceph "
		 "df and ceph osd pool get-quota %s)", pool_name, pool_name);
}

static const char *rbd_explain(int rc)
{
	return rc == -ETIMEDOUT ? rbd_strerror(rc) : NULL;
}

const struct store_backend_ops store_rbd_ops = {
	.name = "rbd",
	.setup = rbd_setup,
	.shutdown = rbd_shutdown_all,
	.create = rbd_create_volume,
	.open = rbd_open_volume,
	.close = rbd_close_volume,
	.read = rbd_read_volume,
	.write = rbd_write_volume,
	.zero = rbd_zero_volume,
	.flush = rbd_flush_volume,
	.next_data = rbd_next_data,
	.data_ranges = rbd_data_ranges,
	.snap_create = rbd_snap_create_volume,
	.snap_remove = rbd_snap_remove_disk,
	.snap_clones = rbd_snap_clones_disk,
	.snap_prune = rbd_snap_prune_volume,
	.snap_open = rbd_snap_open_disk,
	.space = rbd_space,
	.full_what = rbd_full_what,
	.explain = rbd_explain,
};
