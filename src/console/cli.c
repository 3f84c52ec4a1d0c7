// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by the subcommands (cli.h); outside main.c so unit tests link them. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "util.h"

int bad_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = usage_verror(PROG, cmd, fmt, ap);
	va_end(ap);
	return rc;
}

int parse_seconds(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t ns;

	/* util's parse_duration stops at hours; tokens live for days. */
	if (n > 1 && s[n - 1] == 'd') {
		char *end;
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (errno || end != s + n - 1 || !(d > 0) || d > 36500)
			return -EINVAL;
		*out = (uint64_t)(d * 86400);
		return *out ? 0 : -EINVAL;
	}
	if (parse_duration(s, &ns) || ns < 1000000000u)
		return -EINVAL;
	*out = ns / 1000000000u;
	return 0;
}
