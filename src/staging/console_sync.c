// SPDX-License-Identifier: GPL-2.0-or-later
/* The sync thread (console_sync.h). */
#include "console_sync.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "jobs.h"
#include "log.h"
#include "points.h"
#include "reply_buf.h"
#include "revocation.h"
#include "secret_file.h"
#include "store_backend.h"
#include "util.h"

#define ANSWER_MAX (16u << 20) /* the certificate list grows with the machines */

static struct {
	struct console_sync_config cfg;
	char url[1024];
	struct curl_slist *headers;
	CURL *h;
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int asked;        /* under mu: sync now */
	int failing;      /* the last attempt failed (log changes only) */
	json_t *known;    /* sync thread only: the point lists the console holds */
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

int console_secret_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n;
	int rc;

	rc = secret_file_read("--console-credential", "staging secret", path, SYNC_SECRET_MAX, out,
			      outlen, err, errlen);
	if (rc == -EINVAL && (n = strlen(err)) < errlen)
		snprintf(err + n, errlen - n, "; print one with 'livemig-console admin add-staging NAME'");
	return rc;
}

/* SHA-256 of the list's canonical text, as hex; 0 or -ENOMEM. */
static int points_digest(const json_t *points, char out[65])
{
	char *text = json_dumps(points, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int ok;

	if (!text)
		return -ENOMEM;
	ok = EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) == 1 && n == 32;
	free(text);
	if (!ok)
		return -ENOMEM;
	hex_encode(md, n, out);
	return 0;
}

/* One machine's entry: its points, or only their digest when the console
 * holds that list already (a sync of an unchanged store stays small). */
static json_t *machine_entry(const char *name)
{
	json_t *pts = NULL, *m = NULL;
	char digest[65];
	const char *known;
	int rc = points_list_json(S.cfg.store_dir, name, &pts);

	if (rc)
		/* said, not sent as "no points": the console keeps what it had */
		return json_pack("{s:s, s:s}", "machine", name, "points_error", strerror(-rc));
	if (!points_digest(json_object_get(pts, "points"), digest)) {
		known = json_string_value(json_object_get(S.known, name));
		if (known && !strcmp(known, digest))
			m = json_pack("{s:s, s:s}", "machine", name, "points_digest", digest);
		else
			m = json_pack("{s:s, s:O, s:s}", "machine", name, "points",
				      json_object_get(pts, "points"), "points_digest", digest);
	}
	json_decref(pts);
	return m;
}

/* Every directory of the store with a machine's name, and its points. */
static json_t *machines_json(void)
{
	json_t *list = json_array();
	struct dirent *e;
	DIR *d = opendir(S.cfg.store_dir);

	if (!d || !list) {
		log_warn("console sync: cannot list the store %s: %s", S.cfg.store_dir,
			 strerror(errno));
		if (d)
			closedir(d);
		json_decref(list);
		return NULL;
	}
	while ((e = readdir(d))) {
		struct stat st;
		json_t *m;

		if (!name_valid(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) ||
		    !S_ISDIR(st.st_mode))
			continue;
		m = machine_entry(e->d_name);
		if (!m || json_array_append_new(list, m)) {
			closedir(d);
			json_decref(list);
			return NULL;
		}
	}
	closedir(d);
	return list;
}

static json_t *request_json(json_t **reports)
{
	uint64_t free_bytes, total_bytes;
	json_t *req, *machines = machines_json();

	if (!machines)
		return NULL;
	*reports = jobs_reports();
	req = json_pack("{s:s, s:o, s:O}", "version", LIVEMIG_VERSION, "machines", machines,
			"jobs", *reports ? *reports : json_array());
	/* the console may place machines here only when it knows where
	 * agents reach this server (docs/staging-placement.md) */
	if (req && S.cfg.advertise)
		json_object_set_new(req, "advertise", json_string(S.cfg.advertise));
	if (req && !store_space(S.cfg.store_dir, &free_bytes, &total_bytes))
		json_object_set_new(req, "store",
				    json_pack("{s:I, s:I}", "free_bytes", (json_int_t)free_bytes,
					      "total_bytes", (json_int_t)total_bytes));
	return req;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg, (void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&S.stop);
}

