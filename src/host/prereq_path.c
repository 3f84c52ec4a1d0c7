// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Paths inside the examined root. Symlinks in a system image are written for
 * that system: Debian's /lib/modules/KVER/build points at the absolute
 * /usr/src/linux-headers-KVER, which under --root must mean
 * ROOT/usr/src/linux-headers-KVER and not the host's. So links are followed
 * here by hand, the way the kernel would follow them after chroot(ROOT);
 * with root "/" this is plain realpath().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "prereq_internal.h"

#define MAX_LINK_HOPS 40 /* the kernel's own limit */

int prereq_pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int prereq_host_path(const struct prereq_ctx *c, const char *path, char *out, size_t n)
{
	int len;

	if (path[0] != '/')
		return -EINVAL;
	/* root "/" keeps path as it is; otherwise ROOT + path ("/" alone: ROOT) */
	if (c->root[0])
		len = snprintf(out, n, "%s%s", c->root, strcmp(path, "/") ? path : "");
	else
		len = snprintf(out, n, "%s", path);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int prereq_resolve(const struct prereq_ctx *c, const char *path, char *out, size_t n)
{
	char done[PATH_MAX] = "", pending[PATH_MAX], next[PATH_MAX], host[PATH_MAX];
	char target[PATH_MAX];
	const char *p;
	int hops = 0;

	if (path[0] != '/')
		return -EINVAL;
	if (snprintf(pending, sizeof(pending), "%s", path) >= (int)sizeof(pending))
		return -ENAMETOOLONG;
	p = pending;
	for (;;) {
		const char *comp, *rest;
		size_t clen, dlen = strlen(done);
		struct stat st;
		ssize_t tlen;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		rest = strchrnul(p, '/');
		clen = (size_t)(rest - comp);
		if (clen == 1 && comp[0] == '.') {
			p = rest;
			continue;
		}
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			/* never above the root */
			char *slash = strrchr(done, '/');

			if (slash)
				*slash = '\0';
			p = rest;
			continue;
		}
		if (dlen + 1 + clen >= sizeof(done))
			return -ENAMETOOLONG;
		done[dlen] = '/';
		memcpy(done + dlen + 1, comp, clen);
		done[dlen + 1 + clen] = '\0';
		if (prereq_host_path(c, done, host, sizeof(host)))
			return -ENAMETOOLONG;
		if (lstat(host, &st))
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			if (*rest && !S_ISDIR(st.st_mode))
				return -ENOTDIR;
			p = rest;
			continue;
		}
		if (++hops > MAX_LINK_HOPS)
			return -ELOOP;
		tlen = readlink(host, target, sizeof(target) - 1);
		if (tlen < 0)
			return -errno;
		target[tlen] = '\0';
		/* the link's text replaces its own component; the rest follows it */
		done[dlen] = '\0';
		if (target[0] == '/')
			done[0] = '\0';
		if (snprintf(next, sizeof(next), "%s%s", target, rest) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		memcpy(pending, next, strlen(next) + 1);
		p = pending;
	}
	if (snprintf(out, n, "%s", done[0] ? done : "/") >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

int prereq_stat(const struct prereq_ctx *c, const char *path, struct stat *st)
{
	char real[PATH_MAX], host[PATH_MAX];
	int rc = prereq_resolve(c, path, real, sizeof(real));

	if (rc)
		return rc;
	rc = prereq_host_path(c, real, host, sizeof(host));
	if (rc)
		return rc;
	return stat(host, st) ? -errno : 0;
}

int prereq_lstat(const struct prereq_ctx *c, const char *path, struct stat *st)
{
	const char *name = strrchr(path, '/');
	char dir[PATH_MAX], real[PATH_MAX], full[PATH_MAX], host[PATH_MAX];
	int rc;

	if (!name || path[0] != '/')
		return -EINVAL;
	if ((size_t)(name - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(name - path));
	dir[name - path] = '\0';
	name++;
	rc = prereq_resolve(c, dir[0] ? dir : "/", real, sizeof(real));
	if (rc)
		return rc;
	if (snprintf(full, sizeof(full), "%s/%s", strcmp(real, "/") ? real : "", name) >=
	    (int)sizeof(full))
		return -ENAMETOOLONG;
	rc = prereq_host_path(c, full, host, sizeof(host));
	if (rc)
		return rc;
	return lstat(host, st) ? -errno : 0;
}

int prereq_is_executable(const struct prereq_ctx *c, const char *path)
{
	struct stat st;

	return !prereq_stat(c, path, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int prereq_read_file(const struct prereq_ctx *c, const char *path, char **out, size_t max)
{
	char real[PATH_MAX], host[PATH_MAX];
	int rc = prereq_resolve(c, path, real, sizeof(real));

	if (!rc)
		rc = prereq_host_path(c, real, host, sizeof(host));
	return rc ? rc : read_small_file(host, out, NULL, max);
}

int prereq_read_line(const struct prereq_ctx *c, const char *path, char *buf, size_t n)
{
	char *text = NULL;
	size_t len;
	int rc = prereq_read_file(c, path, &text, 64 * 1024);

	if (rc)
		return rc;
	len = strlen(text);
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	snprintf(buf, n, "%s", text);
	free(text);
	return 0;
}
