/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's side of livemig-console's API (docs/console-api.md): HTTPS
 * with the console's certificate verified against [console] ca only, the
 * agent secret as a bearer token, bounded time, and no proxy unless
 * [console] proxy names one.
 */
#ifndef LIVEMIG_CONSOLE_CLIENT_H
#define LIVEMIG_CONSOLE_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent_config.h"

#define CONSOLE_SECRET_MAX 255
#define CONSOLE_CONNECT_TIMEOUT_MS 5000
#define CONSOLE_REQUEST_TIMEOUT_MS 10000

/*
 * Read the agent secret from path. Refused unless it is a regular file of
 * this user that neither group nor others may read (0600 or stricter), and
 * holds 1..255 printable characters (a trailing newline is fine). 0, or
 * -errno with err saying what to do.
 */
int console_client_load_secret(const char *path, char *out, size_t outlen, char *err,
			       size_t errlen);

struct console_client {
	const struct console_config *cfg;
	char secret[CONSOLE_SECRET_MAX + 1];
	const atomic_int *stop; /* set: a request in progress gives up within ~1 s */
	CURL *h;                /* kept between calls: the TLS connection is reused */
	struct curl_slist *headers;
};

/* An HTTP answer of any status. body is the parsed JSON (NULL if none);
 * code and error are the console's error members ("" when absent). */
struct console_answer {
	long status;
	json_t *body;
	char code[48];
	char error[384];
};

int console_client_init(struct console_client *cl, const struct console_config *cfg,
			const char *secret, const atomic_int *stop, char *err, size_t errlen);
void console_client_free(struct console_client *cl);

/*
 * POST the JSON text body to the console URL plus path. 0 when the console
 * answered (whatever the status; a must then be freed), -ECANCELED when stop
 * was set, or another -errno when no answer came (connection, TLS,
 * certificate, timeout) with err saying why.
 */
int console_client_post(struct console_client *cl, const char *path, const char *body,
			struct console_answer *a, char *err, size_t errlen);
void console_client_answer_free(struct console_answer *a);

#endif
