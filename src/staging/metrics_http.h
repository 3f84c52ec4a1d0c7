/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET /metrics over plain HTTP on its own address (--metrics HOST:PORT),
 * for Prometheus: store space, sessions, fsync latency and bytes written
 * (docs/metrics.md). libmicrohttpd, one internal thread; nothing but
 * GET /metrics is answered. It shows no machine names, only totals.
 */
#ifndef LIVEMIG_STAGING_METRICS_HTTP_H
#define LIVEMIG_STAGING_METRICS_HTTP_H

#include <stddef.h>

/* Listen on fd (bound and listening) and answer from the store at
 * store_dir. 0 or -errno with a message in err. */
int metrics_http_start(int fd, const char *store_dir, char *err, size_t errlen);
void metrics_http_stop(void);

/* The text of one scrape (malloc'd), or NULL when out of memory. */
char *metrics_staging_text(const char *store_dir);

#endif
