// SPDX-License-Identifier: GPL-2.0-or-later
#include "check_tracker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"

struct found {
	char *out;
	size_t n;
};

/* Only [agent] tracker matters here; livemigd validates the rest. */
static int on_key(void *ctx, const char *section, const char *key, const char *value,
		  char *err, size_t errlen)
{
	struct found *f = ctx;

	(void)err;
	(void)errlen;
	if (!strcmp(section, "agent") && !strcmp(key, "tracker"))
		snprintf(f->out, f->n, "%s", value);
	return 0;
}

int check_tracker_from_config(const char *path, char *out, size_t n, char *err, size_t errlen)
{
	struct found f = { out, n };

	if (access(path, F_OK) && errno == ENOENT)
		return -ENOENT;
	snprintf(out, n, "scan"); /* livemigd's default */
	if (ini_parse_file(path, NULL, on_key, &f, err, errlen))
		return -EINVAL;
	return 0;
}
