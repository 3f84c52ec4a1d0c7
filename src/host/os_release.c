// SPDX-License-Identifier: GPL-2.0-or-later
#include "os_release.h"

#include <errno.h>
#include <string.h>

/* Unquote the value v (vlen bytes, one line) into out. 0 or -errno. */
static int unquote(const char *v, size_t vlen, char *out, size_t outlen)
{
	char q = vlen ? v[0] : '\0';
	int quoted = q == '"' || q == '\'';
	size_t i = quoted, n = 0;

	if (!quoted)
		/* the spec allows no blanks in a bare value: it ends at one */
		for (size_t end = 0; end < vlen; end++)
			if (v[end] == ' ' || v[end] == '\t') {
				vlen = end;
				break;
			}
	for (; i < vlen && !(quoted && v[i] == q); i++) {
		char c = v[i];

		if (q == '"' && c == '\\' && i + 1 < vlen && strchr("\"\\$`", v[i + 1]))
			c = v[++i];
		if (n + 1 >= outlen)
			return -EOVERFLOW;
		out[n++] = c;
	}
	if (quoted && i >= vlen)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

int os_release_value(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	int rc = -ENOENT;

	if (!outlen)
		return -EOVERFLOW;
	out[0] = '\0';
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len && p[len - 1] == '\r')
			len--;
		if (p[0] != '#' && len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			rc = unquote(p + klen + 1, len - klen - 1, out, outlen);
			if (rc)
				out[0] = '\0';
		}
		p = eol ? eol + 1 : NULL;
	}
	return rc;
}
