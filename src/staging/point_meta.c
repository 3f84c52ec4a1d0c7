// SPDX-License-Identifier: GPL-2.0-or-later
#include "point_meta.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "util.h"

#define POINT_JSON_MAX (1u << 20)

static const char *const origin_names[] = { [MARK_ORIGIN_FINAL_SYNC] = "final-sync",
					    [MARK_ORIGIN_PERIODIC] = "periodic",
					    [MARK_ORIGIN_REQUESTED] = "requested" };
static const char *const consistency_names[] = {
	[MARK_CONSISTENCY_CRASH] = "crash",
	[MARK_CONSISTENCY_FILESYSTEM] = "filesystem",
	[MARK_CONSISTENCY_APPLICATION] = "application",
};

const char *point_origin_name(uint8_t origin)
{
	return origin >= 1 && origin <= 3 ? origin_names[origin] : "unknown";
}

const char *point_consistency_name(uint8_t consistency)
{
	return consistency >= 1 && consistency <= 3 ? consistency_names[consistency] : "unknown";
}

const char *point_mode_name(enum point_mode mode)
{
	return mode == POINT_MODE_REFLINK ? "reflink" : mode == POINT_MODE_SNAP ? "snapshot" : "cow";
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 1; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int point_path(char *out, const char *points_dir, uint64_t id, const char *file)
{
	int n = file ? snprintf(out, PATH_MAX, "%s/%" PRIu64 "/%s", points_dir, id, file)
		     : snprintf(out, PATH_MAX, "%s/%" PRIu64, points_dir, id);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int point_pin_valid(const char *name)
{
	return name_valid(name);
}

/* 2026-12-06T03:15:00.123Z */
static void rfc3339_ms(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", s, (unsigned)(ns / 1000000u % 1000u));
}

static json_t *base_json(const struct point *p)
{
	char when[40];
	json_t *disks = json_array(), *pins = json_array(), *o;

	for (unsigned i = 0; i < p->ndisks; i++)
		json_array_append_new(disks, json_pack("{s:s, s:I}", "name", p->disks[i].name,
						       "size", (json_int_t)p->disks[i].size));
	for (unsigned i = 0; i < p->npins; i++)
		json_array_append_new(pins, json_string(p->pins[i]));
	rfc3339_ms(p->time_ns, when, sizeof(when));
	o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:b, s:o, s:o, s:s}", "id", (json_int_t)p->id,
		      "time", when, "time_ns", (json_int_t)p->time_ns,
		      "origin", point_origin_name(p->origin),
		      "consistency", point_consistency_name(p->consistency),
		      "pinned", p->npins > 0, "pins", pins, "disks", disks, "created", p->created);
	return o;
}

json_t *point_to_json(const struct point *p)
{
	return base_json(p);
}

int point_save(const char *dir, const struct point *p)
{
	char path[PATH_MAX];
	json_t *o = base_json(p);
	char *text;
	int rc;

	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "format", json_integer(POINT_FORMAT));
	json_object_set_new(o, "mark_seq", json_integer((json_int_t)p->mark_seq));
	json_object_set_new(o, "mode", json_string(point_mode_name(p->mode)));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	if (snprintf(path, sizeof(path), "%s/point.json", dir) >= (int)sizeof(path))
		rc = -ENAMETOOLONG;
	else
		rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

static int u64_of(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse(json_t *o, struct point *p)
{
	json_t *disks = json_object_get(o, "disks"), *pins = json_object_get(o, "pins"), *v;
	const char *created = json_string_value(json_object_get(o, "created"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	uint64_t format;
	int origin = lookup(origin_names, 4, json_string_value(json_object_get(o, "origin")));
	int cons = lookup(consistency_names, 4,
			  json_string_value(json_object_get(o, "consistency")));
	size_t i;

	memset(p, 0, sizeof(*p));
	if (u64_of(o, "format", &format) || format != POINT_FORMAT || u64_of(o, "id", &p->id) ||
	    !p->id || u64_of(o, "time_ns", &p->time_ns) || u64_of(o, "mark_seq", &p->mark_seq) ||
	    origin < 0 || cons < 0 || !created || strlen(created) >= sizeof(p->created) ||
	    !mode || !json_is_array(disks) || !json_array_size(disks) ||
	    json_array_size(disks) > FRAME_MAX_DISKS || !json_is_array(pins) ||
	    json_array_size(pins) > POINT_MAX_PINS)
		return -1;
	if (!strcmp(mode, "reflink"))
		p->mode = POINT_MODE_REFLINK;
	else if (!strcmp(mode, "cow"))
		p->mode = POINT_MODE_COW;
	else if (!strcmp(mode, "snapshot"))
		p->mode = POINT_MODE_SNAP;
	else
		return -1;
	p->origin = (uint8_t)origin;
	p->consistency = (uint8_t)cons;
	strcpy(p->created, created);
	json_array_foreach(disks, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (!name || !name_valid(name) || u64_of(v, "size", &p->disks[i].size))
			return -1;
		strcpy(p->disks[i].name, name);
		p->ndisks++;
	}
	json_array_foreach(pins, i, v) {
		const char *name = json_string_value(v);

		if (!name || !point_pin_valid(name))
			return -1;
		strcpy(p->pins[i], name);
		p->npins++;
	}
	return 0;
}

int point_load(const char *dir, struct point *p)
{
	char path[PATH_MAX];
	char *text;
	json_t *o;
	int rc;

	if (snprintf(path, sizeof(path), "%s/point.json", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = read_small_file(path, &text, NULL, POINT_JSON_MAX);
	if (rc)
		return rc;
	o = json_loads(text, 0, NULL);
	free(text);
	rc = o && parse(o, p) == 0 ? 0 : -EUCLEAN;
	json_decref(o);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A complete point's directory: a decimal id without leading zeros. */
static int id_of(const char *name, uint64_t *id)
{
	char *end;

	if (name[0] < '1' || name[0] > '9' || strlen(name) > 19)
		return -1;
	errno = 0;
	*id = strtoull(name, &end, 10);
	return *end || errno ? -1 : 0;
}

int points_scan_ids(const char *points_dir, uint64_t **ids, size_t *n)
{
	DIR *d = opendir(points_dir);
	struct dirent *e;
	size_t cap = 0;
	uint64_t id;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (id_of(e->d_name, &id))
			continue;
		if (*n == cap) {
			uint64_t *more = realloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof(**ids));

			if (!more) {
				closedir(d);
				free(*ids);
				*ids = NULL;
				*n = 0;
				return -ENOMEM;
			}
			*ids = more;
		}
		(*ids)[(*n)++] = id;
	}
	closedir(d);
	if (*n > 1)
		qsort(*ids, *n, sizeof(**ids), cmp_u64);
	return 0;
}
