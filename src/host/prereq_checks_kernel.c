// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel headers. The change-tracking module is built on the source machine
 * against /lib/modules/$(uname -r)/build, so the headers there must be for
 * exactly the running kernel, and (the seed's second item) the folder that
 * holds them must not be a symbolic link. docs/prerequisites.md explains
 * which folder that is: build itself is a link on every distribution
 * (Debian: -> /usr/src/linux-headers-KVER, RHEL: -> /usr/src/kernels/KVER);
 * the folder it names must be a real directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prereq_internal.h"

static void headers_cmd(const struct prereq_ctx *c, const char *verb, char *out, size_t n)
{
	char deb[192], rpm[192], suse[192];
	const char *flavour = strrchr(c->kver, '-');

	/* SUSE names the package by the flavour at the end of the release */
	if (!flavour || !isalpha((unsigned char)flavour[1]))
		flavour = "-default";
	snprintf(deb, sizeof(deb), "linux-headers-%s", c->kver);
	snprintf(rpm, sizeof(rpm), "kernel-devel-%s", c->kver);
	snprintf(suse, sizeof(suse), "kernel%s-devel", flavour);
	if (!strcmp(verb, "reinstall")) {
		switch (c->family) {
		case FAMILY_DEBIAN: snprintf(out, n, "apt-get install --reinstall %s", deb); return;
		case FAMILY_RHEL: snprintf(out, n, "yum reinstall %s", rpm); return;
		case FAMILY_SUSE: snprintf(out, n, "zypper install -f %s", suse); return;
		case FAMILY_UNKNOWN: break;
		}
	}
	prereq_install_cmd(c, deb, rpm, suse, out, n);
}

/* The in-root path the symlink at path names, with ".." left for resolve. */
static int link_target(const struct prereq_ctx *c, const char *path, char *out, size_t n)
{
	char dir[PATH_MAX], real[PATH_MAX], host[PATH_MAX], t[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;
	ssize_t tl;
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	rc = prereq_resolve(c, dir[0] ? dir : "/", real, sizeof(real));
	if (rc)
		return rc;
	snprintf(t, sizeof(t), "%s%s", strcmp(real, "/") ? real : "", slash);
	rc = prereq_host_path(c, t, host, sizeof(host));
	if (rc)
		return rc;
	tl = readlink(host, t, sizeof(t) - 1);
	if (tl < 0)
		return -errno;
	t[tl] = '\0';
	/* "dir/" names the same folder as "dir"; lstat must see the name itself */
	while ((len = strlen(t)) > 1 && t[len - 1] == '/')
		t[len - 1] = '\0';
	if (prereq_pathf(host, sizeof(host), "%s%s%s", t[0] == '/' || !strcmp(real, "/") ? "" : real,
			 t[0] == '/' ? "" : "/", t))
		return -ENAMETOOLONG;
	/* tidy "../../usr/src/x" into "/usr/src/x" through its parent, when it exists */
	slash = strrchr(host, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - host), host);
	if (!prereq_resolve(c, dir[0] ? dir : "/", real, sizeof(real)))
		snprintf(out, n, "%s%s", strcmp(real, "/") ? real : "", slash);
	else
		snprintf(out, n, "%s", host);
	return 0;
}

/* Releases with headers, for telling the user what is there instead. */
static void other_headers(const struct prereq_ctx *c, char *out, size_t n)
{
	char real[PATH_MAX], host[PATH_MAX];
	size_t len = 0;
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	if (prereq_resolve(c, "/lib/modules", real, sizeof(real)) ||
	    prereq_host_path(c, real, host, sizeof(host)) || !(d = opendir(host)))
		return;
	while ((e = readdir(d)) && len + 1 < n) {
		char build[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(build, sizeof(build), "/lib/modules/%.200s/build", e->d_name);
		if (prereq_stat(c, build, &st) || !S_ISDIR(st.st_mode))
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", e->d_name);
	}
	closedir(d);
}

/* The release the headers in dir (in-root, resolved) were built for. */
static int headers_release(const struct prereq_ctx *c, const char *dir, char *ver, size_t n,
			   const char **how)
{
	char path[PATH_MAX], *text = NULL;
	const char *base = strrchr(dir, '/') + 1;

	/* UTS_RELEASE first: it is what uname(2) of a kernel built from these
	 * headers says. Debian's kernel.release holds the upstream version
	 * (6.1.192 for the headers of 6.1.0-57-amd64). */
	if (!prereq_pathf(path, sizeof(path), "%s/include/generated/utsrelease.h", dir) &&
	    !prereq_read_file(c, path, &text, 64 * 1024)) {
		const char *q = strstr(text, "UTS_RELEASE \"");

		if (q) {
			q += 13;
			snprintf(ver, n, "%.*s", (int)strcspn(q, "\""), q);
			*how = "include/generated/utsrelease.h";
		}
		free(text);
		if (q)
			return 0;
	}
	if (!prereq_pathf(path, sizeof(path), "%s/include/config/kernel.release", dir) &&
	    !prereq_read_line(c, path, ver, n) && ver[0]) {
		*how = "include/config/kernel.release";
		return 0;
	}
	/* the packages' folder names: linux-headers-KVER, kernels/KVER */
	if (!strncmp(base, "linux-headers-", 14)) {
		snprintf(ver, n, "%s", base + 14);
		*how = "the folder's name";
		return 0;
	}
	if ((size_t)(base - dir) == strlen("/usr/src/kernels/") &&
	    !strncmp(dir, "/usr/src/kernels/", 17)) {
		snprintf(ver, n, "%s", base);
		*how = "the folder's name";
		return 0;
	}
	return -ENOENT;
}

void prereq_check_kernel_headers(const struct prereq_ctx *c, struct prereq_result *r)
{
	char build[PATH_MAX], real[PATH_MAX], target[PATH_MAX], ver[128], others[160],
		cmd[224];
	const char *how = NULL;
	struct stat st;
	int rc;

	snprintf(build, sizeof(build), "/lib/modules/%s/build", c->kver);
	headers_cmd(c, "install", cmd, sizeof(cmd));
	rc = prereq_resolve(c, build, real, sizeof(real));
	if (!rc && (prereq_stat(c, real, &st) || !S_ISDIR(st.st_mode)))
		rc = -ENOTDIR;
	if (rc) {
		if (!prereq_lstat(c, build, &st) && S_ISLNK(st.st_mode) &&
		    !link_target(c, build, target, sizeof(target))) {
			prereq_set(r, PREREQ_FAIL, "%s points to %s, which is missing", build,
				   target);
		} else {
			other_headers(c, others, sizeof(others));
			prereq_set(r, PREREQ_FAIL, "no headers for the running kernel %s (no %s)%s%s",
				   c->kver, build, others[0] ? "; headers only for " : "", others);
		}
		prereq_set_remedy(r, "%s", cmd);
		return;
	}
	if (headers_release(c, real, ver, sizeof(ver), &how)) {
		prereq_set(r, PREREQ_WARN, "headers in %s, but nothing there says which kernel "
			   "they are for (no include/config/kernel.release)", real);
		headers_cmd(c, "reinstall", cmd, sizeof(cmd));
		prereq_set_remedy(r, "%s", cmd);
		return;
	}
	if (strcmp(ver, c->kver)) {
		prereq_set(r, PREREQ_FAIL, "headers in %s are for %s (per %s), the running kernel "
			   "is %s", real, ver, how, c->kver);
		prereq_set_remedy(r, "%s", cmd);
		return;
	}
	prereq_set(r, PREREQ_PASS, "%s in %s (per %s)", ver, real, how);
}

void prereq_check_headers_not_symlink(const struct prereq_ctx *c, struct prereq_result *r)
{
	char build[PATH_MAX], folders[3][PATH_MAX], target[PATH_MAX], cmd[224];
	struct stat st;
	int n = 0;

	/* the folder build names, then where the packages put headers */
	snprintf(build, sizeof(build), "/lib/modules/%s/build", c->kver);
	if (!prereq_lstat(c, build, &st)) {
		if (!S_ISLNK(st.st_mode))
			snprintf(folders[n++], PATH_MAX, "%s", build);
		else if (!link_target(c, build, folders[n], PATH_MAX))
			n++;
	}
	snprintf(folders[n++], PATH_MAX, "/usr/src/linux-headers-%s", c->kver);
	snprintf(folders[n++], PATH_MAX, "/usr/src/kernels/%s", c->kver);

	for (int i = 0; i < n; i++) {
		if (prereq_lstat(c, folders[i], &st) || !S_ISLNK(st.st_mode))
			continue;
		if (link_target(c, folders[i], target, sizeof(target)))
			snprintf(target, sizeof(target), "?");
		prereq_set(r, PREREQ_FAIL, "the headers folder %s is a symbolic link to %s",
			   folders[i], target);
		headers_cmd(c, "reinstall", cmd, sizeof(cmd));
		prereq_set_remedy(r, "rm %s (the link only, not what it points to), then %s",
				  folders[i], cmd);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (!prereq_lstat(c, folders[i], &st) && S_ISDIR(st.st_mode)) {
			prereq_set(r, PREREQ_PASS, "%s is a real directory", folders[i]);
			return;
		}
	}
	prereq_set(r, PREREQ_WARN, "not checked: no headers folder for %s (see kernel-headers)",
		   c->kver);
	headers_cmd(c, "install", cmd, sizeof(cmd));
	prereq_set_remedy(r, "%s", cmd);
}
