/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LIVEMIG_USAGE_H
#define LIVEMIG_USAGE_H

#include <stdarg.h>

/*
 * A command line the program cannot use: "PROG[ CMD]: message" and where to
 * read more, "Try 'PROG[ CMD] --help' ...", on stderr. cmd may be NULL.
 * Returns 2, the exit status of a usage error in every livemig program.
 */
int usage_error(const char *prog, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int usage_verror(const char *prog, const char *cmd, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
