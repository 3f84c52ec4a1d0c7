// SPDX-License-Identifier: GPL-2.0-or-later
#include "checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "atomic_file.h"
#include "util.h"

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * FRAME_EPOCH_LEN + 1];

	hex_encode(b, n, hex);
	return json_string(hex);
}

int checkpoint_save(const char *path, const struct checkpoint *cp)
{
	json_t *root = json_object(), *disks = json_array();
	char *text;
	int rc;

	json_object_set_new(root, "format", json_integer(CHECKPOINT_FORMAT));
	json_object_set_new(root, "machine", json_string(cp->machine));
	json_object_set_new(root, "tracker", json_string(cp->tracker));
	json_object_set_new(root, "store_id", hex_json(cp->store_id, FRAME_EPOCH_LEN));
	json_object_set_new(root, "rounds", json_integer((json_int_t)cp->rounds));
	json_object_set_new(root, "last_consistent_ns", json_integer((json_int_t)cp->last_consistent_ns));
	json_object_set_new(root, "written_ns", json_integer((json_int_t)now_real_ns()));
	for (unsigned i = 0; i < cp->ndisks; i++) {
		const struct checkpoint_disk *d = &cp->disks[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "size", json_integer((json_int_t)d->size));
		json_object_set_new(o, "epoch", hex_json(d->epoch, FRAME_EPOCH_LEN));
		json_object_set_new(o, "mirror_watermark", json_integer((json_int_t)d->mirror_watermark));
		json_object_set_new(o, "mirror_complete", json_boolean(d->mirror_complete));
		json_array_append_new(disks, o);
	}
	json_object_set_new(root, "disks", disks);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

static int get_hex(json_t *o, const char *key, uint8_t *out)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? hex_decode(s, out, FRAME_EPOCH_LEN) : -EINVAL;
}

static int get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_str(json_t *o, const char *key, char *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strlen(s) >= n)
		return -EINVAL;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int checkpoint_load(const char *path, struct checkpoint *cp, const char **why)
{
	char *text;
	json_t *root, *disks;
	json_error_t jerr;
	uint64_t format = 0;
	int rc = read_small_file(path, &text, NULL, 1 << 20);

	*why = NULL;
	memset(cp, 0, sizeof(*cp));
	if (rc == -ENOENT)
		return rc;
	if (rc) {
		*why = "unreadable";
		return -EINVAL;
	}
	root = json_loads(text, 0, &jerr);
	free(text);
	if (!root) {
		*why = "not valid JSON";
		return -EINVAL;
	}
	rc = -EINVAL;
	*why = "missing or malformed field";
	if (get_u64(root, "format", &format) || format != CHECKPOINT_FORMAT) {
		*why = "unknown format version";
		goto out;
	}
	if (get_str(root, "machine", cp->machine, sizeof(cp->machine)) ||
	    get_str(root, "tracker", cp->tracker, sizeof(cp->tracker)) ||
	    get_hex(root, "store_id", cp->store_id) ||
	    get_u64(root, "rounds", &cp->rounds) ||
	    get_u64(root, "last_consistent_ns", &cp->last_consistent_ns))
		goto out;
	disks = json_object_get(root, "disks");
	if (!json_is_array(disks) || json_array_size(disks) > FRAME_MAX_DISKS)
		goto out;
	cp->ndisks = (unsigned)json_array_size(disks);
	for (unsigned i = 0; i < cp->ndisks; i++) {
		json_t *o = json_array_get(disks, i), *mc = json_object_get(o, "mirror_complete");
		struct checkpoint_disk *d = &cp->disks[i];

		if (get_str(o, "name", d->name, sizeof(d->name)) || get_u64(o, "size", &d->size) ||
		    get_hex(o, "epoch", d->epoch) ||
		    get_u64(o, "mirror_watermark", &d->mirror_watermark) || !json_is_boolean(mc) ||
		    d->mirror_watermark > d->size)
			goto out;
		d->mirror_complete = json_is_true(mc);
	}
	rc = 0;
	*why = NULL;
out:
	json_decref(root);
	return rc;
}
