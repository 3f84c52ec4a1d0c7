/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTPS side: libmicrohttpd (with its own TLS), event-driven with a
 * pool of threads; http.c collects each request's body, opens a database
 * connection for it, hands it to the route table (routes.c), and sends the
 * handler's JSON reply. Handlers never see libmicrohttpd beyond
 * request_header() and request_query().
 */
#ifndef LIVEMIG_CONSOLE_HTTP_H
#define LIVEMIG_CONSOLE_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "db.h"

struct console;
struct MHD_Connection;
struct http_server;

#define HTTP_BODY_MAX (1u << 20)

/* Connection limits (docs/security.md). One address may hold
 * HTTP_CONNECTIONS_PER_IP connections at once, so one client cannot take
 * the HTTP_CONNECTIONS_MAX that all share; a connection silent for
 * HTTP_IDLE_TIMEOUT_S is closed; HTTP_THREADS threads serve every
 * connection (epoll). */
#define HTTP_THREADS 8
#define HTTP_CONNECTIONS_MAX 1000
#define HTTP_CONNECTIONS_PER_IP 32
#define HTTP_IDLE_TIMEOUT_S 10
#define HTTP_HEAD_MEMORY (32u * 1024)
/* TLS 1.2 or 1.3 only, AEAD suites with forward secrecy only (GnuTLS
 * priority string; the server's order wins). */
#define HTTP_TLS_PRIORITIES                                                          \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"       \
	"+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:"       \
	"+ECDHE-RSA:%SERVER_PRECEDENCE"

struct request {
	struct console *c;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const char *body; /* NUL-terminated; "" when none */
	size_t len;
	struct db *db;      /* this request's connection (its thread's kept one) */
	char param[64];   /* the route pattern's first {parameter}, "" when none */
	char param2[64];  /* its second, as the job in .../{machine}/jobs/{id} */
};

struct reply {
	unsigned status;
	json_t *body;     /* owned */
	int challenge;    /* add WWW-Authenticate: Basic (a 401 for operators) */
	char who[256];    /* for the access log: the account or machine */
	char set_cookie[160]; /* a Set-Cookie header, when not empty (web sessions) */
	const char *raw;  /* static bytes to send instead of body (the page's assets) */
	size_t raw_len;
	char *text;       /* owned text to send instead of body (the metrics) */
	const char *content_type; /* of raw or text */
	unsigned retry_after; /* a Retry-After header (seconds), when not 0 */
};

/* {"error": message, "code": code}. Always returns -EPERM so a handler can
 * `return reply_error(...)`; the reply is what matters. */
int reply_error(struct reply *rp, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 503 for a database that stayed busy, 500 otherwise; returns rc. */
int reply_internal(struct reply *rp, int rc);
/* Take ownership of body. */
void reply_json(struct reply *rp, unsigned status, json_t *body);

const char *request_header(struct request *rq, const char *name);
const char *request_cookie(struct request *rq, const char *name);
const char *request_query(struct request *rq, const char *name);
/* The client's address as text ("127.0.0.1", "::1"); "?" if unknown. */
void request_client_addr(struct request *rq, char *out, size_t n);
/* The body as a JSON object (duplicate keys refused); else a 400 reply
 * and -EINVAL. */
int request_json(struct request *rq, struct reply *rp, json_t **out);

/* Listen on host:port with TLS; cert/key PEM text. 0 or -errno with err.
 * *bound gets "HOST:PORT" as actually bound (port 0 picks one). */
int http_start(struct console *c, const char *host, const char *port, const char *cert_pem,
	       const char *key_pem, struct http_server **out, char *bound, size_t boundlen,
	       char *err, size_t errlen);
void http_stop(struct http_server *s);

#endif
