/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake sysfs and procfs trees for unit tests, for what cannot be made for
 * real on a test machine (NICs with given addresses, device-mapper over md,
 * DMI tables). Paths are relative to a root made by ft_make_root(); symlinks
 * are relative, as in the real /sys, so they resolve inside the tree.
 */
#ifndef LIVEMIG_TEST_FAKE_TREE_H
#define LIVEMIG_TEST_FAKE_TREE_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* p = root/rel; 0, or -1 when it does not fit */
static inline int ft_path(char *p, size_t len, const char *root, const char *rel)
{
	int n = snprintf(p, len, "%s/%s", root, rel);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p root/rel; 0 or -1 */
static inline int ft_mkdirs(const char *root, const char *rel)
{
	char p[4096];

	if (ft_path(p, sizeof(p), root, rel))
		return -1;
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

static inline void ft_parent(const char *root, const char *rel)
{
	char d[4096];
	char *slash;

	snprintf(d, sizeof(d), "%s", rel);
	slash = strrchr(d, '/');
	if (slash) {
		*slash = '\0';
		ft_mkdirs(root, d);
	}
}

/* root/rel holds content (parents made); 0 or -1 */
static inline int ft_write(const char *root, const char *rel, const char *content)
{
	char p[4096];
	FILE *f;

	ft_parent(root, rel);
	if (ft_path(p, sizeof(p), root, rel))
		return -1;
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(content, f);
	return fclose(f) ? -1 : 0;
}

/* root/rel -> target (relative to rel's directory); 0 or -1 */
static inline int ft_symlink(const char *root, const char *rel, const char *target)
{
	char p[4096];

	ft_parent(root, rel);
	if (ft_path(p, sizeof(p), root, rel))
		return -1;
	return symlink(target, p);
}

static inline int ft_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* A fresh empty directory under $TMPDIR; root must hold 4096 bytes. */
static inline int ft_make_root(char *root, const char *name)
{
	const char *base = getenv("TMPDIR");

	snprintf(root, 4096, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
	return mkdtemp(root) ? 0 : -1;
}

static inline void ft_remove(const char *root)
{
	nftw(root, ft_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
