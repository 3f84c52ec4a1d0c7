// SPDX-License-Identifier: GPL-2.0-or-later
/* RBD disk names as the command line and the report spell them:
 * rbd:POOL/IMAGE[@SNAP]. Built with or without librbd. */
#include <errno.h>
#include <string.h>

#include "rbd_disk.h"

int rbd_spec(const char *spec)
{
	return spec && !strncmp(spec, RBD_PREFIX, strlen(RBD_PREFIX));
}

/* [A-Za-z0-9_.+-]: what staging's image and snapshot names use, and
 * nothing that QEMU's or libvirt's syntax gives a meaning (':', '@', '/',
 * quotes) */
static int part(char *out, size_t size, const char *s, size_t n)
{
	if (!n || n >= size || s[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-", s[i]) || !s[i])
			return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int rbd_name_parse(const char *spec, int want_snap, struct rbd_name *out)
{
	const char *s, *slash, *at;

	memset(out, 0, sizeof(*out));
	if (!rbd_spec(spec))
		return -EINVAL;
	s = spec + strlen(RBD_PREFIX);
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	at = strchr(slash + 1, '@');
	if (!!at != !!want_snap)
		return -EINVAL;
	if (part(out->pool, sizeof(out->pool), s, (size_t)(slash - s)) ||
	    part(out->image, sizeof(out->image), slash + 1, at ? (size_t)(at - slash - 1) : strlen(slash + 1)) ||
	    (at && part(out->snap, sizeof(out->snap), at + 1, strlen(at + 1))))
		return -EINVAL;
	return 0;
}
