// SPDX-License-Identifier: GPL-2.0-or-later
/* Usage errors, worded alike in every program (usage.h). */
#include "usage.h"

#include <stdio.h>

int usage_verror(const char *prog, const char *cmd, const char *fmt, va_list ap)
{
	const char *sep = cmd ? " " : "";

	if (!cmd)
		cmd = "";
	fprintf(stderr, "%s%s%s: ", prog, sep, cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s%s%s --help' for more information.\n", prog, sep, cmd);
	return 2;
}

int usage_error(const char *prog, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = usage_verror(prog, cmd, fmt, ap);
	va_end(ap);
	return rc;
}
