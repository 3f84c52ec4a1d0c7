// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig sync: ask for a consistent point and wait for it (the final sync
 * before cutover). */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "control_client.h"
#include "fmt.h"
#include "subcommands.h"
#include "util.h"

#define SYNC_DEFAULT_S 600
#define SYNC_MAX_S     86400
/* The daemon enforces the timeout and says so; wait a little longer for that
 * reply so the operator gets its message rather than a bare client timeout. */
#define REPLY_MARGIN_MS 10000

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
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout_ns = (uint64_t)SYNC_DEFAULT_S * 1000000000u;
	unsigned timeout_s;
	json_t *req, *reply = NULL, *ns;
	char when[64];
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout_ns) < 0 || timeout_ns < 1000000000u ||
			    timeout_ns > (uint64_t)SYNC_MAX_S * 1000000000u) {
				fprintf(stderr,
					"%s sync: --timeout must be 1..%d seconds, not '%s'\n",
					g->prog, SYNC_MAX_S, optarg);
				return CLI_USAGE;
			}
			break;
		case 'h':
			usage(stdout, g->prog);
			return CLI_OK;
		default:
			usage(stderr, g->prog);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s sync: unexpected argument '%s'\n", g->prog, argv[optind]);
		usage(stderr, g->prog);
		return CLI_USAGE;
	}

	timeout_s = (unsigned)((timeout_ns + 999999999u) / 1000000000u); /* whole seconds, up */
	if (isatty(2))
		fprintf(stderr, "waiting for a consistent point (up to %u s)...\n", timeout_s);
	req = json_pack("{s:s,s:I}", "cmd", "sync", "timeout_s", (json_int_t)timeout_s);
	rc = control_run(g, req, (int)timeout_s * 1000 + REPLY_MARGIN_MS, &reply);
	json_decref(req);
	if (rc != CLI_OK)
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
