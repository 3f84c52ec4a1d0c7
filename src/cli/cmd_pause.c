// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig pause | resume: one request each, no arguments. */
#include <getopt.h>
#include <stdio.h>

#include "control_client.h"
#include "subcommands.h"

/* Pausing only tells the reader to wait; the daemon answers at once. */
#define PAUSE_TIMEOUT_MS 30000

static int pause_resume(const struct cli_global *g, int argc, char *argv[], int pause)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = pause ? "pause" : "resume";
	json_t *req, *reply = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: %s %s\n\n", g->prog, name);
			if (pause)
				printf("Pauses replication: livemigd stops reading and sending\n"
				       "disk data (what is in flight still completes) until\n"
				       "'resume'.\n");
			else
				printf("Resumes replication after 'pause'.\n");
			return CLI_OK;
		default:
			fprintf(stderr, "Usage: %s %s\n", g->prog, name);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\nUsage: %s %s\n", g->prog, name,
			argv[optind], g->prog, name);
		return CLI_USAGE;
	}
	req = json_pack("{s:s}", "cmd", name);
	rc = control_run(g, req, PAUSE_TIMEOUT_MS, &reply);
	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	json_decref(reply);
	printf("replication %s\n", pause ? "paused" : "resumed");
	return CLI_OK;
}

int pause_main(const struct cli_global *g, int argc, char *argv[])
{
	return pause_resume(g, argc, argv, 1);
}

int resume_main(const struct cli_global *g, int argc, char *argv[])
{
	return pause_resume(g, argc, argv, 0);
}
