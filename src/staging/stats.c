// SPDX-License-Identifier: GPL-2.0-or-later
/* Staging's counters (stats.h). */
#include "stats.h"

#include <stdatomic.h>

static const double bucket_le[STATS_FSYNC_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};

static struct {
	_Atomic uint64_t fsync_bucket[STATS_FSYNC_BUCKETS]; /* not cumulative */
	_Atomic uint64_t fsync_count;
	_Atomic uint64_t fsync_ns;
	_Atomic uint64_t written;
	_Atomic uint64_t zeroed;
	_Atomic uint64_t refused;
} S;

void stats_fsync(uint64_t ns)
{
	double s = (double)ns / 1e9;

	for (unsigned i = 0; i < STATS_FSYNC_BUCKETS; i++)
		if (s <= bucket_le[i]) {
			atomic_fetch_add_explicit(&S.fsync_bucket[i], 1, memory_order_relaxed);
			break;
		}
	atomic_fetch_add_explicit(&S.fsync_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&S.fsync_count, 1, memory_order_relaxed);
}

void stats_written(uint64_t bytes)
{
	atomic_fetch_add_explicit(&S.written, bytes, memory_order_relaxed);
}

void stats_zeroed(uint64_t bytes)
{
	atomic_fetch_add_explicit(&S.zeroed, bytes, memory_order_relaxed);
}

void stats_refused(void)
{
	atomic_fetch_add_explicit(&S.refused, 1, memory_order_relaxed);
}

void stats_print(FILE *f)
{
	/* An fsync enters its bucket before the count, and the count is read
	 * first: every fsync counted is in the buckets read after, and one that
	 * raced the scrape may show in a bucket only; clamping to the count keeps
	 * the buckets cumulative and within the +Inf bucket (the count). */
	uint64_t count = atomic_load(&S.fsync_count), sum_ns = atomic_load(&S.fsync_ns), cum = 0;

	fputs("# HELP livemig_staging_fsync_seconds Time one fdatasync of an image took.\n"
	      "# TYPE livemig_staging_fsync_seconds histogram\n", f);
	for (unsigned i = 0; i < STATS_FSYNC_BUCKETS; i++) {
		cum += atomic_load(&S.fsync_bucket[i]);
		if (cum > count)
			cum = count;
		fprintf(f, "livemig_staging_fsync_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i],
			(unsigned long long)cum);
	}
	fprintf(f, "livemig_staging_fsync_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "livemig_staging_fsync_seconds_sum %.9f\n"
		   "livemig_staging_fsync_seconds_count %llu\n",
		(unsigned long long)count, (double)sum_ns / 1e9, (unsigned long long)count);
	fprintf(f, "# HELP livemig_staging_written_bytes_total Replica bytes written into images.\n"
		   "# TYPE livemig_staging_written_bytes_total counter\n"
		   "livemig_staging_written_bytes_total %llu\n",
		(unsigned long long)atomic_load(&S.written));
	fprintf(f, "# HELP livemig_staging_zeroed_bytes_total Image bytes made zero (ZERO frames).\n"
		   "# TYPE livemig_staging_zeroed_bytes_total counter\n"
		   "livemig_staging_zeroed_bytes_total %llu\n",
		(unsigned long long)atomic_load(&S.zeroed));
	fprintf(f, "# HELP livemig_staging_refused_connections_total Connections refused before "
		   "their session began.\n"
		   "# TYPE livemig_staging_refused_connections_total counter\n"
		   "livemig_staging_refused_connections_total %llu\n",
		(unsigned long long)atomic_load(&S.refused));
}
