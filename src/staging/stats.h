/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counters the staging server keeps for its metrics (metrics_http.c,
 * docs/metrics.md): lock-free, updated where the work happens, read at a
 * scrape. Since the program started; Prometheus computes rates.
 */
#ifndef LIVEMIG_STAGING_STATS_H
#define LIVEMIG_STAGING_STATS_H

#include <stdint.h>
#include <stdio.h>

/* Upper bounds of the fsync latency histogram's buckets, in seconds. */
#define STATS_FSYNC_BUCKETS 10

/* One fdatasync of an image (or a point's delta) took ns. */
void stats_fsync(uint64_t ns);
/* bytes of replica data written into the images (DATA frames) */
void stats_written(uint64_t bytes);
/* bytes of the images made zero (ZERO frames: holes punched, nothing sent) */
void stats_zeroed(uint64_t bytes);
/* connections refused before or during the handshake */
void stats_refused(void);

/* The counters in Prometheus' text format. */
void stats_print(FILE *f);

#endif
