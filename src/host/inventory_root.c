// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which disks hold "/": the root mount's device from mountinfo, then down
 * through sysfs to physical disks. A partition's parent directory is its
 * disk; a device-mapper (LVM, LUKS, multipath) or md device lists the
 * devices it is built on in slaves/, each followed in turn. The seed makes
 * these disks mandatory for replication.
 */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inventory_internal.h"

#define MAX_DEPTH 16 /* dm on md on dm... real stacks are 3 or 4 deep */

static int add_unique(json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
		if (!strcmp(json_string_value(v), name))
			return 0;
	return json_array_append_new(names, json_string(name)) ? -ENOMEM : 0;
}

static int not_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* dir: a block device's directory in sysfs, symlinks resolved. */
static int walk(const char *dir, int depth, json_t *names, char *err, size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent **list = NULL;
	const char *base;
	int rc = 0, n;

	if (depth > MAX_DEPTH) {
		snprintf(err, errlen, "block devices stacked deeper than %d at %s", MAX_DEPTH, dir);
		return -ELOOP;
	}
	snprintf(path, sizeof(path), "%s/partition", dir);
	if (access(path, F_OK) == 0) {
		/* .../block/sda/sda1 -> .../block/sda */
		snprintf(real, sizeof(real), "%s", dir);
		*strrchr(real, '/') = '\0';
		return walk(real, depth + 1, names, err, errlen);
	}
	snprintf(path, sizeof(path), "%s/slaves", dir);
	/* versionsort: the same order on every run, sda before sdb before sdaa */
	n = scandir(path, &list, not_dot, versionsort);
	for (int i = 0; i < n; i++) {
		char link[PATH_MAX];

		if (rc == 0 &&
		    snprintf(link, sizeof(link), "%s/%s", path, list[i]->d_name) >= (int)sizeof(link)) {
			rc = -ENAMETOOLONG;
			snprintf(err, errlen, "%s: path too long", path);
		}
		if (rc == 0 && !realpath(link, real)) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", link, strerror(errno));
		}
		if (rc == 0)
			rc = walk(real, depth + 1, names, err, errlen);
		free(list[i]);
	}
	if (n > 0) {
		free(list);
		return rc;
	}
	if (n == 0)
		free(list);
	base = strrchr(dir, '/');
	return add_unique(names, base ? base + 1 : dir);
}

int inv_root_walk(const char *sysfs, unsigned major, unsigned minor, json_t *names, char *err,
		  size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX];

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs, major, minor);
	if (!realpath(path, real)) {
		int e = errno;

		snprintf(err, errlen, "no block device %u:%u in %s/dev/block: %s", major, minor, sysfs,
			 strerror(e));
		return -e;
	}
	return walk(real, 0, names, err, errlen);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

struct root_mount {
	unsigned major, minor;
	char fstype[64];
	char source[PATH_MAX];
};

/* The last mount on "/" (later mounts hide earlier ones). 0 or -errno. */
static int find_root_mount(const char *proc, struct root_mount *m)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", proc);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* id parent major:minor root mountpoint options [optional...] - fstype source superopts */
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char mnt[8], *sep, fstype[64], source[PATH_MAX];

		if (sscanf(line, "%*u %*u %u:%u %*s %7s", &maj, &min, mnt) != 3 || strcmp(mnt, "/"))
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s %4095s", fstype, source) != 2)
			continue;
		m->major = maj;
		m->minor = min;
		unescape(fstype);
		unescape(source);
		snprintf(m->fstype, sizeof(m->fstype), "%s", fstype);
		snprintf(m->source, sizeof(m->source), "%s", source);
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}

static int mark_root_disks(json_t *doc, json_t *names)
{
	json_t *disks = json_object_get(doc, "disks"), *disk, *rd = json_array();
	size_t i, j;
	json_t *n;

	if (!rd)
		return -ENOMEM;
	json_array_foreach(names, i, n) {
		char dev[PATH_MAX];

		snprintf(dev, sizeof(dev), "/dev/%s", json_string_value(n));
		for (char *p = dev + 5; *p; p++)
			if (*p == '!')
				*p = '/';
		json_array_foreach(disks, j, disk) {
			if (strcmp(json_string_value(json_object_get(disk, "name")),
				   json_string_value(n)))
				continue;
			if (json_object_set_new(disk, "root", json_true()))
				goto nomem;
			snprintf(dev, sizeof(dev), "%s",
				 json_string_value(json_object_get(disk, "device")));
		}
		if (json_array_append_new(rd, json_string(dev)))
			goto nomem;
	}
	return json_object_set_new(doc, "root_disks", rd) ? -ENOMEM : 0;
nomem:
	json_decref(rd);
	return -ENOMEM;
}

int inv_root(json_t *doc, json_t *warnings, const char *sysfs, const char *proc)
{
	struct root_mount m;
	char err[512] = "";
	json_t *names = json_array(), *rm = NULL;
	int rc;

	if (!names)
		return -ENOMEM;
	rc = find_root_mount(proc, &m);
	if (rc) {
		inv_warn(warnings, "root: no mount on / in %s/self/mountinfo: %s", proc,
			 strerror(-rc));
		goto done;
	}
	if (m.major == 0) {
		/* btrfs and others report an anonymous device number; the mount
		 * source names the real one (btrfs: one of its devices only) */
		struct stat st;

		if (stat(m.source, &st) == 0 && S_ISBLK(st.st_mode)) {
			m.major = major(st.st_rdev);
			m.minor = minor(st.st_rdev);
		}
	}
	rm = json_pack("{s:s, s:s, s:n}", "source", m.source, "fstype", m.fstype, "device");
	if (!rm)
		goto nomem;
	if (m.major == 0) {
		inv_warn(warnings, "root: / is %s from %s, not on a block device", m.fstype, m.source);
		goto done;
	}
	{
		char mm[32];

		snprintf(mm, sizeof(mm), "%u:%u", m.major, m.minor);
		json_object_set_new(rm, "device", json_string(mm));
	}
	rc = inv_root_walk(sysfs, m.major, m.minor, names, err, sizeof(err));
	if (rc == -ENOMEM)
		goto nomem;
	if (rc)
		inv_warn(warnings, "root: %s", err);
done:
	if (json_object_set_new(doc, "root_mount", rm ? rm : json_null()))
		goto nomem_rm_taken;
	rc = mark_root_disks(doc, names);
	json_decref(names);
	return rc;
nomem:
	json_decref(rm);
nomem_rm_taken:
	json_decref(names);
	return -ENOMEM;
}
