// SPDX-License-Identifier: GPL-2.0-or-later
/* The process's store backend: choosing it, recording it, calling it. */
#include "store_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "atomic_file.h"

#define RECORD_FORMAT 1
#define NAME_MAX_LEN  256

static const struct store_backend_ops *ops = &store_files_ops;

struct choice {
	char backend[16], pool[NAME_MAX_LEN], conf[PATH_MAX], id[NAME_MAX_LEN];
	int have_conf, have_id;
};

/* the backend in use; the backend keeps pointers into it */
static struct choice chosen;

int store_backend_rbd_built(void)
{
#ifdef LIVEMIG_RBD
	return 1;
#else
	return 0;
#endif
}

static int copy(char *out, size_t len, const char *s)
{
	if (!s || strlen(s) >= len)
		return -1;
	strcpy(out, s);
	return 0;
}

/* 0 (filled), -ENOENT (no record), -EUCLEAN with err set. */
static int read_record(const char *path, struct choice *c, char *err, size_t errlen)
{
	json_t *doc, *v;
	char *text;
	int rc = read_small_file(path, &text, NULL, 1u << 16);

	if (rc)
		return rc;
	doc = json_loads(text, 0, NULL);
	free(text);
	memset(c, 0, sizeof(*c));
	rc = doc && json_integer_value(json_object_get(doc, "format")) == RECORD_FORMAT &&
		     !copy(c->backend, sizeof(c->backend),
			   json_string_value(json_object_get(doc, "backend"))) &&
		     !copy(c->pool, sizeof(c->pool),
			   json_string_value(json_object_get(doc, "pool")))
		? 0 : -EUCLEAN;
	if (!rc && (v = json_object_get(doc, "ceph_conf")) && !json_is_null(v))
		c->have_conf = !copy(c->conf, sizeof(c->conf), json_string_value(v));
	if (!rc && (v = json_object_get(doc, "ceph_id")) && !json_is_null(v))
		c->have_id = !copy(c->id, sizeof(c->id), json_string_value(v));
	json_decref(doc);
	if (rc)
		snprintf(err, errlen, "%s is damaged (it records which image store the machines "
			 "are in: repair it by hand)", path);
	return rc;
}

static int write_record(const char *path, const struct choice *c)
{
	json_t *doc = json_pack("{s:i, s:s, s:s, s:o, s:o}", "format", RECORD_FORMAT,
				"backend", c->backend, "pool", c->pool,
				"ceph_conf", c->have_conf ? json_string(c->conf) : json_null(),
				"ceph_id", c->have_id ? json_string(c->id) : json_null());
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	int rc;

	json_decref(doc);
	if (!text)
		return -ENOMEM;
	rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

/* "files" or "rbd:POOL", with the Ceph options. */
static int parse_spec(const char *spec, const struct store_backend_config *cfg, struct choice *c,
		      char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (!strcmp(spec, "files")) {
		strcpy(c->backend, "files");
		return 0;
	}
	if (strncmp(spec, "rbd:", 4) || !spec[4] || strchr(spec + 4, '/') ||
	    copy(c->pool, sizeof(c->pool), spec + 4)) {
		snprintf(err, errlen, "--image-store '%s' is not 'files' or 'rbd:POOL'", spec);
		return -EINVAL;
	}
	strcpy(c->backend, "rbd");
	if (cfg->ceph_conf)
		c->have_conf = !copy(c->conf, sizeof(c->conf), cfg->ceph_conf);
	if (cfg->ceph_id)
		c->have_id = !copy(c->id, sizeof(c->id), cfg->ceph_id);
	if ((cfg->ceph_conf && !c->have_conf) || (cfg->ceph_id && !c->have_id)) {
		snprintf(err, errlen, "--ceph-conf or --ceph-id is too long");
		return -EINVAL;
	}
	return 0;
}

int store_backend_setup(const struct store_backend_config *cfg, int write, char *err,
			size_t errlen)
{
	struct store_backend_config eff = *cfg;
	const char *spec = cfg->spec ? cfg->spec : "files";
	struct choice rec;
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/" STORE_BACKEND_FILE, cfg->root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = read_record(path, &rec, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	if (!cfg->spec && !write) {
		/* the points CLI: whatever the server recorded */
		if (rc == 0)
			chosen = rec;
		else
			rc = parse_spec("files", cfg, &chosen, err, errlen);
	} else {
		int recorded = rc == 0;

		rc = parse_spec(spec, cfg, &chosen, err, errlen);
		if (rc)
			return rc;
		/* the images of the store's machines are where it says */
		if (recorded && (strcmp(rec.backend, chosen.backend) || strcmp(rec.pool, chosen.pool))) {
			snprintf(err, errlen, "the store %s keeps its images in %s%s%s (%s); "
				 "--image-store %s cannot change that: use another --store DIR",
				 cfg->root, rec.backend, rec.pool[0] ? ":" : "", rec.pool, path, spec);
			return -EINVAL;
		}
		if (write && !recorded && strcmp(chosen.backend, "files")) {
			rc = write_record(path, &chosen);
			if (rc)
				snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		}
	}
	if (rc)
		return rc;
	eff.ceph_conf = chosen.have_conf ? chosen.conf : NULL;
	eff.ceph_id = chosen.have_id ? chosen.id : NULL;
	eff.spec = chosen.pool;
	if (!strcmp(chosen.backend, "files")) {
		ops = &store_files_ops;
	} else if (!strcmp(chosen.backend, "rbd")) {
#ifdef LIVEMIG_RBD
		ops = &store_rbd_ops;
#else
		snprintf(err, errlen, "this livemig-staging was built without Ceph RBD support: "
			 "build it with librbd-dev installed (make RBD=1)");
		return -EOPNOTSUPP;
#endif
	} else {
		snprintf(err, errlen, "%s names an unknown image store '%s'", path, chosen.backend);
		return -EUCLEAN;
	}
	return ops->setup(&eff, err, errlen);
}

