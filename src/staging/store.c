// SPDX-License-Identifier: GPL-2.0-or-later
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "atomic_file.h"
#include "store_backend.h"
#include "util.h"

#define META_MAX (1u << 20) /* manifest and checkpoint are a few KiB at most */

struct manifest_disk {
	uint32_t id;
	uint64_t size;
	char name[FRAME_NAME_MAX + 1];
	char created[32];
};

struct manifest {
	uint8_t store_id[FRAME_EPOCH_LEN];
	uint32_t block_size;
	char created[32];
	unsigned ndisks;
	struct manifest_disk disks[STORE_MAX_DISKS];
};

static void rfc3339_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int path_of(char *out, const char *root, const char *machine, const char *file)
{
	int n = file ? snprintf(out, PATH_MAX, "%s/%s/%s", root, machine, file)
		     : snprintf(out, PATH_MAX, "%s/%s", root, machine);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static void image_name(char *out, size_t len, const char *disk)
{
	snprintf(out, len, "disk-%s.img", disk);
}

int store_prepare_root(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		int rc = -errno;

		snprintf(err, errlen, "cannot create store directory %s: %s (create its parent, "
			 "or pass an existing directory with --store)", dir, strerror(-rc));
		return rc;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "store %s is not a directory (pass a directory with --store)",
			 dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK)) {
		int rc = -errno;

		snprintf(err, errlen, "cannot write to store directory %s: %s (fix its owner or "
			 "mode, or run livemig-staging as a user who may write there)", dir,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

/* ---- manifest.json ---- */

static int uint_field(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int str_field(json_t *o, const char *key, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strlen(s) >= len)
		return -1;
	strcpy(out, s);
	return 0;
}

static int parse_disk(json_t *d, struct manifest_disk *md, const char **why)
{
	char image[FRAME_NAME_MAX + 16], expect[FRAME_NAME_MAX + 16];
	uint64_t id, size;

	if (uint_field(d, "id", UINT32_MAX, &id) || uint_field(d, "size", UINT64_C(1) << 56, &size) ||
	    str_field(d, "name", md->name, sizeof(md->name)) || !name_valid(md->name) ||
	    str_field(d, "image", image, sizeof(image)) ||
	    str_field(d, "created", md->created, sizeof(md->created))) {
		*why = "a disk entry lacks id, name, size, image or created";
		return -1;
	}
	image_name(expect, sizeof(expect), md->name);
	if (strcmp(image, expect)) {
		*why = "a disk's image is not named disk-<name>.img";
		return -1;
	}
	md->id = (uint32_t)id;
	md->size = size;
	return 0;
}

static int manifest_parse(const char *text, const char *machine, struct manifest *m,
			  const char **why)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *disks;
	char id_hex[2 * FRAME_EPOCH_LEN + 1], owner[FRAME_NAME_MAX + 1];
	uint64_t format, bs;
	size_t i;
	int rc = -1;

	if (!root) {
		*why = "not valid JSON";
		return -1;
	}
	disks = json_object_get(root, "disks");
	if (uint_field(root, "format", UINT32_MAX, &format) || format != STORE_FORMAT) {
		*why = "unknown format version";
		goto out;
	}
	if (str_field(root, "machine", owner, sizeof(owner)) || strcmp(owner, machine)) {
		*why = "it names another machine";
		goto out;
	}
	if (str_field(root, "store_id", id_hex, sizeof(id_hex)) ||
	    hex_decode(id_hex, m->store_id, FRAME_EPOCH_LEN) ||
	    uint_field(root, "block_size", FRAME_MAX_RAW, &bs) ||
	    str_field(root, "created", m->created, sizeof(m->created)) || !json_is_array(disks) ||
	    json_array_size(disks) > STORE_MAX_DISKS) {
		*why = "store_id, block_size, created or disks missing or malformed";
		goto out;
	}
	m->block_size = (uint32_t)bs;
	m->ndisks = 0;
	for (i = 0; i < json_array_size(disks); i++) {
		struct manifest_disk *md = &m->disks[m->ndisks];

		if (parse_disk(json_array_get(disks, i), md, why))
			goto out;
		for (unsigned j = 0; j < m->ndisks; j++) {
			if (m->disks[j].id == md->id || !strcmp(m->disks[j].name, md->name)) {
				*why = "two disks share an id or a name";
				goto out;
			}
		}
		m->ndisks++;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int manifest_write(const char *path, const char *machine, const struct manifest *m)
{
	char id_hex[2 * FRAME_EPOCH_LEN + 1], image[FRAME_NAME_MAX + 16];
	json_t *root, *disks;
	char *text;
	int rc;

	hex_encode(m->store_id, FRAME_EPOCH_LEN, id_hex);
	disks = json_array();
	for (unsigned i = 0; i < m->ndisks; i++) {
		const struct manifest_disk *md = &m->disks[i];

		image_name(image, sizeof(image), md->name);
		json_array_append_new(disks, json_pack("{s:I, s:s, s:I, s:s, s:s}",
						       "id", (json_int_t)md->id, "name", md->name,
						       "size", (json_int_t)md->size, "image", image,
						       "created", md->created));
	}
	root = json_pack("{s:i, s:s, s:s, s:I, s:s, s:o}", "format", STORE_FORMAT,
			 "machine", machine, "store_id", id_hex,
			 "block_size", (json_int_t)m->block_size, "created", m->created,
			 "disks", disks);
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		return -ENOMEM;
	rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

/* Match each HELLO disk with the manifest; add the new ones. */
static int merge_disks(struct manifest *m, const struct hello_disk *disks, unsigned ndisks,
		       int *added, char *err, size_t errlen)
{
	for (unsigned i = 0; i < ndisks; i++) {
		const struct hello_disk *d = &disks[i];
		struct manifest_disk *md;
		unsigned j;

		for (j = 0; j < m->ndisks; j++)
			if (m->disks[j].id == d->id || !strcmp(m->disks[j].name, d->name))
				break;
		if (j < m->ndisks) {
			md = &m->disks[j];
			if (md->id != d->id || strcmp(md->name, d->name)) {
				snprintf(err, errlen, "disk %s (id %u) in HELLO conflicts with disk %s "
					 "(id %u) in the staging store", d->name, d->id, md->name,
					 md->id);
				return -EINVAL;
			}
			if (md->size != d->size) {
				snprintf(err, errlen, "disk %s changed size from %" PRIu64 " to %"
					 PRIu64 " bytes; a resized disk needs a new replica (an "
					 "operator must move the machine's staging directory aside)",
					 d->name, md->size, d->size);
				return -EINVAL;
			}
			continue;
		}
		if (m->ndisks == STORE_MAX_DISKS) {
			snprintf(err, errlen, "the staging store already holds %u disks for this "
				 "machine", STORE_MAX_DISKS);
			return -EINVAL;
		}
		md = &m->disks[m->ndisks++];
		md->id = d->id;
		md->size = d->size;
		strcpy(md->name, d->name);
		rfc3339_now(md->created, sizeof(md->created));
		added[i] = 1;
	}
	return 0;
}

static int read_consistent_ns(const char *path, uint64_t *out, char *err, size_t errlen)
{
	json_t *root;
	char *text;
	int rc = read_small_file(path, &text, NULL, META_MAX);

	*out = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	root = json_loads(text, 0, NULL);
	free(text);
	if (!root || uint_field(root, "consistent_ns", INT64_MAX, out)) {
		snprintf(err, errlen, "checkpoint %s is damaged (move it aside; the agent then "
			 "starts without a consistent point)", path);
		rc = -EUCLEAN;
	}
	json_decref(root);
	return rc;
}

static int load_or_init(const char *mpath, const char *machine, uint32_t block_size,
			struct manifest *m, struct store_state *st, char *err, size_t errlen)
{
	const char *why = NULL;
	char *text;
	int rc = read_small_file(mpath, &text, NULL, META_MAX);

	if (rc == -ENOENT) {
		st->was_new = 1;
		m->block_size = block_size;
		m->ndisks = 0;
		rfc3339_now(m->created, sizeof(m->created));
		rc = random_bytes(m->store_id, FRAME_EPOCH_LEN);
		if (rc)
			snprintf(err, errlen, "cannot get random bytes: %s", strerror(-rc));
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "cannot read %s: %s", mpath, strerror(-rc));
		return rc;
	}
	rc = manifest_parse(text, machine, m, &why);
	free(text);
	if (rc) {
		snprintf(err, errlen, "manifest %s is damaged (%s); an operator must repair it or "
			 "move the machine's directory aside", mpath, why);
		return -EUCLEAN;
	}
	return 0;
}

int store_open(const char *root, const char *machine, uint32_t block_size,
	       const struct hello_disk *disks, unsigned ndisks, struct store_volume **vols,
	       struct store_state *st, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int added[FRAME_MAX_DISKS] = { 0 };
	struct manifest *m = calloc(1, sizeof(*m));
	unsigned opened = 0, i;
	int rc, any_added = 0;

	memset(st, 0, sizeof(*st));
	if (!m)
		return -ENOMEM;
	rc = path_of(dir, root, machine, NULL);
	if (!rc && mkdir(dir, 0700) == 0)
		rc = fsync_path(root); /* the new directory must outlive a crash */
	else if (!rc && errno != EEXIST)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		goto out;
	}
	rc = path_of(path, root, machine, "manifest.json");
	if (!rc)
		rc = load_or_init(path, machine, block_size, m, st, err, errlen);
	if (!rc)
		rc = merge_disks(m, disks, ndisks, added, err, errlen);
	for (i = 0; !rc && i < ndisks; i++) {
		if (!added[i])
			continue;
		any_added = 1;
		rc = store_volume_create(machine, disks[i].name, disks[i].size, err, errlen);
	}
	/* the images exist on disk before the manifest names them */
	if (!rc && (any_added || st->was_new)) {
		rc = path_of(path, root, machine, "manifest.json");
		if (!rc)
			rc = manifest_write(path, machine, m);
		if (rc)
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	}
	for (opened = 0; !rc && opened < ndisks; opened++) {
		vols[opened] = NULL;
		rc = store_volume_open(machine, disks[opened].name, disks[opened].size,
				       &vols[opened], err, errlen);
	}
	if (!rc && path_of(path, root, machine, "checkpoint.json") == 0)
		rc = read_consistent_ns(path, &st->consistent_ns, err, errlen);
	if (!rc)
		memcpy(st->store_id, m->store_id, FRAME_EPOCH_LEN);
out:
	if (rc)
		for (i = 0; i < opened; i++)
			store_volume_close(vols[i]);
	free(m);
	return rc;
}

int store_write_checkpoint(const char *root, const char *machine, uint64_t consistent_ns,
			   uint64_t seq, char *err, size_t errlen)
{
	char path[PATH_MAX], written[32];
	json_t *doc;
	char *text;
	int rc;

	if (consistent_ns > INT64_MAX || seq > INT64_MAX) {
		snprintf(err, errlen, "MARK time or sequence number out of range");
		return -ERANGE;
	}
	rc = path_of(path, root, machine, "checkpoint.json");
	if (rc) {
		snprintf(err, errlen, "store path too long");
		return rc;
	}
	rfc3339_now(written, sizeof(written));
	doc = json_pack("{s:i, s:s, s:I, s:I, s:s}", "format", STORE_FORMAT, "kind", "consistent",
			"consistent_ns", (json_int_t)consistent_ns, "seq", (json_int_t)seq,
			"written_at", written);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	if (rc)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}
