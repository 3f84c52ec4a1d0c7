// SPDX-License-Identifier: GPL-2.0-or-later
/* Building replies and reading JSON request bodies, without libmicrohttpd
 * (http.h), so that the request parsers can be fuzzed on their own. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "util.h"

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
	if (!rp->body) {
		text_to_ascii(msg);
		rp->body = json_pack("{s:s, s:s}", "error", msg, "code", code);
	}
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
