// SPDX-License-Identifier: GPL-2.0-or-later
/* The console's route table and path parser (routes.h). */
#include "routes.h"

#include <string.h>

#include "api.h"
#include "util.h"
#include "web.h"

static void health_get(struct request *rq, struct reply *rp)
{
	(void)rq;
	reply_json(rp, 200, json_pack("{s:b, s:s}", "ok", 1, "version", LIVEMIG_VERSION));
}

/* The page's built-in files (web_assets.c); GET and HEAD alike. */
static void asset_get(struct request *rq, struct reply *rp)
{
	const char *data, *type;
	size_t len;

	if (web_asset(rq->url, &data, &len, &type)) {
		reply_error(rp, 404, "not_found", "no such endpoint: %s", rq->url);
		return;
	}
	rp->status = 200;
	rp->raw = data;
	rp->raw_len = len;
	rp->content_type = type;
}

static const struct route console_routes[] = {
	/* the web page and its assets */
	{ "GET", "/", asset_get },
	{ "HEAD", "/", asset_get },
	{ "GET", "/index.html", asset_get },
	{ "HEAD", "/index.html", asset_get },
	{ "GET", "/assets/app.js", asset_get },
	{ "HEAD", "/assets/app.js", asset_get },
	{ "GET", "/assets/launch.js", asset_get },
	{ "HEAD", "/assets/launch.js", asset_get },
	{ "GET", "/assets/app.css", asset_get },
	{ "HEAD", "/assets/app.css", asset_get },
	/* the page's session and installation tokens (web_session.c, web_tokens.c) */
	{ "POST", "/api/v1/session", web_session_post },
	{ "GET", "/api/v1/session", web_session_get },
	{ "DELETE", "/api/v1/session", web_session_delete },
	{ "GET", "/api/v1/tokens", web_tokens_list },
	{ "POST", "/api/v1/tokens", web_tokens_create },
	{ "DELETE", "/api/v1/tokens/{id}", web_token_revoke },
	{ "GET", "/api/v1/ca/console.pem", web_ca_get },
	/* the REST API (docs/console-api.md) */
	{ "GET", "/api/v1/health", health_get },
	{ "GET", "/metrics", api_metrics_get },
	{ "POST", "/api/v1/register", api_register },
	{ "POST", "/api/v1/register/check", api_register_check },
	{ "GET", "/api/v1/machines", api_machines_list },
	{ "GET", "/api/v1/machines/", api_machines_list },
	{ "GET", "/api/v1/machines/{machine}", api_machine_get },
	{ "DELETE", "/api/v1/machines/{machine}", api_machine_delete },
	{ "POST", "/api/v1/machines/{machine}/status", api_status_post },
	{ "POST", "/api/v1/machines/{machine}/replication", web_replication_post },
	{ "GET", "/api/v1/machines/{machine}/timeline", web_timeline_get },
	{ "GET", "/api/v1/machines/{machine}/points", api_points_get },
	{ "GET", "/api/v1/machines/{machine}/jobs", api_jobs_list },
	{ "POST", "/api/v1/machines/{machine}/jobs", api_jobs_post },
	{ "GET", "/api/v1/machines/{machine}/jobs/{id}", api_job_get },
	{ "GET", "/api/v1/machines/{machine}/lifecycle", api_lifecycle_get },
	{ "POST", "/api/v1/machines/{machine}/lifecycle", api_lifecycle_post },
	{ "POST", "/api/v1/staging/sync", api_staging_sync },
	{ "GET", "/api/v1/audit", api_audit_get },
	{ "GET", "/api/v1/machines/{machine}/audit", api_machine_audit_get },
};

/* The next segment of a path or pattern starting at *s (after a '/'): its
 * length; *s moves past it and past the '/' that follows, if any. */
static size_t next_segment(const char **s, const char **seg, int *more)
{
	const char *slash = strchr(*s, '/');
	size_t n = slash ? (size_t)(slash - *s) : strlen(*s);

	*seg = *s;
	*more = slash != NULL;
	*s = slash ? slash + 1 : *s + n;
	return n;
}

int route_match(const char *pattern, const char *path, char *param, size_t plen, char *param2,
		size_t plen2)
{
	const char *p = pattern, *u = path, *ps, *us;
	int pmore = 1, umore = 1, nparams = 0;

	if (*p != '/' || *u != '/')
		return 0;
	p++;
	u++;
	while (pmore && umore) {
		size_t pn = next_segment(&p, &ps, &pmore);
		size_t un = next_segment(&u, &us, &umore);

		if (pn > 2 && ps[0] == '{' && ps[pn - 1] == '}') {
			char *dst = nparams == 0 ? param : nparams == 1 ? param2 : NULL;
			size_t cap = nparams == 0 ? plen : plen2;

			nparams++;
			if (!dst || !un || un >= cap || memchr(us, '\0', un))
				return 0;
			memcpy(dst, us, un);
			dst[un] = '\0';
			if (pn == sizeof("{machine}") - 1 && !memcmp(ps, "{machine}", pn) &&
			    !name_valid(dst))
				return 0;
		} else if (pn != un || memcmp(ps, us, pn)) {
			return 0;
		}
	}
	return !pmore && !umore;
}

void route_dispatch(const struct route *table, size_t n, struct request *rq, struct reply *rp)
{
	int path_known = 0;

	for (size_t i = 0; i < n; i++) {
		if (!route_match(table[i].pattern, rq->url, rq->param, sizeof(rq->param), rq->param2,
				 sizeof(rq->param2)))
			continue;
		if (strcmp(table[i].method, rq->method)) {
			path_known = 1;
			continue;
		}
		table[i].fn(rq, rp);
		return;
	}
	rq->param[0] = '\0';
	rq->param2[0] = '\0';
	if (path_known)
		reply_error(rp, 405, "method_not_allowed", "%s is not allowed on %s", rq->method,
			    rq->url);
	else
		reply_error(rp, 404, "not_found", "no such endpoint: %s", rq->url);
}

void route_request(struct request *rq, struct reply *rp)
{
	route_dispatch(console_routes, sizeof(console_routes) / sizeof(console_routes[0]), rq, rp);
}
