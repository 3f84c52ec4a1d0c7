/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the replicas' bytes live (docs/staging-store.md, "Backends"). The
 * metadata (manifest.json, checkpoint.json, the points' point.json, locks
 * and ids) always stays under --store DIR; a backend owns the bytes: one
 * volume per disk, the bytes of recovery points where it has snapshots,
 * and the free space reported.
 *
 *   files  one sparse image file per disk under DIR/<machine>/ (default);
 *          its points are the reflink or copy-on-write files of points*.c
 *   rbd    one Ceph RBD image per disk (librbd); points are RBD snapshots
 *
 * One backend per process, chosen once by store_backend_setup() before any
 * thread starts. Volumes may be used from several threads (a session
 * writes while its committer flushes).
 */
#ifndef LIVEMIG_STAGING_STORE_BACKEND_H
#define LIVEMIG_STAGING_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* DIR/.image-store.json: which backend a store's machines are in */
#define STORE_BACKEND_FILE ".image-store.json"

struct store_backend_config {
	const char *root;      /* --store DIR */
	const char *spec;      /* --image-store: "files" (NULL too) or "rbd:POOL" */
	const char *ceph_conf; /* --ceph-conf FILE, NULL: librados's default search */
	const char *ceph_id;   /* --ceph-id NAME (client.NAME), NULL: admin */
};

struct store_volume;

struct store_backend_ops {
	const char *name;
	/* connect, check the pool etc.; cfg outlives the process's use */
	int (*setup)(const struct store_backend_config *cfg, char *err, size_t errlen);
	void (*shutdown)(void);
	/* a new empty volume of size bytes; a leftover of a crash before the
	 * manifest named it is replaced */
	int (*create)(const char *machine, const char *disk, uint64_t size, char *err,
		      size_t errlen);
	int (*open)(const char *machine, const char *disk, uint64_t size,
		    struct store_volume **out, char *err, size_t errlen);
	void (*close)(struct store_volume *v);
	int (*read)(struct store_volume *v, void *buf, size_t len, uint64_t off);
	int (*write)(struct store_volume *v, const void *buf, size_t len, uint64_t off);
	int (*zero)(struct store_volume *v, uint64_t off, uint64_t len);
	int (*flush)(struct store_volume *v);
	/* the first range [*start, *end) at or after from that may hold data;
	 * *start = UINT64_MAX: none */
	int (*next_data)(struct store_volume *v, uint64_t from, uint64_t *start, uint64_t *end);
	/* the ranges of [off, off + len) that may hold data, found() on each
	 * in any order; NULL: next_data's extents in turn */
	int (*data_ranges)(struct store_volume *v, uint64_t off, uint64_t len,
			   int (*found)(void *arg, uint64_t start, uint64_t end), void *arg);
	/* the image file's descriptor (files only, for reflink and cow points) */
	int (*fd)(struct store_volume *v);
	/* points as snapshots; NULL where points are files (files backend) */
	int (*snap_create)(struct store_volume *v, uint64_t id);
	int (*snap_remove)(const char *machine, const char *disk, uint64_t id);
	/* the clones of point id's snapshot of disk: count, names into out */
	int (*snap_clones)(const char *machine, const char *disk, uint64_t id, char *out,
			   size_t len);
	/* remove snapshots of points that have_point() says do not exist */
	int (*snap_prune)(struct store_volume *v, int (*have_point)(void *arg, uint64_t id),
			  void *arg);
	int (*snap_open)(const char *machine, const char *disk, uint64_t id, uint64_t size,
			 struct store_volume **out, char *err, size_t errlen);
	/* root: --store DIR. Bytes that can still be written, and the total. */
	int (*space)(const char *root, uint64_t *free_bytes, uint64_t *total_bytes);
	/* what is full when an operation failed with ENOSPC or EDQUOT; NULL:
	 * "staging store DIR" */
	void (*full_what)(char *out, size_t len);
	/* an operator's reading of a failed operation's -errno, or NULL:
	 * strerror() says it */
	const char *(*explain)(int rc);
};

