/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Commands that ask livemigd for something and wait for it to be durable on
 * staging (`livemig sync`, `livemig point`): one option, --timeout, and one
 * request {"cmd": NAME, "timeout_s": N} (docs/control.md).
 */
#ifndef LIVEMIG_CONTROL_WAIT_H
#define LIVEMIG_CONTROL_WAIT_H

#include <stdio.h>

#include <jansson.h>

#include "subcommands.h"

struct control_wait {
	const char *name;      /* the subcommand and the control command */
	unsigned default_s;    /* --timeout when not given */
	unsigned max_s;
	const char *waiting;   /* printed on a terminal while waiting: "... (up to N s)" */
	void (*usage)(FILE *f, const char *prog);
};

/*
 * Parse argv, send the request and wait for the reply. CLI_OK with *reply
 * set to the daemon's successful reply, CLI_OK with *reply NULL after
 * --help, or another exit code after printing why.
 */
int control_wait_run(const struct cli_global *g, const struct control_wait *w, int argc,
		     char *argv[], json_t **reply);

#endif
