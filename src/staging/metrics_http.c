// SPDX-License-Identifier: GPL-2.0-or-later
/* Staging's /metrics (metrics_http.h). */
#include "metrics_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "server.h"
#include "stats.h"
#include "store_backend.h"

#define CONNECTIONS_MAX 16 /* a few scrapers, never more */
#define IDLE_TIMEOUT_S  10

static struct MHD_Daemon *daemon_;
static const char *store;

char *metrics_staging_text(const char *store_dir)
{
	char *text = NULL;
	size_t len = 0;
	uint64_t free_bytes, total_bytes;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (!store_space(store_dir, &free_bytes, &total_bytes)) {
		fprintf(f, "# HELP livemig_staging_store_free_bytes Free bytes of the store's file "
			   "system (for unprivileged users), or of its RBD pool.\n"
			   "# TYPE livemig_staging_store_free_bytes gauge\n"
			   "livemig_staging_store_free_bytes %llu\n"
			   "# HELP livemig_staging_store_size_bytes Size of the store's file system, or "
			   "its RBD pool's stored plus free bytes.\n"
			   "# TYPE livemig_staging_store_size_bytes gauge\n"
			   "livemig_staging_store_size_bytes %llu\n",
			(unsigned long long)free_bytes, (unsigned long long)total_bytes);
	}
	fprintf(f, "# HELP livemig_staging_sessions Agent sessions open now.\n"
		   "# TYPE livemig_staging_sessions gauge\n"
		   "livemig_staging_sessions %u\n", server_sessions());
	stats_print(f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, char *text,
			      const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	char *text;

	(void)cls;
	(void)version;
	(void)upload;
	/* the first call only announces the request; a body is never wanted */
	if (!*con_cls) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_size)
		return MHD_NO;
	if (strcmp(url, "/metrics"))
		return answer(conn, MHD_HTTP_NOT_FOUND, strdup("only /metrics is here\n"),
			      "text/plain; charset=utf-8");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET /metrics\n"),
			      "text/plain; charset=utf-8");
	text = metrics_staging_text(store);
	if (!text)
		return MHD_NO;
	return answer(conn, MHD_HTTP_OK, text, "text/plain; version=0.0.4; charset=utf-8");
}

int metrics_http_start(int fd, const char *store_dir, char *err, size_t errlen)
{
	store = store_dir;
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				   on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				   MHD_OPTION_END);
	if (!daemon_) {
		snprintf(err, errlen, "cannot start the metrics listener (libmicrohttpd)");
		return -EIO;
	}
	return 0;
}

void metrics_http_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
