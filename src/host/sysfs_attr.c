// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysfs_attr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int attr_read(const char *path, char *buf, size_t len)
{
	size_t n = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sysfs hands over the whole value in one read; regular files (fake
	 * trees) may need several, so read to end of file either way */
	for (;;) {
		char extra;
		ssize_t r = n < len - 1 ? read(fd, buf + n, len - 1 - n) : read(fd, &extra, 1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		if (n == len - 1) {
			close(fd);
			return -EOVERFLOW;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
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