/* Every volume starts with this (each backend's handle embeds it first). */
struct store_volume {
	const struct store_backend_ops *ops;
};

/*
 * Choose and connect the backend, and check it against what the store
 * recorded (DIR/.image-store.json: a store's machines cannot change
 * backend). write_record: record the choice (the server; the points CLI
 * only reads it). cfg->spec NULL with write_record 0: use the recorded
 * backend. 0, or -errno with a message and remedy in err.
 */
int store_backend_setup(const struct store_backend_config *cfg, int write_record, char *err,
			size_t errlen);
void store_backend_shutdown(void);
/* "files" or "rbd" */
const char *store_backend_name(void);
/* Whether the backend keeps points as its own snapshots. */
int store_backend_has_snapshots(void);
/* Whether this build can use RBD (make RBD=1). */
int store_backend_rbd_built(void);

int store_volume_create(const char *machine, const char *disk, uint64_t size, char *err,
			size_t errlen);
int store_volume_open(const char *machine, const char *disk, uint64_t size,
		      struct store_volume **out, char *err, size_t errlen);
void store_volume_close(struct store_volume *v);
int store_volume_read(struct store_volume *v, void *buf, size_t len, uint64_t off);
/* Reserve (where the backend can), then write: -ENOSPC means nothing of buf
 * was written where reservation works. 0 or -errno. */
int store_volume_write(struct store_volume *v, const void *buf, size_t len, uint64_t off);
/* Make [off, off+len) read as zeros, freeing the space where possible. */
int store_volume_zero(struct store_volume *v, uint64_t off, uint64_t len);
/* Make every completed write durable (fdatasync, rbd_flush). */
int store_volume_flush(struct store_volume *v);
int store_volume_next_data(struct store_volume *v, uint64_t from, uint64_t *start,
			   uint64_t *end);
/* found(arg, start, end) on ranges that together cover every byte of
 * [off, off + len) that may hold data, in any order (a range may reach past
 * either end); a nonzero return from found() stops and is returned. One
 * question for the whole range where the backend has one (RBD: which
 * objects exist), else next_data's extents one by one. 0 or -errno. */
int store_volume_data_ranges(struct store_volume *v, uint64_t off, uint64_t len,
			     int (*found)(void *arg, uint64_t start, uint64_t end), void *arg);
/* The image file's descriptor, or -1 for backends without one. */
int store_volume_fd(struct store_volume *v);

/* Points as snapshots (store_backend_has_snapshots()); -EOPNOTSUPP else. */
int store_snap_create(struct store_volume *v, uint64_t id);
int store_snap_remove(const char *machine, const char *disk, uint64_t id);
/* The images cloned from point id's snapshot of disk (a launch's copies,
 * docs/launch.md): how many, and their names ("POOL/IMAGE", comma
 * separated, cut to fit) into out. 0 where there are none, no such
 * snapshot, or points are not snapshots; or -errno. While there is one,
 * the snapshot cannot be removed: its point is not deleted either. */
int store_snap_clones(const char *machine, const char *disk, uint64_t id, char *out,
		      size_t len);
int store_snap_prune(struct store_volume *v, int (*have_point)(void *arg, uint64_t id),
		     void *arg);
/* A read-only volume of the disk as of point id. */
int store_snap_open(const char *machine, const char *disk, uint64_t id, uint64_t size,
		    struct store_volume **out, char *err, size_t errlen);

/* What ran out of space, for ERROR 5 ("staging store DIR is full (no space
 * left on device)", "RBD pool P is full (...)"). */
void store_full_message(const char *root, char *out, size_t len);
/* A failed operation's -errno as an operator should read it (the backend's
 * reading, e.g. a Ceph op timeout, else strerror). */
const char *store_strerror(int rc);

/* The backend's free and total bytes (root: --store DIR). 0 or -errno. */
int store_space(const char *root, uint64_t *free_bytes, uint64_t *total_bytes);

extern const struct store_backend_ops store_files_ops;
extern const struct store_backend_ops store_rbd_ops; /* only with make RBD=1 */

#endif
