/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small attribute files of sysfs and procfs (and of the fake trees tests
 * build in their place): one value, read whole, trailing newline dropped.
 */
#ifndef LIVEMIG_SYSFS_ATTR_H
#define LIVEMIG_SYSFS_ATTR_H

#include <stddef.h>
#include <stdint.h>

/* Read the file into buf (NUL-terminated, trailing whitespace removed).
 * 0, or -errno: -ENOENT when absent, -EACCES when unreadable (DMI serials
 * for non-root), -EOVERFLOW when the content does not fit in len - 1. */
int attr_read(const char *path, char *buf, size_t len);
/* The same with a printf-built path. */
int attr_readf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A decimal unsigned value, e.g. a block device's "size". 0 or -errno. */
int attr_read_u64(const char *path, uint64_t *out);

/* Replace bytes outside printable ASCII with '?' and trim spaces at both
 * ends, in place: vendors pad model and serial strings with spaces or NULs. */
void attr_clean(char *s);

#endif
