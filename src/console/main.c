// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig-console: pick the subcommand (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " serve --listen HOST:PORT --db FILE ... (see serve --help)\n"
		"       " PROG " admin --db FILE COMMAND ...        (see admin --help)\n"
		"\n"
		"The livemig control plane: accounts, installation tokens, licenses,\n"
		"agent registration (it signs agent certificates with the agent CA that\n"
		"staging trusts), machine inventory and replication status, over an\n"
		"HTTPS JSON API (docs/console-api.md).\n"
		"\n"
		"  serve     run the HTTPS API\n"
		"  admin     manage the database directly: accounts, users, tokens, CA\n"
		"  --help    show this help\n"
		"  --version show the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "admin"))
		return admin_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf(PROG " " LIVEMIG_VERSION "\n");
		return 0;
	}
	return bad_usage(NULL, "unknown command '%s' (serve or admin)", argv[1]);
}
