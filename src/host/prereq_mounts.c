// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which mount covers a path, and with which options, from a mountinfo table
 * (proc(5)). mountinfo rather than /proc/mounts because it separates the
 * per-mount options (where noexec lives) from the superblock's (where a
 * filesystem forced read-only after errors says ro).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "prereq_internal.h"

/* Mount points escape space, tab, newline and backslash as \ooo. */
static void unescape(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < n; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[o++] = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
					  (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static int has_option(const char *opts, size_t len, const char *want)
{
	size_t wlen = strlen(want);
	const char *p = opts, *end = opts + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t olen = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (olen == wlen && !memcmp(p, want, wlen))
			return 1;
		p += olen + 1;
	}
	return 0;
}

static int covers(const char *point, const char *path)
{
	size_t plen = strlen(point);

	if (!strcmp(point, "/"))
		return 1;
	return !strncmp(path, point, plen) && (path[plen] == '\0' || path[plen] == '/');
}

/* Split the next blank-separated field of line[0..end). */
static const char *field(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	e = s;
	while (e < end && *e != ' ')
		e++;
	*p = e;
	*len = (size_t)(e - s);
	return *len ? s : NULL;
}

int prereq_mount_parse(const char *text, const char *path, struct prereq_mount *m)
{
	size_t best = 0;
	int found = 0;

	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n'), *p = line, *f[6], *fs = NULL,
			   *sopts = NULL;
		size_t l[6], fslen = 0, slen = 0, len;
		char point[PATH_MAX];
		int i;

		/* id parent maj:min root point options [optional...] - fstype source super */
		for (i = 0; i < 6; i++)
			if (!(f[i] = field(&p, eol, &l[i])))
				break;
		if (i == 6) {
			const char *g;

			while ((g = field(&p, eol, &len)) && !(len == 1 && g[0] == '-'))
				;
			if (g) {
				fs = field(&p, eol, &fslen);
				field(&p, eol, &len); /* source */
				sopts = field(&p, eol, &slen);
			}
		}
		if (i == 6 && fs) {
			unescape(f[4], l[4], point, sizeof(point));
			/* ">=": of two mounts on one point the later one is on top */
			if (covers(point, path) && strlen(point) >= best) {
				best = strlen(point);
				found = 1;
				snprintf(m->point, sizeof(m->point), "%s", point);
				snprintf(m->fstype, sizeof(m->fstype), "%.*s", (int)fslen, fs);
				m->readonly = has_option(f[5], l[5], "ro") ||
					      (sopts && has_option(sopts, slen, "ro"));
				m->noexec = has_option(f[5], l[5], "noexec");
			}
		}
		line = *eol ? eol + 1 : NULL;
	}
	return found ? 0 : -ENOENT;
}

int prereq_mount_of(const struct prereq_ctx *c, const char *path, struct prereq_mount *m)
{
	char host_path[PATH_MAX], *text = NULL;
	size_t rlen = strlen(c->root);
	int rc;

	memset(m, 0, sizeof(*m));
	/* the root's own table when it carries one (root "/": the real one) */
	rc = prereq_read_file(c, "/proc/self/mountinfo", &text, 4 << 20);
	if (!rc) {
		snprintf(m->table, sizeof(m->table), "/proc/self/mountinfo");
		rc = prereq_mount_parse(text, path, m);
		free(text);
		return rc;
	}
	/* otherwise ours, where the root's /tmp is ROOT/tmp */
	rc = read_small_file("/proc/self/mountinfo", &text, NULL, 4 << 20);
	if (rc)
		return rc;
	snprintf(m->table, sizeof(m->table), "the host's /proc/self/mountinfo");
	rc = prereq_host_path(c, path, host_path, sizeof(host_path));
	if (!rc)
		rc = prereq_mount_parse(text, host_path, m);
	free(text);
	if (rc || !rlen)
		return rc;
	/* report the mount point as seen inside the root */
	if (!strncmp(m->point, c->root, rlen) && (m->point[rlen] == '/' || !m->point[rlen]))
		memmove(m->point, m->point + rlen, strlen(m->point + rlen) + 1);
	else
		snprintf(m->point, sizeof(m->point), "/");
	if (!m->point[0])
		snprintf(m->point, sizeof(m->point), "/");
	return 0;
}
