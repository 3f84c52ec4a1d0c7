// SPDX-License-Identifier: GPL-2.0-or-later
/* libmicrohttpd plumbing: bodies, routing, JSON replies, the access log (http.h). */
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

#include "api.h"
#include "conn.h"
#include "console.h"
#include "db.h"
#include "log.h"
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

int reply_error(struct reply *rp, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(rp->body);
	rp->status = status;
	rp->body = json_pack("{s:s, s:s}", "error", msg, "code", code);
	return -EPERM;
}

int reply_internal(struct reply *rp, int rc)
{
	if (rc == -EBUSY)
		reply_error(rp, 503, "busy", "the database is busy; retry shortly");
	else
		reply_error(rp, 500, "internal", "internal error (%s); the console log has details",
			    strerror(rc < 0 ? -rc : EIO));
	return rc;
}

void reply_json(struct reply *rp, unsigned status, json_t *body)
{
	json_decref(rp->body);
	rp->status = status;
	rp->body = body;
}

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

int request_json(struct request *rq, struct reply *rp, json_t **out)
{
	json_error_t jerr;
	json_t *j;

	if (!rq->len) {
		reply_error(rp, 400, "malformed", "malformed request: a JSON object body is required");
		return -EINVAL;
	}
	j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		reply_error(rp, 400, "malformed", "malformed request: invalid JSON at line %d: %s",
			    jerr.line, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(rp, 400, "malformed", "malformed request: the body must be a JSON object");
		return -EINVAL;
	}
	*out = j;
	return 0;
}

/* "/api/v1/machines/ID[/status]": ID into id, the rest into tail. */
static int machine_path(const char *url, char *id, size_t idlen, const char **tail)
{
	static const char prefix[] = "/api/v1/machines/";
	const char *p, *slash;
	size_t n;

	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return -ENOENT;
	p = url + sizeof(prefix) - 1;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (!n || n >= idlen)
		return -ENOENT;
	memcpy(id, p, n);
	id[n] = '\0';
	*tail = slash ? slash : "";
	return name_valid(id) ? 0 : -ENOENT;
}

static void route(struct request *rq, struct reply *rp)
{
	const char *m = rq->method, *tail;
	char id[64];
	int known = 1;

	/* the web page, its assets and the calls only it makes (web_route.c) */
	if (web_route(rq, rp))
		return;
	if (!strcmp(rq->url, "/api/v1/health")) {
		if (!strcmp(m, "GET")) {
			reply_json(rp, 200, json_pack("{s:b, s:s}", "ok", 1, "version",
						      LIVEMIG_VERSION));
			return;
		}
	} else if (!strcmp(rq->url, "/api/v1/register")) {
		if (!strcmp(m, "POST")) {
			api_register(rq, rp);
			return;
		}
	} else if (!strcmp(rq->url, "/api/v1/machines") || !strcmp(rq->url, "/api/v1/machines/")) {
		if (!strcmp(m, "GET")) {
			api_machines_list(rq, rp);
			return;
		}
	} else if (!machine_path(rq->url, id, sizeof(id), &tail) && !*tail) {
		if (!strcmp(m, "GET")) {
			api_machine_get(rq, rp, id);
			return;
		}
		if (!strcmp(m, "DELETE")) {
			api_machine_delete(rq, rp, id);
			return;
		}
	} else if (!machine_path(rq->url, id, sizeof(id), &tail) && !strcmp(tail, "/status")) {
		if (!strcmp(m, "POST")) {
			api_status_post(rq, rp, id);
			return;
		}
	} else if (!strcmp(rq->url, "/api/v1/staging/sync")) {
		if (!strcmp(m, "POST")) {
			api_staging_sync(rq, rp);
			return;
		}
	} else if (!machine_path(rq->url, id, sizeof(id), &tail) && !strcmp(tail, "/points")) {
		if (!strcmp(m, "GET")) {
			api_points_get(rq, rp, id);
			return;
		}
	} else if (!machine_path(rq->url, id, sizeof(id), &tail) && !strcmp(tail, "/jobs")) {
		if (!strcmp(m, "GET")) {
			api_jobs_list(rq, rp, id);
			return;
		}
		if (!strcmp(m, "POST")) {
			api_jobs_post(rq, rp, id);
			return;
		}
	} else if (!machine_path(rq->url, id, sizeof(id), &tail) && !strncmp(tail, "/jobs/", 6)) {
		if (!strcmp(m, "GET")) {
			api_job_get(rq, rp, id, tail + 6);
			return;
		}
	} else {
		known = 0;
	}
	if (known)
		reply_error(rp, 405, "method_not_allowed", "%s is not allowed on %s", m, rq->url);
	else
		reply_error(rp, 404, "not_found", "no such endpoint: %s", rq->url);
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
	rc = db_open_ready(s->c->db_path, &rq.db, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		reply_internal(rp, rc);
		return;
	}
	route(&rq, rp);
	/* A handler that returned with a transaction open has a bug; do not
	 * let it commit by accident when the connection closes. */
	db_rollback(rq.db);
	sqlite3_close(rq.db);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	if (rp->raw) {
		resp = MHD_create_response_from_buffer(rp->raw_len, (void *)rp->raw,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Content-Type", rp->content_type);
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
	unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

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
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				/* a client that stops talking for 30 s is dropped */
				MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_CONNECTION_LIMIT, 256u,
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
