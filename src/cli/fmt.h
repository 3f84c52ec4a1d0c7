/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Human-readable times, durations and rates for livemig's output. */
#ifndef LIVEMIG_CLI_FMT_H
#define LIVEMIG_CLI_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Unix nanoseconds -> "2024-05-01T12:00:00.123Z" (ISO 8601, UTC). */
const char *fmt_time_iso(uint64_t ns, char *buf, size_t len);
/* Seconds -> "850ms", "42s", "3m04s", "2h05m", "3d04h". */
const char *fmt_duration(double seconds, char *buf, size_t len);
/* Bytes per second -> "1.2 MiB/s". */
const char *fmt_rate(double bps, char *buf, size_t len);

#endif
