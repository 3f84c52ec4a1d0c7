// SPDX-License-Identifier: GPL-2.0-or-later
/* The --timeout commands' common part (control_wait.h). */
#include "control_wait.h"

#include <getopt.h>
#include <stdint.h>
#include <unistd.h>

#include "control_client.h"
#include "util.h"

/* The daemon enforces the timeout and says so; wait a little longer for that
 * reply so the operator gets its message rather than a bare client timeout. */
#define REPLY_MARGIN_MS 10000

int control_wait_run(const struct cli_global *g, const struct control_wait *w, int argc,
		     char *argv[], json_t **reply)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout_ns = (uint64_t)w->default_s * 1000000000u;
	unsigned timeout_s;
	json_t *req;
	int c, rc;

	*reply = NULL;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout_ns) < 0 || timeout_ns < 1000000000u ||
			    timeout_ns > (uint64_t)w->max_s * 1000000000u) {
				fprintf(stderr, "%s %s: --timeout must be 1..%u seconds, not '%s'\n",
					g->prog, w->name, w->max_s, optarg);
				return CLI_USAGE;
			}
			break;
		case 'h':
			w->usage(stdout, g->prog);
			return CLI_OK;
		default:
			w->usage(stderr, g->prog);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", g->prog, w->name, argv[optind]);
		w->usage(stderr, g->prog);
		return CLI_USAGE;
	}
	timeout_s = (unsigned)((timeout_ns + 999999999u) / 1000000000u); /* whole seconds, up */
	if (isatty(2))
		fprintf(stderr, "%s (up to %u s)...\n", w->waiting, timeout_s);
	req = json_pack("{s:s,s:I}", "cmd", w->name, "timeout_s", (json_int_t)timeout_s);
	if (!req) {
		fprintf(stderr, "%s %s: out of memory\n", g->prog, w->name);
		return CLI_DAEMON_ERROR;
	}
	rc = control_run(g, req, (int)timeout_s * 1000 + REPLY_MARGIN_MS, reply);
	json_decref(req);
	return rc;
}
