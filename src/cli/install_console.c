// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libcurl against livemig-console. Verification is never turned off: the
 * console's certificate must chain to the CA file given (and nothing else:
 * no CA directory, no native store), and name the URL's host.
 */
#include "install_console.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define BODY_MAX (1u << 20)     /* the console's own request limit; answers are far smaller */
#define CONNECT_TIMEOUT_S 5L
#define REQUEST_TIMEOUT_S 60L   /* a registration waits for the KDF and the database lock */
#define BACKOFF_MAX_S 8u

struct buf {
	char *data;
	size_t len;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t k = size * n;
	char *p;

	if (k > BODY_MAX - b->len) {
		b->overflow = 1;
		return 0;
	}
	p = realloc(b->data, b->len + k + 1);
	if (!p)
		return 0;
	b->data = p;
	memcpy(b->data + b->len, data, k);
	b->len += k;
	b->data[b->len] = '\0';
	return k;
}

void console_answer_clear(struct console_answer *a)
{
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
}

int console_url_check(const char *url, char *err, size_t errlen)
{
	const char *host = url + 8, *end;

	if (strncmp(url, "https://", 8)) {
		snprintf(err, errlen, "--console %s: expected https://HOST:PORT (the console speaks "
				      "HTTPS only)", url);
		return -EINVAL;
	}
	end = host + strcspn(host, "/?#");
	if (end == host || (*end && strcmp(end, "/"))) {
		snprintf(err, errlen, "--console %s: expected https://HOST:PORT with no path", url);
		return -EINVAL;
	}
	return 0;
}

static int classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return -EKEYREJECTED;
	case CURLE_SSL_CACERT_BADFILE:
		return -ENOENT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EHOSTUNREACH; /* worth another try: refused, reset, timed out, DNS */
	}
}

/* The error members of a JSON answer, or a description of a non-JSON one. */
static void parse_answer(struct console_answer *a, const struct buf *b)
{
	const char *code, *msg;

	a->body = b->len ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	code = json_string_value(json_object_get(a->body, "code"));
	msg = json_string_value(json_object_get(a->body, "error"));
	snprintf(a->code, sizeof(a->code), "%s", code ? code : "");
	if (msg)
		snprintf(a->error, sizeof(a->error), "%s", msg);
	else if (a->status >= 400)
		snprintf(a->error, sizeof(a->error), "HTTP %ld%s", a->status,
			 a->body ? "" : " (not a JSON answer: is this a livemig console?)");
}

/* One attempt. 0 with a filled in, or -errno as classify(). */
static int attempt(CURL *h, const struct console_client *c, const char *method, const char *url,
		   const char *body, struct curl_slist *hdrs, struct console_answer *a)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct buf b = { 0 };
	CURLcode cc;
	int rc = 0;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	/* as livemigd does: a proxy only when named, never one from the
	 * environment, which would see where the token and secret go */
	if (c->proxy)
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy);
	else
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "livemig/" LIVEMIG_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
		parse_answer(a, &b);
	} else if (cc == CURLE_WRITE_ERROR && b.overflow) {
		snprintf(a->error, sizeof(a->error), "%s %.300s: answer longer than %u bytes", method,
			 url, BODY_MAX);
		rc = -EPROTO;
	} else {
		snprintf(a->error, sizeof(a->error), "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = classify(cc);
	}
	free(b.data);
	return rc;
}

int console_call(const struct console_client *c, const char *method, const char *path,
		 const char *body, struct console_answer *a)
{
	struct curl_slist *hdrs = NULL, *h2;
	char url[1024], auth[256] = "";
	size_t ulen = strlen(c->url);
	CURL *h = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	if (ulen && c->url[ulen - 1] == '/')
		ulen--;
	if (snprintf(url, sizeof(url), "%.*s%s", (int)ulen, c->url, path) >= (int)sizeof(url)) {
		snprintf(a->error, sizeof(a->error), "console URL too long");
		return -EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(h = curl_easy_init()) ||
	    !(hdrs = curl_slist_append(NULL, "Content-Type: application/json")) ||
	    !(h2 = curl_slist_append(hdrs, "Accept: application/json"))) {
		snprintf(a->error, sizeof(a->error), "cannot set up libcurl");
		rc = -ENOMEM;
		goto out;
	}
	hdrs = h2;
	if (c->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->bearer);
		if (!(h2 = curl_slist_append(hdrs, auth))) {
			rc = -ENOMEM;
			goto out;
		}
		hdrs = h2;
	}
	for (unsigned i = 0;; i++) {
		unsigned wait_s;

		console_answer_clear(a);
		rc = attempt(h, c, method, url, body, hdrs, a);
		/* only "no answer" and the console's own "try again" are retried:
		 * any other answer is final, and so is a certificate that fails */
		if (!rc && a->status != 500 && a->status != 503)
			break;
		if (rc && rc != -EHOSTUNREACH)
			break;
		if (!rc)
			rc = -EHOSTUNREACH;
		if (i >= c->retries)
			break;
		wait_s = i < 4 ? 1u << i : BACKOFF_MAX_S;
		wait_s = wait_s > BACKOFF_MAX_S ? BACKOFF_MAX_S : wait_s;
		if (!c->quiet)
			fprintf(stderr, "livemig: console %s: %s; retrying in %u s (%u of %u)\n",
				c->url, a->error[0] ? a->error : "no answer", wait_s, i + 1,
				c->retries);
		sleep(wait_s);
	}
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	/* the list holds its own copy of the Authorization line */
	for (struct curl_slist *l = hdrs; l; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

int console_deregister(const struct console_client *c, const char *machine_id,
		       struct console_answer *a)
{
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/api/v1/machines/%s", machine_id);
	rc = console_call(c, "DELETE", path, NULL, a);
	if (rc)
		return rc;
	if (a->status == 200 && json_is_true(json_object_get(a->body, "deregistered")))
		return 0;
	if (!a->error[0])
		snprintf(a->error, sizeof(a->error), "unexpected answer: HTTP %ld", a->status);
	return -EPERM;
}
