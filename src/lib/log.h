/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One line per event on stderr (journald adds the timestamp under systemd). */
#ifndef LIVEMIG_LOG_H
#define LIVEMIG_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *prog, enum log_level level, int timestamps);
/* "error", "warn", "info" or "debug". 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* Every message is written on one line: log_escape() writes its control
 * characters as \n, \r, \t or \xHH and doubles its backslashes, so
 * that text a client controls (a URL, a user name) never forges a line. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* in escaped into out (always NUL-terminated; cut short to fit). */
void log_escape(const char *in, char *out, size_t outlen);

/* Keep lines in memory (bounded) instead of writing them, until
 * log_release() writes them out: nothing is written while the file systems
 * stderr may live on are frozen. */
void log_hold(void);
void log_release(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
