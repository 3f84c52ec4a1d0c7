/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LIVEMIG_ATOMIC_FILE_H
#define LIVEMIG_ATOMIC_FILE_H

#include <stddef.h>

/*
 * Replace path with data so that after a crash at any moment the file holds
 * either the old or the new content in full: write a temporary file in the
 * same directory, fsync it, rename it over path, fsync the directory.
 * Returns 0 or -errno.
 */
int atomic_write_file(const char *path, const void *data, size_t len, unsigned mode);

/*
 * Read a whole (small) file into a NUL-terminated malloc'd buffer, to end of
 * file whatever its st_size says (/proc, sysfs): the one file reader. *len
 * (when len is not NULL) gets the byte count, which may include NULs.
 * 0; -EFBIG when the file holds more than max bytes; -ENOMEM; other -errno.
 */
int read_small_file(const char *path, char **out, size_t *len, size_t max);

#endif
