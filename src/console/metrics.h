/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's metrics in Prometheus' text exposition format (version
 * 0.0.4), made from the same operator views the API answers with, so a
 * number on the page and in Prometheus cannot disagree. The names and
 * their meaning are in docs/metrics.md.
 */
#ifndef LIVEMIG_CONSOLE_METRICS_H
#define LIVEMIG_CONSOLE_METRICS_H

#include <stdint.h>

#include <jansson.h>

struct metrics_input {
	const char *account;
	int64_t licenses_total;
	int64_t licenses_in_use;
	const json_t *machines; /* machines_list_json() */
	const json_t *newest_points; /* points_newest_json() */
	int64_t now_ns;         /* the points' age is measured from here */
};

/* The text (malloc'd, NUL-terminated) or NULL when out of memory. Label
 * values are machine ids and state names, which the console keeps to
 * [A-Za-z0-9_.-]; anything else is escaped as the format asks. */
char *metrics_console_text(const struct metrics_input *in);

#endif
