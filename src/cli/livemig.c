// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig: the operator's command. A table maps each subcommand to the
 * function in its own cmd_*.c file; adding a command is one file and one row.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subcommands.h"
#include "suggest.h"

#define DEFAULT_SOCKET "/run/livemig/livemigd.sock"

static const struct {
	const char *name;
	int (*fn)(const struct cli_global *g, int argc, char *argv[]);
	const char *help;
} subcommands[] = {
	{ "status", status_main, "Shows the state of replication and of each disk" },
	{ "pause", pause_main, "Pauses replication: nothing new is read or sent" },
	{ "resume", resume_main, "Resumes replication after a pause" },
	{ "sync", sync_main, "Waits until the replica is consistent with the source now" },
	{ "point", point_main, "Makes a recovery point now and prints its id" },
	{ "check", check_main, "Checks the prerequisites: can replication start here?" },
	{ "identity", identity_main, "Shows what identifies this machine (metadata id or MAC)" },
	{ "inventory", inventory_main, "Shows what the agent collects about this machine" },
	{ "install", install_main, "Registers this machine with the console and starts replication" },
	{ "start", start_main, "Starts replication on an installed machine" },
	{ "uninstall", uninstall_main, "Stops replication, deregisters, frees the license" },
};

#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static const char *subcommand_name(size_t i, void *arg)
{
	(void)arg;
	return i < NSUBCOMMANDS ? subcommands[i].name : NULL;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--socket PATH] <command> [<args>]\n\n", prog);
	fprintf(f, "Available commands:\n");
	for (size_t i = 0; i < NSUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  --socket PATH  livemigd's control socket (default: $LIVEMIG_SOCKET,\n"
		   "                 else %s)\n"
		   "  -h, --help     show this help\n"
		   "  -V, --version  show the version\n"
		   "\n`%s help COMMAND` is `%s COMMAND --help`. Exit status: 0 ok, 1 livemigd reported an error,\n"
		   "2 usage error, 3 livemigd could not be reached.\n",
		DEFAULT_SOCKET, prog, prog);
}

/* 'x' is not a command: say so, with the command probably meant. */
static int not_a_command(const char *prog, const char *word)
{
	const char *near = suggest_closest(word, subcommand_name, NULL);

	fprintf(stderr, "%s: '%s' is not a livemig command", prog, word);
	if (near)
		fprintf(stderr, " (did you mean %s?)", near);
	fprintf(stderr, ". Try '%s --help'.\n", prog);
	return CLI_USAGE;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_global g = { .prog = "livemig", .who = "livemig" };
	const char *env = getenv("LIVEMIG_SOCKET");
	char *help_argv[3] = { NULL, "--help", NULL };
	char who[64];
	int c;

	g.socket = env && *env ? env : DEFAULT_SOCKET;
	/* "+": stop at the subcommand, whose options are its own */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg) {
				fprintf(stderr, "%s: --socket needs a path\n", g.prog);
				return CLI_USAGE;
			}
			g.socket = optarg;
			break;
		case 'h':
			usage(stdout, g.prog);
			return CLI_OK;
		case 'V':
			printf("livemig %s\n", LIVEMIG_VERSION);
			return CLI_OK;
		default:
			fprintf(stderr, "Try '%s --help'.\n", g.prog);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, g.prog);
		return CLI_USAGE;
	}
	argv += optind;
	argc -= optind;
	if (!strcmp(argv[0], "help")) {
		if (argc == 1) {
			usage(stdout, g.prog);
			return CLI_OK;
		}
		if (argc > 2) {
			fprintf(stderr, "%s help: one command at a time. Try '%s --help'.\n", g.prog,
				g.prog);
			return CLI_USAGE;
		}
		/* the command's own --help, so the two can never disagree */
		help_argv[0] = argv[1];
		argv = help_argv;
		argc = 2;
	}
	for (size_t i = 0; i < NSUBCOMMANDS; i++) {
		if (strcmp(argv[0], subcommands[i].name))
			continue;
		snprintf(who, sizeof(who), "%s %s", g.prog, subcommands[i].name);
		g.who = who;
		/* a fresh getopt scan for the subcommand, which sees itself as argv[0] */
		optind = 0;
		return subcommands[i].fn(&g, argc, argv);
	}
	return not_a_command(g.prog, argv[0]);
}
