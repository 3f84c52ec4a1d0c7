// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysfs_attr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

int attr_read(const char *path, char *buf, size_t len)
{
	char *text;
	size_t n;
	int rc;

	if (len == 0)
		return -EINVAL;
	rc = read_small_file(path, &text, &n, len - 1);
	if (rc)
		return rc == -EFBIG ? -EOVERFLOW : rc;
	memcpy(buf, text, n + 1);
	free(text);
	/* some attributes (virtio's serial) are raw fixed-width fields that may
	 * contain NULs: the value ends at the first one */
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return 0;
}

int attr_readf(char *buf, size_t len, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return attr_read(path, buf, len);
}

int attr_read_u64(const char *path, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long v;
	int rc = attr_read(path, buf, sizeof(buf));

	if (rc)
		return rc;
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

void attr_clean(char *s)
{
	size_t i, start = 0, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	while (start < n && s[start] == ' ')
		start++;
	while (n > start && s[n - 1] == ' ')
		n--;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
}
