/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client side of the control socket (docs/control.md): connect, send one
 * JSON request line, read one JSON reply line.
 */
#ifndef LIVEMIG_CONTROL_CLIENT_H
#define LIVEMIG_CONTROL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "subcommands.h"

/*
 * One request. 0 with *reply set to a new reference to the reply object
 * (which may say {"ok":false,...}), or -errno with a one-line message in err:
 * a connect() errno (-ENOENT, -ECONNREFUSED, -EACCES...), -ETIMEDOUT (no
 * reply within timeout_ms), -ECONNRESET (closed without a reply), -EPROTO
 * (the reply is not one JSON object line), -EINTR (a signal arrived).
 */
int control_call(const char *path, json_t *req, int timeout_ms, json_t **reply, char *err,
		 size_t errlen);

/*
 * control_call() for commands: prints any failure as "livemig: ..." on
 * stderr and returns the exit code (enum cli_exit). On CLI_OK *reply holds
 * the reply, whose "ok" is true.
 */
int control_run(const struct cli_global *g, json_t *req, int timeout_ms, json_t **reply);

#endif
