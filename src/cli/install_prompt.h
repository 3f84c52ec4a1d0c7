/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Questions on the terminal and secrets from files. Secrets are read with
 * read(2) into the caller's buffer, never through stdio (whose buffers would
 * keep a copy), and typed secrets are not echoed.
 */
#ifndef LIVEMIG_INSTALL_PROMPT_H
#define LIVEMIG_INSTALL_PROMPT_H

#include <stddef.h>

/* 1 when there is someone to ask: standard input is a terminal. */
int prompt_tty(void);

/*
 * Print prompt (stdout), read one line from standard input, without echo
 * when secret. The line ending is removed. 0; -ENODATA at end of input;
 * -ENAMETOOLONG when the line does not fit (it is consumed). Ctrl-C while
 * echo is off turns it back on before the signal ends the program.
 */
int prompt_line(const char *prompt, int secret, char *out, size_t len);

/* The first line of path, without its line ending, for a token or a
 * password. 0, or -errno with a message naming what (e.g. "--token-file")
 * in err. An empty first line is -ENODATA. */
int read_secret_file(const char *what, const char *path, char *out, size_t len, char *err,
		     size_t errlen);

#endif
