// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig point: ask livemigd for a recovery point now and wait until staging
 * made it durable; prints its id. */
#include <stdio.h>

#include "control_wait.h"
#include "fmt.h"
#include "subcommands.h"

#define POINT_DEFAULT_S 600
#define POINT_MAX_S     86400

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s point [--timeout SECONDS]\n\n"
		   "Makes a recovery point now, while the source keeps running (file systems\n"
		   "frozen for a moment; needs the kmod tracker), waits until it is durable on\n"
		   "staging and prints its id and time. A point put off (freeze_max,\n"
		   "freeze_buffer) is tried again; `livemig status` says why.\n\n"
		   "  --timeout SECONDS  give up after this long (default %d; 90s, 10m, 1h work)\n",
		prog, POINT_DEFAULT_S);
}

int point_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct control_wait w = {
		.name = "point",
		.default_s = POINT_DEFAULT_S,
		.max_s = POINT_MAX_S,
		.waiting = "making a recovery point",
		.usage = usage,
	};
	json_t *reply, *id, *ns;
	char when[64];
	int rc;

	rc = control_wait_run(g, &w, argc, argv, &reply);
	if (rc != CLI_OK || !reply)
		return rc;
	id = json_object_get(reply, "point_id");
	ns = json_object_get(reply, "consistent_ns");
	if (!json_is_integer(id) || !json_is_integer(ns)) {
		fprintf(stderr, "%s: livemigd's point reply has no point_id\n", g->prog);
		json_decref(reply);
		return CLI_DAEMON_ERROR;
	}
	printf("point %lld, consistent as of %s\n", (long long)json_integer_value(id),
	       fmt_time_iso((uint64_t)json_integer_value(ns), when, sizeof(when)));
	json_decref(reply);
	return CLI_OK;
}
