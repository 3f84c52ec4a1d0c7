/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The installer's client of livemig-console's HTTPS API (docs/console-api.md):
 * one JSON request, retried with exponential backoff while the console does
 * not answer (or answers 500/503), its certificate always verified against
 * the CA the operator named.
 */
#ifndef LIVEMIG_INSTALL_CONSOLE_H
#define LIVEMIG_INSTALL_CONSOLE_H

#include <stddef.h>

#include <jansson.h>

#define CONSOLE_DEFAULT_RETRIES 5

struct console_client {
	const char *url;    /* https://HOST:PORT (a trailing slash is ignored) */
	const char *ca;     /* PEM file the console's certificate must chain to */
	const char *bearer; /* the agent secret, or NULL */
	const char *proxy;  /* http(s)://HOST:PORT, or NULL for none (the environment's are ignored) */
	unsigned retries;   /* attempts after the first */
	int quiet;          /* do not announce retries on stderr */
};

struct console_answer {
	long status;      /* HTTP status */
	json_t *body;     /* the JSON answer, or NULL if it was not JSON */
	char code[48];    /* the error's "code", or "" */
	char error[512];  /* the error's sentence, or what went wrong */
};

/*
 * METHOD url+path with body (JSON text, or NULL). 0 when the console
 * answered (any status: see a->status, a->code, a->error), else -errno with
 * a one-line reason in a->error:
 *   -EHOSTUNREACH  no answer after every retry (or still 500/503: a->status set)
 *   -EKEYREJECTED  the console's certificate failed verification (not retried)
 *   -ENOENT        the CA file cannot be read
 *   -EINVAL        the URL is not usable
 * Release the answer with console_answer_clear().
 */
int console_call(const struct console_client *c, const char *method, const char *path,
		 const char *body, struct console_answer *a);
void console_answer_clear(struct console_answer *a);

/* DELETE /api/v1/machines/ID with the agent secret as bearer: 0 when the
 * console deregistered it (or already had), else as console_call() or
 * -EPERM when the console refused (a->code says why). */
int console_deregister(const struct console_client *c, const char *machine_id,
		       struct console_answer *a);

/* 0 if url is https://HOST[:PORT] with nothing after it but "/"; else
 * -EINVAL with the reason in err. */
int console_url_check(const char *url, char *err, size_t errlen);

#endif
