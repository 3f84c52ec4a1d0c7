// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig point: ask livemigd for a recovery point now and wait until staging
 * made it durable; prints its id. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "control_client.h"
#include "fmt.h"
#include "subcommands.h"
#include "util.h"

#define POINT_DEFAULT_S 600
#define POINT_MAX_S     86400
/* the daemon enforces the timeout and says so: wait a little longer for that */
#define REPLY_MARGIN_MS 10000

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
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout_ns = (uint64_t)POINT_DEFAULT_S * 1000000000u;
	unsigned timeout_s;
	json_t *req, *reply = NULL, *id, *ns;
	char when[64];
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout_ns) < 0 || timeout_ns < 1000000000u ||
			    timeout_ns > (uint64_t)POINT_MAX_S * 1000000000u) {
				fprintf(stderr, "%s point: --timeout must be 1..%d seconds, not '%s'\n",
					g->prog, POINT_MAX_S, optarg);
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
		fprintf(stderr, "%s point: unexpected argument '%s'\n", g->prog, argv[optind]);
		usage(stderr, g->prog);
		return CLI_USAGE;
	}
	timeout_s = (unsigned)((timeout_ns + 999999999u) / 1000000000u);
	if (isatty(2))
		fprintf(stderr, "making a recovery point (up to %u s)...\n", timeout_s);
	req = json_pack("{s:s,s:I}", "cmd", "point", "timeout_s", (json_int_t)timeout_s);
	rc = control_run(g, req, (int)timeout_s * 1000 + REPLY_MARGIN_MS, &reply);
	json_decref(req);
	if (rc != CLI_OK)
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