/* One POST. 0 with *answer (HTTP 200) or -errno with err. */
static int post(const char *body, json_t **answer, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct reply_buf b = { NULL, 0, ANSWER_MAX };
	long status = 0;
	CURLcode cc;
	json_t *j;

	curl_easy_reset(S.h);
	curl_easy_setopt(S.h, CURLOPT_URL, S.url);
	curl_easy_setopt(S.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(S.h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(S.h, CURLOPT_FOLLOWLOCATION, 0L);
	/* the console's certificate must chain to --console-ca and nothing else */
	curl_easy_setopt(S.h, CURLOPT_CAINFO, S.cfg.ca);
	curl_easy_setopt(S.h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(S.h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(S.h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(S.h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* a proxy from the environment would see the secret */
	curl_easy_setopt(S.h, CURLOPT_PROXY, "");
	curl_easy_setopt(S.h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(S.h, CURLOPT_CONNECTTIMEOUT_MS, (long)SYNC_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(S.h, CURLOPT_TIMEOUT_MS, (long)SYNC_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(S.h, CURLOPT_USERAGENT, "livemig-staging/" LIVEMIG_VERSION);
	curl_easy_setopt(S.h, CURLOPT_HTTPHEADER, S.headers);
	curl_easy_setopt(S.h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(S.h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(S.h, CURLOPT_WRITEFUNCTION, reply_buf_write);
	curl_easy_setopt(S.h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(S.h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(S.h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(S.h, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(S.h);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		free(b.data);
		return cc == CURLE_ABORTED_BY_CALLBACK ? -ECANCELED : -EHOSTUNREACH;
	}
	curl_easy_getinfo(S.h, CURLINFO_RESPONSE_CODE, &status);
	j = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
	free(b.data);
	if (status != 200) {
		snprintf(err, errlen, "the console answered %ld: %s", status,
			 json_string_value(json_object_get(j, "error"))
				 ? json_string_value(json_object_get(j, "error"))
				 : "(no message)");
		json_decref(j);
		return status == 401 ? -EACCES : -EPROTO;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "the console's answer is not a JSON object");
		json_decref(j);
		return -EPROTO;
	}
	*answer = j;
	return 0;
}

static int sync_once(char *err, size_t errlen)
{
	json_t *reports = NULL, *answer = NULL, *req = request_json(&reports);
	const json_t *certs, *jobs;
	char *body;
	int rc;

	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body) {
		json_decref(reports);
		snprintf(err, errlen, "cannot build the sync request");
		return -ENOMEM;
	}
	rc = post(body, &answer, err, errlen);
	free(body);
	if (rc) {
		json_decref(reports);
		return rc;
	}
	/* the console committed the reports with this answer */
	jobs_reported(reports);
	json_decref(reports);
	certs = json_object_get(json_object_get(answer, "revocation"), "machines");
	jobs = json_object_get(answer, "jobs");
	rc = revocation_apply(certs, json_integer_value(json_object_get(answer, "time")), err,
			      errlen);
	if (!rc && json_is_array(jobs))
		jobs_receive(jobs);
	json_decref(S.known);
	S.known = json_incref(json_object_get(answer, "points_known"));
	json_decref(answer);
	return rc;
}

static void *sync_thread(void *arg)
{
	uint64_t last = 0;
	char err[512];

	(void)arg;
	while (!atomic_load(&S.stop)) {
		uint64_t now = now_mono_ns(), due;
		int rc;

		last = now;
		rc = sync_once(err, sizeof(err));
		if (rc == -ECANCELED)
			break;
		if (rc && !S.failing)
			log_warn("console sync with %s failed: %s (retrying every %llu ms; "
				 "certificates are checked against the last list received)",
				 S.url, err, (unsigned long long)(S.cfg.interval_ns / 1000000u));
		else if (!rc && S.failing)
			log_info("console sync with %s works again", S.url);
		else if (!rc)
			log_debug("console sync done");
		S.failing = rc != 0;

		pthread_mutex_lock(&S.mu);
		for (;;) {
			struct timespec until;

			now = now_mono_ns();
			due = S.asked ? last + SYNC_MIN_GAP_NS : last + S.cfg.interval_ns;
			if (atomic_load(&S.stop) || now >= due)
				break;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += (time_t)((due - now) / 1000000000u);
			until.tv_nsec += (long)((due - now) % 1000000000u);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&S.cv, &S.mu, &until);
		}
		S.asked = 0;
		pthread_mutex_unlock(&S.mu);
	}
	return NULL;
}

void console_sync_now(void)
{
	pthread_mutex_lock(&S.mu);
	S.asked = 1;
	pthread_cond_signal(&S.cv);
	pthread_mutex_unlock(&S.mu);
}

static int headers_new(const char *secret)
{
	char auth[SYNC_SECRET_MAX + 32];
	struct curl_slist *h = NULL, *t;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", secret);
	/* "Expect:" turns off curl's 100-continue wait for larger bodies */
	if (!(t = curl_slist_append(h, "Content-Type: application/json")) || !(h = t) ||
	    !(t = curl_slist_append(h, "Accept: application/json")) || !(h = t) ||
	    !(t = curl_slist_append(h, "Expect:")) || !(h = t) ||
	    !(t = curl_slist_append(h, auth)) || !(h = t)) {
		curl_slist_free_all(h);
		explicit_bzero(auth, sizeof(auth));
		return -ENOMEM;
	}
	explicit_bzero(auth, sizeof(auth));
	S.headers = h;
	return 0;
}

int console_sync_start(const struct console_sync_config *cfg, char *err, size_t errlen)
{
	char secret[SYNC_SECRET_MAX + 1];
	pthread_condattr_t ca;
	size_t n = strlen(cfg->url);
	int rc;

	if (strncmp(cfg->url, "https://", 8) || n < 9 || n + 32 > sizeof(S.url)) {
		snprintf(err, errlen, "--console '%s' must be an https:// URL (for example "
			 "https://console.example:8443)", cfg->url);
		return -EINVAL;
	}
	if (access(cfg->ca, R_OK)) {
		snprintf(err, errlen, "cannot read --console-ca %s: %s (the PEM certificate of the "
			 "CA that signed the console's certificate)", cfg->ca, strerror(errno));
		return -errno;
	}
	rc = console_secret_read(cfg->credential, secret, sizeof(secret), err, errlen);
	if (rc)
		return rc;
	S.cfg = *cfg;
	snprintf(S.url, sizeof(S.url), "%.*s/api/v1/staging/sync",
		 (int)(cfg->url[n - 1] == '/' ? n - 1 : n), cfg->url);
	rc = headers_new(secret);
	explicit_bzero(secret, sizeof(secret));
	S.h = rc ? NULL : curl_easy_init();
	if (!S.h) {
		snprintf(err, errlen, "out of memory starting the console sync");
		console_sync_stop();
		return -ENOMEM;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&S.cv);
	pthread_cond_init(&S.cv, &ca);
	pthread_condattr_destroy(&ca);
	jobs_init(cfg->store_dir, console_sync_now);
	revocation_set_refresher(console_sync_now);
	rc = pthread_create(&S.thread, NULL, sync_thread, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the console sync thread: %s", strerror(rc));
		revocation_set_refresher(NULL);
		console_sync_stop();
		return -rc;
	}
	S.started = 1;
	log_info("syncing with the console at %s every %llu ms", cfg->url,
		 (unsigned long long)(cfg->interval_ns / 1000000u));
	return 0;
}

void console_sync_stop(void)
{
	revocation_set_refresher(NULL);
	if (S.started) {
		pthread_mutex_lock(&S.mu);
		atomic_store(&S.stop, 1);
		pthread_cond_signal(&S.cv);
		pthread_mutex_unlock(&S.mu);
		pthread_join(S.thread, NULL);
		S.started = 0;
	}
	jobs_shutdown();
	json_decref(S.known);
	S.known = NULL;
	if (S.h)
		curl_easy_cleanup(S.h);
	for (struct curl_slist *p = S.headers; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(S.headers);
	S.h = NULL;
	S.headers = NULL;
}
