// SPDX-License-Identifier: GPL-2.0-or-later
/* Routing for the page and its calls; headers on every answer (web.h). */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "util.h"
#include "web.h"

/* Only our own scripts and styles; the API answers JSON that is never a
 * page. frame-ancestors: no clickjacking of the pause button. */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

void web_headers(struct MHD_Response *resp, const struct reply *rp)
{
	if (rp->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rp->set_cookie);
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (rp->raw)
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
}

/* "/api/v1/machines/ID/TAIL" with ID a machine name: 1 and id filled. */
static int machine_tail(const char *url, const char *tail, char *id, size_t idlen)
{
	static const char prefix[] = "/api/v1/machines/";
	const char *p, *slash;
	size_t n;

	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return 0;
	p = url + sizeof(prefix) - 1;
	slash = strchr(p, '/');
	if (!slash || strcmp(slash, tail))
		return 0;
	n = (size_t)(slash - p);
	if (!n || n >= idlen)
		return 0;
	memcpy(id, p, n);
	id[n] = '\0';
	return name_valid(id);
}

static int not_allowed(struct reply *rp, const char *m, const char *url)
{
	reply_error(rp, 405, "method_not_allowed", "%s is not allowed on %s", m, url);
	return 1;
}

int web_route(struct request *rq, struct reply *rp)
{
	const char *m = rq->method, *u = rq->url, *data, *type;
	char id[64];
	size_t len;

	if (!web_asset(u, &data, &len, &type)) {
		if (strcmp(m, "GET") && strcmp(m, "HEAD"))
			return not_allowed(rp, m, u);
		rp->status = 200;
		rp->raw = data;
		rp->raw_len = len;
		rp->content_type = type;
		return 1;
	}
	if (!strcmp(u, "/api/v1/session")) {
		if (!strcmp(m, "POST"))
			web_session_post(rq, rp);
		else if (!strcmp(m, "GET"))
			web_session_get(rq, rp);
		else if (!strcmp(m, "DELETE"))
			web_session_delete(rq, rp);
		else
			return not_allowed(rp, m, u);
		return 1;
	}
	if (!strcmp(u, "/api/v1/tokens")) {
		if (!strcmp(m, "GET"))
			web_tokens_list(rq, rp);
		else if (!strcmp(m, "POST"))
			web_tokens_create(rq, rp);
		else
			return not_allowed(rp, m, u);
		return 1;
	}
	if (!strncmp(u, "/api/v1/tokens/", 15)) {
		if (strcmp(m, "DELETE"))
			return not_allowed(rp, m, u);
		web_token_revoke(rq, rp, u + 15);
		return 1;
	}
	if (machine_tail(u, "/replication", id, sizeof(id))) {
		if (strcmp(m, "POST"))
			return not_allowed(rp, m, u);
		web_replication_post(rq, rp, id);
		return 1;
	}
	if (machine_tail(u, "/timeline", id, sizeof(id))) {
		if (strcmp(m, "GET"))
			return not_allowed(rp, m, u);
		web_timeline_get(rq, rp, id);
		return 1;
	}
	return 0;
}
