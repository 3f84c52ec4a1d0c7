// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_files.h"

int gf_exists(struct conv *c, const char *path)
{
	return guestfs_exists(c->g, path) > 0 || guestfs_is_symlink(c->g, path) > 0;
}

int gf_is_file(struct conv *c, const char *path)
{
	return guestfs_is_file(c->g, path) > 0;
}

char *gf_read(struct conv *c, const char *path)
{
	size_t size;
	char *data, *text;

	if (!gf_is_file(c, path))
		return NULL;
	data = guestfs_read_file(c->g, path, &size);
	if (!data)
		return NULL;
	text = realloc(data, size + 1);
	if (!text) {
		free(data);
		return NULL;
	}
	text[size] = '\0';
	return text;
}

int gf_write(struct conv *c, const char *path, const char *text, int mode)
{
	if (guestfs_write(c->g, path, text, strlen(text)) < 0 || guestfs_chmod(c->g, mode, path) < 0)
		return conv_fail(c, -EIO, "cannot write %s in the copy: %s", path, guestfs_last_error(c->g));
	return 0;
}

int gf_set_aside(struct conv *c, const char *what, const char *path, const char *why)
{
	char dst[512];

	snprintf(dst, sizeof(dst), "%s.livemig-orig", path);
	if (guestfs_mv(c->g, path, dst) < 0)
		return conv_fail(c, -EIO, "cannot rename %s in the copy: %s", path, guestfs_last_error(c->g));
	conv_change(c, what, path, "set aside as %s: %s", dst, why);
	return 0;
}

int gf_remove(struct conv *c, const char *what, const char *path, const char *why)
{
	if (guestfs_rm_f(c->g, path) < 0)
		return conv_fail(c, -EIO, "cannot remove %s in the copy: %s", path, guestfs_last_error(c->g));
	conv_change(c, what, path, "removed: %s", why);
	return 0;
}

char **gf_glob(struct conv *c, const char *pattern)
{
	return guestfs_glob_expand(c->g, pattern);
}

void gf_free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}
