/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which recovery points a retention policy keeps. A pure function of the
 * points' times, their pins and "now", so that it can be tested with an
 * injected clock over simulated days.
 */
#ifndef LIVEMIG_STAGING_RETENTION_H
#define LIVEMIG_STAGING_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_HOUR (UINT64_C(3600) * 1000000000u)
#define NS_PER_DAY  (24 * NS_PER_HOUR)

struct retention_policy {
	uint64_t keep_all_ns; /* every point younger than this (default 1 h) */
	unsigned hourly;      /* the oldest point of each of the last N hours (24) */
	unsigned daily;       /* the oldest point of each of the last N days (7) */
};

#define RETENTION_DEFAULT { NS_PER_HOUR, 24, 7 }

struct retention_point {
	uint64_t time_ns;
	int pinned;
	int keep; /* out */
};

/*
 * Set keep on each of the n points (any order): pinned points, the newest
 * point, every point younger than keep_all, and the oldest point of each
 * UTC hour (of the last `hourly` hours) and of each UTC day (of the last
 * `daily` days). The oldest of a bucket is chosen so that the choice never
 * changes as newer points arrive. Returns how many are kept.
 */
size_t retention_select(struct retention_point *p, size_t n, uint64_t now_ns,
			const struct retention_policy *pol);

#endif
