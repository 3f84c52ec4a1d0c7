/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What livemig.c's command table calls. Each subcommand lives in its own
 * cmd_*.c file and gets argv with argv[0] set to its own name.
 */
#ifndef LIVEMIG_SUBCOMMANDS_H
#define LIVEMIG_SUBCOMMANDS_H

/* Exit codes, the same for every subcommand (docs/commands.md). */
enum cli_exit {
	CLI_OK = 0,
	CLI_DAEMON_ERROR = 1, /* livemigd answered with an error */
	CLI_USAGE = 2,
	CLI_UNREACHABLE = 3, /* no answer from livemigd */
};

struct cli_global {
	const char *prog;   /* "livemig", for usage lines */
	const char *who;    /* "livemig CMD": what every error message starts with */
	const char *socket; /* control socket path */
};

int status_main(const struct cli_global *g, int argc, char *argv[]);
int pause_main(const struct cli_global *g, int argc, char *argv[]);
int resume_main(const struct cli_global *g, int argc, char *argv[]);
int sync_main(const struct cli_global *g, int argc, char *argv[]);
int point_main(const struct cli_global *g, int argc, char *argv[]);
int check_main(const struct cli_global *g, int argc, char *argv[]);
/* "WHO: unknown check id 'x' (did you mean y?)" for a --waive that names none. */
void check_unknown_id(const char *who, const char *id);
int identity_main(const struct cli_global *g, int argc, char *argv[]);
int inventory_main(const struct cli_global *g, int argc, char *argv[]);
int install_main(const struct cli_global *g, int argc, char *argv[]);
int start_main(const struct cli_global *g, int argc, char *argv[]);
int uninstall_main(const struct cli_global *g, int argc, char *argv[]);

#endif
