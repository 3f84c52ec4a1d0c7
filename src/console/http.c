// SPDX-License-Identifier: GPL-2.0-or-later
/* libmicrohttpd plumbing: bodies, sending replies, the access log (http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conn.h"
#include "console.h"
#include "db.h"
#include "log.h"
#include "routes.h"
#include "util.h"
#include "web.h"

struct http_server {
	struct MHD_Daemon *d;
	struct console *c;
	int fd;
};

/* One request being received; MHD calls us once per chunk of body. */
struct pending {
	char *body;
	size_t len, cap;
	int too_big;
};

const char *request_header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *request_cookie(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

const char *request_query(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void request_client_addr(struct request *rq, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, n, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static void handle(struct http_server *s, struct MHD_Connection *conn, const char *url,
		   const char *method, struct pending *p, struct reply *rp)
{
	struct request rq = {
		.c = s->c, .conn = conn, .method = method, .url = url,
		.body = p->body ? p->body : "", .len = p->len,
	};
	char err[512];
	int rc;

	if (p->too_big) {
		reply_error(rp, 413, "too_large", "request body larger than %u bytes", HTTP_BODY_MAX);
		return;
	}
	rc = db_open_request(s->c->db_path, &rq.db, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		reply_internal(rp, rc);
		return;
	}
	route_request(&rq, rp);
	db_release(rq.db);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	if (rp->raw || rp->text) {
		if (rp->text) {
			resp = MHD_create_response_from_buffer(strlen(rp->text), rp->text,
							       MHD_RESPMEM_MUST_FREE);
			if (resp)
				rp->text = NULL; /* libmicrohttpd frees it */
		} else {
			resp = MHD_create_response_from_buffer(rp->raw_len, (void *)rp->raw,
							       MHD_RESPMEM_PERSISTENT);
		}
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Content-Type", rp->content_type);
		if (!rp->raw)
			MHD_add_response_header(resp, "Cache-Control", "no-store");
		web_headers(resp, rp);
		ret = MHD_queue_response(conn, rp->status, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (!rp->body)
		reply_internal(rp, -ENOMEM);
	text = rp->body ? json_dumps(rp->body, JSON_COMPACT) : NULL;
	if (!text)
		return MHD_NO;
	/* A trailing newline keeps `curl` output readable in a terminal. */
	{
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);

		if (!t) {
			free(text);
			return MHD_NO;
		}
		text = t;
		text[n] = '\n';
		text[n + 1] = '\0';
	}
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_headers(resp, rp);
	if (rp->retry_after) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", rp->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (rp->challenge)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Basic realm=\"livemig-console\", charset=\"UTF-8\"");
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int body_append(struct pending *p, const char *data, size_t n)
{
	size_t cap;
	char *b;

	if (p->too_big || n > HTTP_BODY_MAX - p->len) {
		p->too_big = 1;
		return 0;
	}
	if (p->len + n + 1 > p->cap) {
		cap = p->cap ? p->cap : 4096;
		while (cap < p->len + n + 1)
			cap *= 2;
		b = realloc(p->body, cap);
		if (!b)
			return -ENOMEM;
		p->body = b;
		p->cap = cap;
	}
	memcpy(p->body + p->len, data, n);
	p->len += n;
	p->body[p->len] = '\0';
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct pending *p = *con_cls;
	struct reply rp = { .status = 500 };
	enum MHD_Result ret;

	(void)version;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_size) {
		if (body_append(p, upload_data, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	handle(s, conn, url, method, p, &rp);
	log_info("%s %s -> %u%s%s", method, url, rp.status, rp.who[0] ? " " : "", rp.who);
	ret = send_reply(conn, &rp);
	json_decref(rp.body);
	free(rp.text);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (p) {
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

/* libmicrohttpd hands us its own printf format: nothing to check here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}
#pragma GCC diagnostic pop

static void bound_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%u", host, port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%u", host, port);
	}
}

int http_start(struct console *c, const char *host, const char *port, const char *cert_pem,
	       const char *key_pem, struct http_server **out, char *bound, size_t boundlen,
	       char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));
	/* Event-driven (epoll) with a fixed pool of threads: a connection
	 * that sends nothing, or a header line now and then, costs a file
	 * descriptor and a little memory, never a thread. */
	unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG;

	if (!s)
		return -ENOMEM;
	s->c = c;
	s->fd = tcp_listen(host, port, err, errlen);
	if (s->fd < 0) {
		int rc = s->fd;

		free(s);
		return rc;
	}
	snprintf(bound, boundlen, "%s:%s", host, port);
	bound_name(s->fd, bound, boundlen);
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				/* first, so that MHD logs nothing by itself */
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
				MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
				MHD_OPTION_HTTPS_MEM_KEY, key_pem,
				MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
				/* a client silent for this long is dropped, in the
				 * middle of its request head or not */
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_PER_IP,
				/* a request head larger than this is refused (431) */
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEAD_MEMORY,
				MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen,
			 "cannot start the HTTPS server on %s (is the TLS certificate/key pair valid PEM?)",
			 bound);
		close(s->fd);
		free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	/* MHD does not close a socket it was given. */
	close(s->fd);
	free(s);
}
