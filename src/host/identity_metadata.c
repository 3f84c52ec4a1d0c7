// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The EC2-style instance metadata service (also served by OpenStack and
 * others): PUT /latest/api/token for an IMDSv2 session token, then
 * GET /latest/meta-data/instance-id with it; services without tokens get
 * the plain IMDSv1 GET. One deadline covers every request, so a service
 * that never answers costs timeout_ms and no more.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "machine_id.h"
#include "util.h"

#define TOKEN_MAX 256  /* EC2 tokens are ~56 characters */
#define BODY_MAX 1024  /* more than any id or token: stop reading beyond it */

struct body {
	char buf[BODY_MAX + 1];
	size_t len;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n;

	if (k > BODY_MAX - b->len) {
		b->overflow = 1;
		return 0; /* curl aborts the transfer with CURLE_WRITE_ERROR */
	}
	memcpy(b->buf + b->len, data, k);
	b->len += k;
	b->buf[b->len] = '\0';
	return k;
}

int identity_instance_id_valid(const char *s)
{
	return machine_instance_id_valid(s);
}

struct req {
	CURL *h;
	const char *base;
	uint64_t deadline_ns;
	long timeout_ms;
	char *err;
	size_t errlen;
};

/* One request; 0 with *status and the body (NUL-terminated), or -errno
 * for no answer at all, with err set. */
static int request(struct req *r, const char *method, const char *path, const char *header,
		   struct body *b, long *status)
{
	char url[1024], cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	uint64_t now = now_mono_ns();
	long left_ms;
	CURLcode cc;

	if (now >= r->deadline_ns) {
		snprintf(r->err, r->errlen, "no answer from %s within %ld ms", r->base,
			 r->timeout_ms);
		return -ETIMEDOUT;
	}
	left_ms = (long)((r->deadline_ns - now + 999999) / 1000000);
	if (snprintf(url, sizeof(url), "%s%s", r->base, path) >= (int)sizeof(url)) {
		snprintf(r->err, r->errlen, "metadata URL too long");
		return -ENAMETOOLONG;
	}
	memset(b, 0, sizeof(*b));
	if (header && !(hdrs = curl_slist_append(NULL, header)))
		return -ENOMEM;
	curl_easy_reset(r->h);
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	/* link-local metadata must never go through a proxy from the environment */
	curl_easy_setopt(r->h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, left_ms);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, left_ms);
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "livemig/" LIVEMIG_VERSION);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, b);
	if (hdrs)
		curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(method, "PUT")) {
		/* an empty PUT body: POSTFIELDS with the method renamed */
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	cc = curl_easy_perform(r->h);
	curl_slist_free_all(hdrs);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, status);
		return 0;
	}
	if (cc == CURLE_WRITE_ERROR && b->overflow) {
		snprintf(r->err, r->errlen, "%s %s: answer longer than %d bytes", method, url,
			 BODY_MAX);
		return -EPROTO;
	}
	snprintf(r->err, r->errlen, "%s %s: %s", method, url, cerr[0] ? cerr : curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	default:
		return -EHOSTUNREACH;
	}
}

/* GET the instance id with or without a token. 0, -EAGAIN for an HTTP
 * refusal (worth trying the other way), other -errno as request(). */
static int get_id(struct req *r, const char *token, char id[INSTANCE_ID_MAX + 1])
{
	char hdr[TOKEN_MAX + 64];
	struct body b;
	long status = 0;
	int rc;

	if (token)
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", token);
	rc = request(r, "GET", "/latest/meta-data/instance-id", token ? hdr : NULL, &b, &status);
	if (rc)
		return rc;
	if (status != 200) {
		snprintf(r->err, r->errlen, "GET %s/latest/meta-data/instance-id%s: HTTP %ld",
			 r->base, token ? " (IMDSv2)" : "", status);
		return -EAGAIN;
	}
	/* a line ending after the id is formatting, not part of it */
	if (b.len > 0 && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	if (b.len > 0 && b.buf[b.len - 1] == '\r')
		b.buf[--b.len] = '\0';
	if (strlen(b.buf) != b.len || !identity_instance_id_valid(b.buf)) {
		snprintf(r->err, r->errlen,
			 "%s/latest/meta-data/instance-id: not an instance id (%zu bytes; "
			 "want 1 to %d printable characters)",
			 r->base, b.len, INSTANCE_ID_MAX);
		return -EPROTO;
	}
	memcpy(id, b.buf, b.len + 1);
	return 0;
}

/* IMDSv2 session token, or 0 with token[0] = '\0' when the service hands
 * out none (IMDSv1-only services answer 403, 404 or 405). */
static int get_token(struct req *r, char token[TOKEN_MAX + 1])
{
	struct body b;
	long status = 0;
	int rc;

	token[0] = '\0';
	rc = request(r, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds: 60",
		     &b, &status);
	if (rc == -EPROTO)
		return 0; /* an oversized token: try IMDSv1 */
	if (rc)
		return rc;
	if (status == 200 && b.len <= TOKEN_MAX && strlen(b.buf) == b.len) {
		int ok = b.len > 0;

		for (size_t i = 0; i < b.len; i++)
			ok = ok && isgraph((unsigned char)b.buf[i]);
		if (ok)
			memcpy(token, b.buf, b.len + 1);
	}
	return 0;
}

int identity_metadata_id(const char *base, long timeout_ms, char id[INSTANCE_ID_MAX + 1],
			 char *method, size_t methodlen, char *err, size_t errlen)
{
	char token[TOKEN_MAX + 1], trimmed[512];
	struct req r = { .timeout_ms = timeout_ms, .err = err, .errlen = errlen };
	size_t n = strlen(base);
	int rc;

	/* "http://169.254.169.254/" and "http://169.254.169.254" alike */
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(trimmed)) {
		snprintf(err, errlen, "bad metadata URL '%s'", base);
		return -EINVAL;
	}
	memcpy(trimmed, base, n);
	trimmed[n] = '\0';
	r.base = trimmed;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return -ENOMEM;
	}
	r.h = curl_easy_init();
	if (!r.h) {
		curl_global_cleanup();
		snprintf(err, errlen, "libcurl initialisation failed");
		return -ENOMEM;
	}
	r.deadline_ns = now_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	rc = get_token(&r, token);
	if (rc == 0 && token[0]) {
		rc = get_id(&r, token, id);
		if (rc == 0)
			snprintf(method, methodlen, "IMDSv2");
	}
	/* IMDSv1 when there was no token, or the token was not accepted; not
	 * after a timeout, which has spent the whole budget */
	if ((rc == 0 && !token[0]) || rc == -EAGAIN || rc == -ECONNREFUSED || rc == -EHOSTUNREACH) {
		rc = get_id(&r, NULL, id);
		if (rc == 0)
			snprintf(method, methodlen, "IMDSv1");
	}
	if (rc == -EAGAIN)
		rc = -EPROTO;
	curl_easy_cleanup(r.h);
	curl_global_cleanup();
	return rc;
}
