/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line: `livemig-console serve` and `livemig-console admin`. */
#ifndef LIVEMIG_CONSOLE_CLI_H
#define LIVEMIG_CONSOLE_CLI_H

#include <stdint.h>

#define PROG "livemig-console"

#define DEFAULT_HEARTBEAT_INTERVAL_S 10
#define DEFAULT_HEARTBEAT_TIMEOUT_S  30
#define DEFAULT_HISTORY              500

int serve_main(int argc, char **argv);
int admin_main(int argc, char **argv);

/* "PROG CMD: message" and a pointer to --help on stderr; returns 2. */
int bad_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "30s", "7d", "2h"... to whole seconds (at least 1). 0 or -EINVAL. */
int parse_seconds(const char *s, uint64_t *out);

#endif
