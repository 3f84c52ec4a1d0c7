/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes into one sparse volume image. Callers check ranges and ownership;
 * these only make the write safe against a full store.
 */
#ifndef LIVEMIG_STAGING_IMAGE_H
#define LIVEMIG_STAGING_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Reserve the space, then write. -ENOSPC means nothing of buf was written
 * (where the filesystem can reserve space). 0 or -errno. */
int image_write(int fd, const void *buf, size_t len, uint64_t off);
/* Make [off, off+len) read as zeros, freeing the space where possible. */
int image_zero(int fd, uint64_t off, uint64_t len);
/* Make every completed write durable. 0 or -errno. */
int image_sync(int fd);

#endif
