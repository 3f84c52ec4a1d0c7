/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An HTTP answer's body gathered in memory, bounded: libcurl's write
 * callback for the clients of the console (agent heartbeats, staging
 * syncs). A body over the bound ends the transfer rather than growing
 * without limit on a peer's say-so.
 */
#ifndef LIVEMIG_REPLY_BUF_H
#define LIVEMIG_REPLY_BUF_H

#include <stddef.h>

struct reply_buf {
	char *data;  /* NUL-terminated; NULL until the first byte; free() it */
	size_t len;
	size_t max;  /* the most this answer may hold */
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a struct reply_buf: the
 * bytes taken, or 0 (libcurl then fails with CURLE_WRITE_ERROR) past max or
 * out of memory. */
size_t reply_buf_write(char *data, size_t size, size_t n, void *buf);

#endif
