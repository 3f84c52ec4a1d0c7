// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig sync: ask for a consistent point and wait for it (the final sync
 * before cutover). */
#include <stdio.h>

#include "control_wait.h"
#include "fmt.h"
#include "subcommands.h"

#define SYNC_DEFAULT_S 600
#define SYNC_MAX_S     86400

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s sync [--timeout SECONDS]\n\n"
		   "Waits until one change-copy round that starts after this call is durable on\n"
		   "staging, then prints the time the replica is consistent with.\n\n"
		   "  --timeout SECONDS  give up after this long (default %d; 90s, 10m, 1h work)\n",
		prog, SYNC_DEFAULT_S);
}

int sync_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct control_wait w = {
		.name = "sync",
		.default_s = SYNC_DEFAULT_S,
		.max_s = SYNC_MAX_S,
		.waiting = "waiting for a consistent point",
		.usage = usage,
	};
	json_t *reply, *ns;
	char when[64];
	int rc;

	rc = control_wait_run(g, &w, argc, argv, &reply);
	if (rc != CLI_OK || !reply)
		return rc;
	ns = json_object_get(reply, "consistent_ns");
	if (!json_is_integer(ns) || json_integer_value(ns) <= 0) {
		fprintf(stderr, "%s: livemigd's sync reply has no consistent_ns\n", g->who);
		json_decref(reply);
		return CLI_DAEMON_ERROR;
	}
	printf("replica consistent as of %s\n",
	       fmt_time_iso((uint64_t)json_integer_value(ns), when, sizeof(when)));
	json_decref(reply);
	return CLI_OK;
}
