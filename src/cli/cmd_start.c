// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig start: start replication on an installed machine, e.g. after
 * `livemig install --no-replication` (docs/install-flow.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "install.h"
#include "install_config.h"
#include "install_daemon.h"
#include "subcommands.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s start [--config-dir DIR]\n\n"
		"Starts livemigd, and with it replication, on a machine `%s install` set up:\n"
		"through systemd where it runs and the configuration is in %s, otherwise\n"
		"detached, with its log and pid file in the state directory.\n\n"
		"  --config-dir DIR   where install wrote the configuration (default %s)\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 started (or already running), 2 usage, 11 not installed,\n"
		"33 livemigd did not start.\n",
		prog, prog, INSTALL_DEFAULT_CONFIG_DIR, INSTALL_DEFAULT_CONFIG_DIR);
}

int start_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = INSTALL_DEFAULT_CONFIG_DIR;
	struct install_paths p;
	struct installed in;
	struct daemon_ctl d;
	char msg[1024];
	int c, rc;

	/* progress lines and errors interleave in order in a log */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, g->prog);
			return INSTALL_OK;
		default:
			fprintf(stderr, "Try '%s start --help'.\n", g->prog);
			return INSTALL_USAGE;
		}
	}
	if (optind < argc || install_paths_init(&p, dir)) {
		fprintf(stderr, "%s start: unexpected argument or --config-dir too long\n", g->prog);
		return INSTALL_USAGE;
	}
	rc = installed_load(&p, &in, msg, sizeof(msg));
	if (rc == -ENOENT) {
		fprintf(stderr, "%s start: not installed: no %s; run `%s install` first\n", g->prog,
			p.conf, g->prog);
		return INSTALL_NOT_INSTALLED;
	}
	if (rc) {
		fprintf(stderr, "%s start: %s\n", g->prog, msg);
		return INSTALL_NOT_INSTALLED;
	}
	d = (struct daemon_ctl){ .conf = p.conf, .state_dir = in.state_dir, .socket = in.socket };
	rc = daemon_start(&d, msg, sizeof(msg));
	if (rc == -EALREADY) {
		printf("%s: nothing to do\n", msg);
		return INSTALL_OK;
	}
	if (rc) {
		fprintf(stderr, "%s start: livemigd did not start: %s\n", g->prog, msg);
		return INSTALL_START;
	}
	printf("livemigd started (%s)\n", msg);
	printf("replication started: follow it with `%s%s%s status` or in the console\n", g->prog,
	       strcmp(in.socket, INSTALL_DEFAULT_SOCKET) ? " --socket " : "",
	       strcmp(in.socket, INSTALL_DEFAULT_SOCKET) ? in.socket : "");
	return INSTALL_OK;
}