void store_backend_shutdown(void)
{
	ops->shutdown();
}

const char *store_backend_name(void)
{
	return ops->name;
}

int store_backend_has_snapshots(void)
{
	return ops->snap_create != NULL;
}

int store_volume_create(const char *machine, const char *disk, uint64_t size, char *err,
			size_t errlen)
{
	return ops->create(machine, disk, size, err, errlen);
}

int store_volume_open(const char *machine, const char *disk, uint64_t size,
		      struct store_volume **out, char *err, size_t errlen)
{
	return ops->open(machine, disk, size, out, err, errlen);
}

void store_volume_close(struct store_volume *v)
{
	if (v)
		v->ops->close(v);
}

int store_volume_read(struct store_volume *v, void *buf, size_t len, uint64_t off)
{
	return v->ops->read(v, buf, len, off);
}

int store_volume_write(struct store_volume *v, const void *buf, size_t len, uint64_t off)
{
	return v->ops->write(v, buf, len, off);
}

int store_volume_zero(struct store_volume *v, uint64_t off, uint64_t len)
{
	return v->ops->zero(v, off, len);
}

int store_volume_flush(struct store_volume *v)
{
	return v->ops->flush(v);
}

int store_volume_next_data(struct store_volume *v, uint64_t from, uint64_t *start,
			   uint64_t *end)
{
	return v->ops->next_data(v, from, start, end);
}

int store_volume_data_ranges(struct store_volume *v, uint64_t off, uint64_t len,
			     int (*found)(void *arg, uint64_t start, uint64_t end), void *arg)
{
	uint64_t from = off, stop = off + len, start, end;
	int rc = 0;

	if (v->ops->data_ranges)
		return v->ops->data_ranges(v, off, len, found, arg);
	while (!rc && from < stop) {
		rc = v->ops->next_data(v, from, &start, &end);
		if (rc || start >= stop) /* UINT64_MAX: no data from here */
			break;
		if (end <= start || end <= from)
			return -EIO; /* an extent that moves nothing forward */
		rc = found(arg, start, end);
		from = end;
	}
	return rc;
}

int store_volume_fd(struct store_volume *v)
{
	return v->ops->fd ? v->ops->fd(v) : -1;
}

int store_snap_create(struct store_volume *v, uint64_t id)
{
	return v->ops->snap_create ? v->ops->snap_create(v, id) : -EOPNOTSUPP;
}

int store_snap_remove(const char *machine, const char *disk, uint64_t id)
{
	return ops->snap_remove ? ops->snap_remove(machine, disk, id) : -EOPNOTSUPP;
}

int store_snap_clones(const char *machine, const char *disk, uint64_t id, char *out,
		      size_t len)
{
	if (len)
		out[0] = '\0';
	return ops->snap_clones ? ops->snap_clones(machine, disk, id, out, len) : 0;
}

int store_snap_prune(struct store_volume *v, int (*have_point)(void *arg, uint64_t id),
		     void *arg)
{
	return v->ops->snap_prune ? v->ops->snap_prune(v, have_point, arg) : -EOPNOTSUPP;
}

int store_snap_open(const char *machine, const char *disk, uint64_t id, uint64_t size,
		    struct store_volume **out, char *err, size_t errlen)
{
	if (!ops->snap_open) {
		snprintf(err, errlen, "the %s image store has no snapshots", ops->name);
		return -EOPNOTSUPP;
	}
	return ops->snap_open(machine, disk, id, size, out, err, errlen);
}

int store_space(const char *root, uint64_t *free_bytes, uint64_t *total_bytes)
{
	return ops->space(root, free_bytes, total_bytes);
}

void store_full_message(const char *root, char *out, size_t len)
{
	if (ops->full_what)
		ops->full_what(out, len);
	else
		snprintf(out, len, "staging store %s is full (no space left on device)", root);
}

const char *store_strerror(int rc)
{
	const char *why = ops->explain ? ops->explain(rc) : NULL;

	return why ? why : strerror(-rc);
}
