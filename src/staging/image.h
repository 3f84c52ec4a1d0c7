/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One sparse volume image: creating, opening, writing, zeroing and syncing
 * it. Callers check ranges and ownership; these only make the write safe
 * against a full store.
 */
#ifndef LIVEMIG_STAGING_IMAGE_H
#define LIVEMIG_STAGING_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* A new image: sparse, exactly size bytes. Any file left at path by a crash
 * before the manifest named it never held acknowledged data, so it is
 * emptied first. 0 or -errno. */
int image_create(const char *path, uint64_t size);
/* Open an existing image read-write and check its size: the descriptor, or
 * -errno with a message in err (-EUCLEAN for a wrong size). */
int image_open(const char *path, uint64_t size, char *err, size_t errlen);

/* Reserve the space, then write. -ENOSPC means nothing of buf was written
 * (where the filesystem can reserve space). 0 or -errno. */
int image_write(int fd, const void *buf, size_t len, uint64_t off);
/* Make [off, off+len) read as zeros, freeing the space where possible. */
int image_zero(int fd, uint64_t off, uint64_t len);
/* Make every completed write durable. 0 or -errno. */
int image_sync(int fd);

#endif
