// SPDX-License-Identifier: GPL-2.0-or-later
/* The disk selection: candidates from the inventory, choices, the root rule. */
#include "install_disks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int disks_from_inventory(json_t *inv, const char *root_override, struct disk_set *s, char *err,
			 size_t errlen)
{
	json_t *disks = json_object_get(inv, "disks"), *d;
	size_t i;
	int found = 0;

	memset(s, 0, sizeof(*s));
	json_array_foreach(disks, i, d) {
		struct disk_choice *c;

		if (s->n == DISKS_MAX)
			break;
		c = &s->d[s->n++];
		snprintf(c->name, sizeof(c->name), "%s", str(d, "name"));
		if (*str(d, "device"))
			snprintf(c->device, sizeof(c->device), "%s", str(d, "device"));
		else
			snprintf(c->device, sizeof(c->device), "/dev/%s", str(d, "name"));
		snprintf(c->model, sizeof(c->model), "%s", str(d, "model"));
		c->size = (uint64_t)json_integer_value(json_object_get(d, "size"));
		c->is_virtual = json_is_true(json_object_get(d, "virtual"));
		c->removable = json_is_true(json_object_get(d, "removable"));
		c->root = json_is_true(json_object_get(d, "root"));
		if (root_override) {
			c->root = !strcmp(c->name, root_override);
			found |= c->root;
		}
		s->root_known |= c->root;
	}
	if (root_override && !found) {
		snprintf(err, errlen, "--root-disk %s: no such disk on this machine (see `livemig "
				      "inventory`)", root_override);
		return -ENOENT;
	}
	return 0;
}

void disks_choose_default(struct disk_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->d[i].chosen = (!s->d[i].is_virtual && !s->d[i].removable) || s->d[i].root;
}

static struct disk_choice *find(struct disk_set *s, const char *word)
{
	char *end;
	unsigned long k = strtoul(word, &end, 10);

	if (*word >= '0' && *word <= '9' && !*end)
		return k >= 1 && k <= s->n ? &s->d[k - 1] : NULL;
	if (!strncmp(word, "/dev/", 5))
		word += 5;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].name, word))
			return &s->d[i];
	return NULL;
}

/* Why a name is not a disk here: a partition of one (sysfs knows), or
 * nothing at all. */
static void unknown(const char *word, char *err, size_t errlen)
{
	const char *name = strncmp(word, "/dev/", 5) ? word : word + 5;
	char path[PATH_MAX], real[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
	if (!strchr(name, '/') && access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "/sys/class/block/%s/..", name);
		if (realpath(path, real) && (slash = strrchr(real, '/'))) {
			snprintf(err, errlen, "%s is a partition of %s: disks are replicated "
					      "whole, with all their partitions; choose %s",
				 word, slash + 1, slash + 1);
			return;
		}
	}
	snprintf(err, errlen, "%s: no such disk on this machine (see `livemig inventory`)", word);
}

int disks_choose(struct disk_set *s, const char *list, char *err, size_t errlen)
{
	char copy[1024], *save = NULL, *w;
	int chosen[DISKS_MAX] = { 0 };

	if (strlen(list) >= sizeof(copy)) {
		snprintf(err, errlen, "the list of disks is too long");
		return -EINVAL;
	}
	snprintf(copy, sizeof(copy), "%s", list);
	for (w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		struct disk_choice *c;

		if (!strcmp(w, "all")) {
			for (size_t i = 0; i < s->n; i++)
				chosen[i] = 1;
			continue;
		}
		c = find(s, w);
		if (!c) {
			unknown(w, err, errlen);
			return -ENOENT;
		}
		chosen[c - s->d] = 1;
	}
	for (size_t i = 0; i < s->n; i++)
		s->d[i].chosen = chosen[i];
	return 0;
}

int disks_check(const struct disk_set *s, char *err, size_t errlen)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->d[i].root && !s->d[i].chosen) {
			snprintf(err, errlen, "the root disk %s cannot be left out: the machine is "
					      "launched from it in the target cloud", s->d[i].name);
			return -EPERM;
		}
		n += s->d[i].chosen;
	}
	if (!n) {
		snprintf(err, errlen, "no disk chosen: there is nothing to replicate");
		return -ENODATA;
	}
	return 0;
}

void disks_print(FILE *f, const struct disk_set *s)
{
	char size[32];

	for (size_t i = 0; i < s->n; i++) {
		const struct disk_choice *d = &s->d[i];

		fprintf(f, "  %2zu) %-10s %11s  %-24s %s%s%s%s%s\n", i + 1, d->name,
			fmt_bytes(d->size, size, sizeof(size)), d->model[0] ? d->model : "-",
			d->root ? "root: holds /, cannot be left out" : "",
			d->root && d->is_virtual ? "; " : "", d->is_virtual ? "virtual" : "",
			(d->root || d->is_virtual) && d->removable ? "; " : "",
			d->removable ? "removable media" : "");
	}
	if (!s->root_known)
		fprintf(f, "  (which disk holds / could not be told: see `livemig inventory`)\n");
}

void disks_chosen_names(const struct disk_set *s, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->n && used + 1 < len; i++)
		if (s->d[i].chosen)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
						 s->d[i].name);
}
