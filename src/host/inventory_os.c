// SPDX-License-Identifier: GPL-2.0-or-later
/* The distribution, from os-release(5) (os_release.h parses it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "inventory_internal.h"
#include "os_release.h"

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
	char value[1024], *text = NULL;
	int rc;

	if (!os)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_set_new(os, keys[i].field, json_null()))
			goto nomem;
	if (path) {
		rc = read_small_file(path, &text, NULL, 64 * 1024);
	} else {
		rc = read_small_file(path = OS_RELEASE_ETC, &text, NULL, 64 * 1024);
		if (rc == -ENOENT)
			rc = read_small_file(path = OS_RELEASE_USR, &text, NULL, 64 * 1024);
	}
	if (rc) {
		inv_warn(warnings, "os: %s: %s", path, strerror(-rc));
		goto done;
	}
	json_object_set_new(os, "source", json_string(path));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rc = os_release_value(text, keys[i].key, value, sizeof(value));
		if (rc == -EINVAL)
			inv_warn(warnings, "os: %s: unterminated quote in %s", path, keys[i].key);
		else if (rc == -EOVERFLOW)
			inv_warn(warnings, "os: %s: %s is longer than %zu bytes", path, keys[i].key,
				 sizeof(value) - 1);
		if (rc)
			continue;
		if (json_object_set_new(os, keys[i].field, json_string(value))) {
			free(text);
			goto nomem;
		}
	}
	free(text);
done:
	return json_object_set_new(doc, "os", os) ? -ENOMEM : 0;
nomem:
	json_decref(os);
	return -ENOMEM;
}
