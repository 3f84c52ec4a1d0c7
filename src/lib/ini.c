// SPDX-License-Identifier: GPL-2.0-or-later
#include "ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* "value   # why" -> "value": a '#' after a blank starts a comment, so that
 * URLs with fragments ("http://h/#x") keep their '#'. */
static void strip_inline_comment(char *v)
{
	for (char *p = v; *p; p++)
		if (*p == '#' && p > v && isspace((unsigned char)p[-1])) {
			*p = '\0';
			return;
		}
}

int ini_parse_string(const char *text, ini_section_handler on_section, ini_handler on_key,
		     void *ctx, char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *save = NULL;
	char section[64] = "";
	char msg[256];
	int lineno = 0, rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* strtok_r would skip empty lines and lose the line count: walk by hand */
	for (line = copy; line && !rc; line = save) {
		char *nl = strchr(line, '\n'), *s, *eq;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		s = trim(line);
		msg[0] = '\0';
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		strip_inline_comment(s);
		s = trim(s);
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (!close || close[1] != '\0' || close == s + 1 ||
			    (size_t)(close - s - 1) >= sizeof(section)) {
				snprintf(err, errlen, "%d: malformed section header", lineno);
				rc = -1;
				break;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			if (on_section && on_section(ctx, section, msg, sizeof(msg))) {
				snprintf(err, errlen, "%d: %s", lineno, msg);
				rc = -1;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%d: expected 'key = value'", lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (!*trim(s)) {
			snprintf(err, errlen, "%d: missing key before '='", lineno);
			rc = -1;
			break;
		}
		if (on_key(ctx, section, trim(s), trim(eq + 1), msg, sizeof(msg))) {
			snprintf(err, errlen, "%d: %s", lineno, msg);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

int ini_parse_file(const char *path, ini_section_handler on_section, ini_handler on_key,
		   void *ctx, char *err, size_t errlen)
{
	char *text, inner[512];
	int rc = read_small_file(path, &text, NULL, 1 << 20);

	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return -1;
	}
	rc = ini_parse_string(text, on_section, on_key, ctx, inner, sizeof(inner));
	free(text);
	if (rc)
		snprintf(err, errlen, "%s:%s", path, inner);
	return rc;
}
