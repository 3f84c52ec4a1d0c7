// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which file systems live on the replicated disks, found through the block
 * layer's own links (sysfs), never by names: a disk's partitions are its
 * subdirectories with a `partition` file, and a device stacked on a disk or
 * partition (device-mapper, md, bcache) is listed in its `holders/`. The
 * mounts of any of those devices are the file systems to freeze.
 */
#include "freeze.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../../kmod/uapi/livemig_cbt.h"

#define MAX_DEVS 512

struct devlist {
	dev_t dev[MAX_DEVS];
	unsigned n;
};

static int devlist_has(const struct devlist *l, dev_t d)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->dev[i] == d)
			return 1;
	return 0;
}

static int read_dev(const char *dir, dev_t *out)
{
	char path[PATH_MAX], buf[32];
	unsigned ma, mi;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/dev", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%u:%u", &ma, &mi) == 2;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*out = makedev(ma, mi);
	return 0;
}

/* Add the block device at sysfs directory dir, its partitions and holders. */
static int walk(const char *sysfs, const char *dir, struct devlist *l, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	dev_t dev = 0;
	DIR *d;
	int rc = 0;

	if (depth > 16)
		return -ELOOP;
	if (read_dev(dir, &dev))
		return 0;
	if (devlist_has(l, dev))
		return 0;
	if (l->n == MAX_DEVS)
		return -E2BIG;
	l->dev[l->n++] = dev;
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s/partition", dir, de->d_name);
		if (stat(sub, &st) == 0) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			rc = walk(sysfs, sub, l, depth + 1);
		}
	}
	closedir(d);
	snprintf(sub, sizeof(sub), "%s/holders", dir);
	d = opendir(sub);
	if (!d)
		return rc;
	while (!rc && (de = readdir(d))) {
		char holder[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(holder, sizeof(holder), "%s/class/block/%s", sysfs, de->d_name);
		rc = walk(sysfs, holder, l, depth + 1);
	}
	closedir(d);
	return rc;
}

/* mountinfo escapes blanks in paths as \040 */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Open the device node of dev: /dev/NAME from sysfs's uevent, else the
 * mount's source; either must really be that device. */
