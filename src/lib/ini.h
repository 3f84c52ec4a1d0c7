/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file syntax (docs/configuration.md): `[section]` headers,
 * `key = value` lines, `#` comments (whole lines, or after a blank following
 * a value), blank lines. Values have surrounding blanks removed.
 */
#ifndef LIVEMIG_INI_H
#define LIVEMIG_INI_H

#include <stddef.h>

/* Called per key; return 0, or -1 after writing a message into err. */
typedef int (*ini_handler)(void *ctx, const char *section, const char *key, const char *value,
			   char *err, size_t errlen);
/* Called at each section header (also for a repeated one) so a handler can
 * start a new record; may be NULL. */
typedef int (*ini_section_handler)(void *ctx, const char *section, char *err, size_t errlen);

/* Parse text. 0, or -1 with "LINE: message" in err. */
int ini_parse_string(const char *text, ini_section_handler on_section, ini_handler on_key,
		     void *ctx, char *err, size_t errlen);
/* Parse a file. 0, or -1 with "PATH:LINE: message" in err. */
int ini_parse_file(const char *path, ini_section_handler on_section, ini_handler on_key,
		   void *ctx, char *err, size_t errlen);

#endif
