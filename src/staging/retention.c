// SPDX-License-Identifier: GPL-2.0-or-later
#include "retention.h"

/* Keep the oldest point of each bucket of `width` ns (counted from the Unix
 * epoch, so UTC hours and days) among the points younger than count
 * buckets. */
static void keep_oldest_per_bucket(struct retention_point *p, size_t n, uint64_t now_ns,
				   uint64_t width, unsigned count)
{
	uint64_t span = (uint64_t)count * width;
	uint64_t horizon = now_ns > span ? now_ns - span : 0;

	for (size_t i = 0; i < n && count; i++) {
		int oldest = p[i].time_ns >= horizon;

		for (size_t j = 0; j < n && oldest; j++)
			if (j != i && p[j].time_ns >= horizon &&
			    p[j].time_ns / width == p[i].time_ns / width &&
			    (p[j].time_ns < p[i].time_ns || (p[j].time_ns == p[i].time_ns && j < i)))
				oldest = 0;
		if (oldest)
			p[i].keep = 1;
	}
}

size_t retention_select(struct retention_point *p, size_t n, uint64_t now_ns,
			const struct retention_policy *pol)
{
	size_t newest = 0, kept = 0;

	for (size_t i = 0; i < n; i++) {
		p[i].keep = p[i].pinned || p[i].time_ns + pol->keep_all_ns > now_ns;
		if (p[i].time_ns > p[newest].time_ns)
			newest = i;
	}
	if (n)
		p[newest].keep = 1;
	keep_oldest_per_bucket(p, n, now_ns, NS_PER_HOUR, pol->hourly);
	keep_oldest_per_bucket(p, n, now_ns, NS_PER_DAY, pol->daily);
	for (size_t i = 0; i < n; i++)
		kept += p[i].keep;
	return kept;
}