static int open_dev(const char *sysfs, dev_t dev, const char *source)
{
	char path[PATH_MAX], line[256], node[PATH_MAX] = "";
	struct stat st;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", sysfs, major(dev), minor(dev));
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "DEVNAME=", 8)) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(node, sizeof(node), "/dev/%s", line + 8);
			}
		fclose(f);
	}
	for (int i = 0; i < 2; i++) {
		const char *p = i ? source : node;

		if (!p[0])
			continue;
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int freeze_find(struct freeze_set *fs, const char *const *paths, unsigned ndisks,
		const char *sysfs, const char *mountinfo, char *err, size_t errlen)
{
	dev_t disks[FREEZE_MAX_FS];

	memset(fs, 0, sizeof(*fs));
	fs->cbt_fd = -1;
	if (ndisks > FREEZE_MAX_FS)
		return -E2BIG;
	for (unsigned i = 0; i < ndisks; i++) {
		struct stat st;

		if (stat(paths[i], &st) || !S_ISBLK(st.st_mode)) {
			snprintf(err, errlen, "%s is not a block device", paths[i]);
			return -ENOTBLK;
		}
		disks[i] = st.st_rdev;
	}
	return freeze_find_devs(fs, disks, ndisks, sysfs, mountinfo, err, errlen);
}

int freeze_find_devs(struct freeze_set *fs, const dev_t *disks, unsigned ndisks,
		     const char *sysfs, const char *mountinfo, char *err, size_t errlen)
{
	struct devlist *l = calloc(1, sizeof(*l));
	struct devlist seen = { .n = 0 };
	char *line = NULL;
	size_t cap = 0;
	FILE *f = NULL;
	int rc = 0;

	memset(fs, 0, sizeof(*fs));
	fs->cbt_fd = -1;
	if (!l)
		return -ENOMEM;
	for (unsigned i = 0; i < ndisks && !rc; i++) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", sysfs, major(disks[i]),
			 minor(disks[i]));
		rc = walk(sysfs, dir, l, 0);
		if (rc)
			snprintf(err, errlen, "cannot list what is stacked on %u:%u: %s",
				 major(disks[i]), minor(disks[i]), strerror(-rc));
	}
	if (!rc && !(f = fopen(mountinfo, "re"))) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", mountinfo, strerror(errno));
	}
	while (!rc && getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char mp[PATH_MAX], *sep, source[PATH_MAX] = "";
		unsigned ma, mi;
		dev_t dev;
		int fd;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, mp) != 3)
			continue;
		dev = makedev(ma, mi);
		if (!devlist_has(l, dev) || devlist_has(&seen, dev))
			continue; /* a bind mount or a second mount of the same file system */
		sep = strstr(line, " - ");
		if (sep)
			sscanf(sep + 3, "%*s %4095s", source);
		unescape(mp);
		unescape(source);
		if (fs->n == FREEZE_MAX_FS) {
			snprintf(err, errlen, "more than %d file systems on the replicated disks",
				 FREEZE_MAX_FS);
			rc = -E2BIG;
			break;
		}
		fd = open_dev(sysfs, dev, source);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open the device of %s (%u:%u)", mp, ma, mi);
			rc = fd;
			break;
		}
		seen.dev[seen.n++] = dev;
		fs->fds[fs->n] = fd;
		snprintf(fs->where[fs->n], sizeof(fs->where[0]), "%.127s", mp);
		fs->n++;
	}
	free(line);
	if (f)
		fclose(f);
	free(l);
	if (rc)
		freeze_close(fs);
	return rc;
}

int freeze_begin(struct freeze_set *fs, unsigned timeout_ms, char *err, size_t errlen)
{
	struct livemig_cbt_freeze fz = {
		.size = sizeof(fz),
		.version = LIVEMIG_CBT_ABI_VERSION,
		.timeout_ms = timeout_ms,
		.nr_fds = fs->n,
		.fds = (uintptr_t)fs->fds,
	};

	if (!fs->n)
		return 0;
	if (fs->cbt_fd < 0) {
		fs->cbt_fd = open(LIVEMIG_CBT_DEVICE, O_RDWR | O_CLOEXEC);
		if (fs->cbt_fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", LIVEMIG_CBT_DEVICE, strerror(errno));
			return -errno;
		}
	}
	if (ioctl(fs->cbt_fd, LIVEMIG_CBT_IOC_FREEZE, &fz)) {
		int rc = -errno;

		snprintf(err, errlen, "cannot freeze %s: %s%s",
			 fz.failed < fs->n ? fs->where[fz.failed] : "?", strerror(errno),
			 errno == EBUSY ? " (frozen by someone else?)" : "");
		return rc;
	}
	fs->frozen = 1;
	return 0;
}

int freeze_end(struct freeze_set *fs, uint64_t *frozen_ns)
{
	struct livemig_cbt_thaw th = { .size = sizeof(th), .version = LIVEMIG_CBT_ABI_VERSION };

	*frozen_ns = 0;
	if (!fs->frozen)
		return 0;
	fs->frozen = 0;
	if (ioctl(fs->cbt_fd, LIVEMIG_CBT_IOC_THAW, &th))
		return -errno;
	*frozen_ns = th.frozen_ns;
	return 0;
}

void freeze_close(struct freeze_set *fs)
{
	/* closing cbt_fd thaws whatever is still frozen */
	if (fs->cbt_fd >= 0)
		close(fs->cbt_fd);
	for (unsigned i = 0; i < fs->n; i++)
		close(fs->fds[i]);
	fs->cbt_fd = -1;
	fs->n = 0;
	fs->frozen = 0;
}
