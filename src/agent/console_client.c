// SPDX-License-Identifier: GPL-2.0-or-later
/* HTTPS calls from the agent to livemig-console (docs/agent-console.md). */
#include "console_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply_buf.h"
#include "secret_file.h"

#define ANSWER_MAX (64u * 1024) /* the console's answers are a few hundred bytes */

int console_client_load_secret(const char *path, char *out, size_t outlen, char *err,
			       size_t errlen)
{
	return secret_file_read("[console] secret_file", "agent secret", path, CONSOLE_SECRET_MAX,
				out, outlen, err, errlen);
}

int console_client_init(struct console_client *cl, const struct console_config *cfg,
			const char *secret, const atomic_int *stop, char *err, size_t errlen)
{
	char auth[CONSOLE_SECRET_MAX + 32];
	struct curl_slist *h = NULL, *t;

	memset(cl, 0, sizeof(*cl));
	cl->cfg = cfg;
	cl->stop = stop;
	snprintf(cl->secret, sizeof(cl->secret), "%s", secret);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", secret);
	/* "Expect:" turns off curl's 100-continue wait for bodies over 1 KiB */
	if (!(t = curl_slist_append(h, "Content-Type: application/json")) || !(h = t) ||
	    !(t = curl_slist_append(h, "Accept: application/json")) || !(h = t) ||
	    !(t = curl_slist_append(h, "Expect:")) || !(h = t) ||
	    !(t = curl_slist_append(h, auth)) || !(h = t)) {
		curl_slist_free_all(h);
		explicit_bzero(auth, sizeof(auth));
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	explicit_bzero(auth, sizeof(auth));
	cl->headers = h;
	cl->h = curl_easy_init();
	if (!cl->h) {
		console_client_free(cl);
		snprintf(err, errlen, "libcurl initialisation failed");
		return -ENOMEM;
	}
	return 0;
}

void console_client_free(struct console_client *cl)
{
	if (cl->h)
		curl_easy_cleanup(cl->h);
	/* the list holds a copy of the secret in the Authorization line */
	for (struct curl_slist *p = cl->headers; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(cl->headers);
	explicit_bzero(cl->secret, sizeof(cl->secret));
	cl->h = NULL;
	cl->headers = NULL;
}

/* libcurl calls this at least once a second, also while connecting: the
 * way a stopping daemon gets out of a request without waiting its timeout. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct console_client *cl = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return cl->stop && atomic_load(cl->stop);
}

static void setup(struct console_client *cl, const char *url, const char *body,
		  struct reply_buf *b, char *cerr)
{
	CURL *h = cl->h;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* curl's timeouts must not raise SIGALRM in a thread */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* the console's certificate must chain to [console] ca and nothing else:
	 * no system CA directory beside it, verification never off */
	curl_easy_setopt(h, CURLOPT_CAINFO, cl->cfg->ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* a proxy from the environment would see where the secret goes; only
	 * the one the configuration names is used */
	if (cl->cfg->proxy[0]) {
		curl_easy_setopt(h, CURLOPT_PROXY, cl->cfg->proxy);
		curl_easy_setopt(h, CURLOPT_NOPROXY, "");
	} else {
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONSOLE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CONSOLE_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "livemigd/" LIVEMIG_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, cl->headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, cl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_ABORTED_BY_CALLBACK: return -ECANCELED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EPROTO;
	}
}

int console_client_post(struct console_client *cl, const char *path, const char *body,
			struct console_answer *a, char *err, size_t errlen)
{
	char url[sizeof(cl->cfg->url) + 256], cerr[CURL_ERROR_SIZE] = "";
	struct reply_buf b = { NULL, 0, ANSWER_MAX };
	CURLcode cc;
	json_t *v;

	memset(a, 0, sizeof(*a));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", cl->cfg->url, path) >= sizeof(url)) {
		snprintf(err, errlen, "console URL too long");
		return -ENAMETOOLONG;
	}
	setup(cl, url, body, &b, cerr);
	cc = curl_easy_perform(cl->h);
	if (cc != CURLE_OK) {
		int rc = curl_errno(cc);

		if (cc == CURLE_PEER_FAILED_VERIFICATION)
			snprintf(err, errlen, "POST %s: the console's certificate is not trusted by "
				 "[console] ca %s: %s", url, cl->cfg->ca, cerr[0] ? cerr :
				 curl_easy_strerror(cc));
		else
			snprintf(err, errlen, "POST %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
		free(b.data);
		return rc;
	}
	curl_easy_getinfo(cl->h, CURLINFO_RESPONSE_CODE, &a->status);
	if (b.data)
		a->body = json_loadb(b.data, b.len, 0, NULL);
	free(b.data);
	if ((v = json_object_get(a->body, "code")) && json_is_string(v))
		snprintf(a->code, sizeof(a->code), "%s", json_string_value(v));
	if ((v = json_object_get(a->body, "error")) && json_is_string(v))
		snprintf(a->error, sizeof(a->error), "%s", json_string_value(v));
	return 0;
}

void console_client_answer_free(struct console_answer *a)
{
	json_decref(a->body);
	a->body = NULL;
}
