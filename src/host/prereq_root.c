// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every check needs to know about the system under the root: where it
 * is on the host, which distribution family names the remedies, and which
 * kernel is running.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "os_release.h"
#include "prereq_internal.h"

static enum prereq_family family_of_word(const char *w)
{
	static const char *const debian[] = { "debian", "ubuntu", NULL };
	static const char *const rhel[] = { "rhel", "centos", "fedora", "ol", "rocky",
					    "almalinux", "alma", "amzn", NULL };
	const char *const *p;

	for (p = debian; *p; p++)
		if (!strcmp(w, *p))
			return FAMILY_DEBIAN;
	for (p = rhel; *p; p++)
		if (!strcmp(w, *p))
			return FAMILY_RHEL;
	/* "suse", "sles", "sled", "opensuse", "opensuse-leap", "opensuse-tumbleweed" */
	if (!strcmp(w, "suse") || !strncmp(w, "sle", 3) || !strncmp(w, "opensuse", 8))
		return FAMILY_SUSE;
	return FAMILY_UNKNOWN;
}

enum prereq_family prereq_family_from_os_release(const char *text)
{
	char id[64], like[1024], *save = NULL, *w;
	enum prereq_family f;

	/* a key absent or malformed names no family */
	os_release_value(text, "ID", id, sizeof(id));
	for (char *p = id; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	f = family_of_word(id);
	if (f != FAMILY_UNKNOWN)
		return f;
	/* a derivative names its parents in ID_LIKE, closest first */
	os_release_value(text, "ID_LIKE", like, sizeof(like));
	for (w = strtok_r(like, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		for (char *p = w; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		f = family_of_word(w);
		if (f != FAMILY_UNKNOWN)
			return f;
	}
	return FAMILY_UNKNOWN;
}

static enum prereq_family read_family(const struct prereq_ctx *c)
{
	/* the os-release(5) search order */
	static const char *const where[] = { OS_RELEASE_ETC, OS_RELEASE_USR };
	enum prereq_family f = FAMILY_UNKNOWN;

	for (size_t i = 0; i < 2; i++) {
		char *text = NULL;

		if (prereq_read_file(c, where[i], &text, 64 * 1024))
			continue;
		f = prereq_family_from_os_release(text);
		free(text);
		return f;
	}
	return f;
}

int prereq_ctx_init(struct prereq_ctx *c, const char *root)
{
	char real[PATH_MAX];
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (!realpath(root, real))
		return -errno;
	if (stat(real, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	c->is_host = !strcmp(real, "/");
	/* "" for "/", so that root + "/etc" never has a double slash */
	if (!c->is_host)
		snprintf(c->root, sizeof(c->root), "%s", real);
	c->family = read_family(c);

	/*
	 * An image under --root carries its own kernel release in
	 * proc/sys/kernel/osrelease only if someone put it there (a test, a
	 * bind-mounted /proc); otherwise the kernel is the one running here.
	 */
	if (prereq_read_line(c, "/proc/sys/kernel/osrelease", c->kver, sizeof(c->kver)) ||
	    !c->kver[0]) {
		struct utsname u;

		if (uname(&u))
			return -errno;
		snprintf(c->kver, sizeof(c->kver), "%s", u.release);
	}
	return 0;
}
