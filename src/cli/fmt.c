// SPDX-License-Identifier: GPL-2.0-or-later
#include "fmt.h"

#include <stdio.h>
#include <time.h>

#include "util.h"

const char *fmt_time_iso(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000u);
	char day[32];
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "@%llu ns", (unsigned long long)ns);
	else
		snprintf(buf, len, "%s.%03uZ", day, (unsigned)(ns / 1000000u % 1000u));
	return buf;
}

const char *fmt_duration(double seconds, char *buf, size_t len)
{
	unsigned long long s;

	if (!(seconds >= 0)) /* also NaN */
		seconds = 0;
	if (seconds < 1) {
		snprintf(buf, len, "%.0fms", seconds * 1000);
		return buf;
	}
	if (seconds < 10) {
		snprintf(buf, len, "%.1fs", seconds);
		return buf;
	}
	s = (unsigned long long)(seconds + 0.5);
	if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%llud%02lluh", s / 86400, s % 86400 / 3600);
	return buf;
}

const char *fmt_rate(double bps, char *buf, size_t len)
{
	char b[32];

	if (!(bps >= 0))
		bps = 0;
	if (bps > 1e18) /* keeps the conversion to an integer defined */
		bps = 1e18;
	/* fmt_bytes() takes whole bytes; below 1 B/s that rounds to "0 B/s", fine */
	snprintf(buf, len, "%s/s", fmt_bytes((uint64_t)(bps + 0.5), b, sizeof(b)));
	return buf;
}
