// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The distribution, from os-release(5): KEY=value lines, values optionally
 * in double quotes (with \" \\ \$ \` escapes) or single quotes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inventory_internal.h"

/* Unquote value in place; 0, or -EINVAL for an unterminated quote. */
static int unquote(char *v)
{
	char q = v[0], *w = v, *r = v + 1;

	if (q != '"' && q != '\'') {
		/* unquoted: the spec allows no spaces or specials; take it as is */
		v[strcspn(v, " \t")] = '\0';
		return 0;
	}
	for (; *r && *r != q; r++) {
		if (q == '"' && *r == '\\' && r[1] && strchr("\"\\$`", r[1]))
			r++;
		*w++ = *r;
	}
	if (*r != q)
		return -EINVAL;
	*w = '\0';
	return 0;
}

static const struct {
	const char *key, *field;
} keys[] = {
	{ "NAME", "name" },
	{ "VERSION", "version" },
	{ "VERSION_ID", "version_id" },
	{ "PRETTY_NAME", "pretty_name" },
	{ "ID", "id" },
	{ "ID_LIKE", "id_like" },
};

int inv_os(json_t *doc, json_t *warnings, const char *path)
{
	json_t *os = json_object();
	char line[1024];
	FILE *f;

	if (!os)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_set_new(os, keys[i].field, json_null()))
			goto nomem;
	if (path) {
		f = fopen(path, "re");
	} else {
		/* os-release(5): /etc first, /usr/lib when /etc has none */
		path = "/etc/os-release";
		f = fopen(path, "re");
		if (!f && errno == ENOENT)
			f = fopen(path = "/usr/lib/os-release", "re");
	}
	if (!f) {
		inv_warn(warnings, "os: %s: %s", path, strerror(errno));
		goto done;
	}
	json_object_set_new(os, "source", json_string(path));
	while (fgets(line, sizeof(line), f)) {
		char *eq, *v;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		v = eq + 1;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(line, keys[i].key))
				continue;
			if (unquote(v)) {
				inv_warn(warnings, "os: %s: unterminated quote in %s", path, line);
				break;
			}
			if (json_object_set_new(os, keys[i].field, json_string(v))) {
				fclose(f);
				goto nomem;
			}
		}
	}
	fclose(f);
done:
	return json_object_set_new(doc, "os", os) ? -ENOMEM : 0;
nomem:
	json_decref(os);
	return -ENOMEM;
}
