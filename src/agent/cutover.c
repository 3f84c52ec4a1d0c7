// SPDX-License-Identifier: GPL-2.0-or-later
/* The cutover point the console asks for (cutover.h). */
#include "cutover.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "engine.h"
#include "log.h"

enum cutover_state { CO_NONE, CO_RUNNING, CO_DONE, CO_FAILED };

static const char *const state_names[] = {
	[CO_NONE] = "none", [CO_RUNNING] = "running", [CO_DONE] = "done", [CO_FAILED] = "failed",
};

struct cutover_record {
	int64_t requested_at;    /* unix s, the console's: identifies the request */
	char requested_by[160];
	enum cutover_state state;
	uint64_t consistent_ns;  /* the point's time; 0 until done */
	uint64_t point_id;       /* staging's id when the agent learns it (engine_point), else 0 */
	char error[512];
};

struct cutover {
	struct engine *e;
	char path[PATH_MAX];
	pthread_mutex_t mu;
	struct cutover_record rec; /* under mu */
	pthread_t thread;
	int joinable;              /* under mu: a thread was started and not joined */
	int warned;                /* a malformed request was logged */
};

static void iso_time(uint64_t ns, char *out, size_t n)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *record_json(const struct cutover_record *r, int with_by)
{
	json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s}", "requested_at",
			      (json_int_t)r->requested_at, "state", state_names[r->state],
			      "consistent_ns", (json_int_t)r->consistent_ns, "point_id",
			      (json_int_t)r->point_id, "error", r->error);

	if (o && with_by)
		json_object_set_new(o, "requested_by", json_string(r->requested_by));
	return o;
}

/* Only an ended request is kept: one cut short by a stop is made again
 * when the console repeats it after the restart. */
static void save(struct cutover *c, const struct cutover_record *r)
{
	json_t *doc = record_json(r, 1);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	int rc = text ? atomic_write_file(c->path, text, strlen(text), 0600) : -ENOMEM;

	if (rc)
		log_warn("cannot write %s (%s): a restart would make the cutover point of this "
			 "request again", c->path, strerror(-rc));
	free(text);
	json_decref(doc);
}

static void load(struct cutover *c)
{
	char *text = NULL;
	json_t *doc, *at;
	const char *state, *by, *error;
	struct cutover_record *r = &c->rec;

	if (read_small_file(c->path, &text, NULL, 16384))
		return;
	doc = json_loads(text, 0, NULL);
	free(text);
	at = json_object_get(doc, "requested_at");
	state = json_string_value(json_object_get(doc, "state"));
	by = json_string_value(json_object_get(doc, "requested_by"));
	error = json_string_value(json_object_get(doc, "error"));
	if (json_is_integer(at) && json_integer_value(at) > 0 && state &&
	    (!strcmp(state, "done") || !strcmp(state, "failed"))) {
		r->requested_at = (int64_t)json_integer_value(at);
		r->state = strcmp(state, "done") ? CO_FAILED : CO_DONE;
		snprintf(r->requested_by, sizeof(r->requested_by), "%s", by ? by : "");
		snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
		r->consistent_ns = (uint64_t)json_integer_value(json_object_get(doc, "consistent_ns"));
		r->point_id = (uint64_t)json_integer_value(json_object_get(doc, "point_id"));
	} else {
		log_warn("%s is not a cutover record: ignored", c->path);
	}
	json_decref(doc);
}

static void *cutover_main(void *arg)
{
	struct cutover *c = arg;
	struct cutover_record r;
	uint64_t id = 0, ns = 0;
	char err[512] = "", when[32];
	int rc;

	pthread_mutex_lock(&c->mu);
	r = c->rec;
	pthread_mutex_unlock(&c->mu);
	/* the freeze when the tracker can make a point while the source runs */
	rc = engine_point(c->e, &id, &ns, err, sizeof(err));
	if (rc == -EOPNOTSUPP) {
		id = 0;
		err[0] = '\0';
		rc = engine_sync(c->e, &ns, err, sizeof(err));
	}
	if (rc) {
		r.state = CO_FAILED;
		snprintf(r.error, sizeof(r.error), "%s", err[0] ? err : strerror(-rc));
		log_error("cutover point asked by the console (requested at %lld by %s) failed: %s",
			  (long long)r.requested_at, r.requested_by, r.error);
	} else {
		r.state = CO_DONE;
		r.consistent_ns = ns;
		r.point_id = id;
		iso_time(ns, when, sizeof(when));
		if (id)
			log_info("cutover point made: the replica is consistent as of %s (point %llu)",
				 when, (unsigned long long)id);
		else
			log_info("cutover point made: the replica is consistent as of %s (a final "
				 "sync: staging numbers its point)", when);
	}
	if (rc != -ECANCELED)
		save(c, &r);
	pthread_mutex_lock(&c->mu);
	c->rec = r;
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int cutover_init(struct cutover **out, struct engine *e, const char *state_dir)
{
	struct cutover *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->e = e;
	snprintf(c->path, sizeof(c->path), "%.*s/" CUTOVER_FILE,
		 (int)(sizeof(c->path) - sizeof(CUTOVER_FILE) - 2), state_dir);
	pthread_mutex_init(&c->mu, NULL);
	load(c);
	*out = c;
	return 0;
}

void cutover_request(struct cutover *c, const json_t *request)
{
	const json_t *at = json_object_get(request, "requested_at");
	const char *by = json_string_value(json_object_get(request, "requested_by"));
	struct cutover_record *r = &c->rec;
	char who[sizeof(r->requested_by)];
	int rc;

	if (!json_is_integer(at) || json_integer_value(at) <= 0) {
		if (!c->warned)
			log_warn("the console's cutover request has no valid requested_at: ignored");
		c->warned = 1;
		return;
	}
	/* the operator's name is the console's word: printable ASCII only */
	snprintf(who, sizeof(who), "%s", by && *by ? by : "an operator");
	for (char *p = who; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	pthread_mutex_lock(&c->mu);
	if ((r->state != CO_NONE && r->requested_at == (int64_t)json_integer_value(at)) ||
	    r->state == CO_RUNNING) {
		/* this one is made or being made; a newer one waits for the
		 * point in progress, the console asks again */
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (c->joinable) /* ended: its thread no longer takes mu */
		pthread_join(c->thread, NULL);
	c->joinable = 0;
	memset(r, 0, sizeof(*r));
	r->requested_at = (int64_t)json_integer_value(at);
	snprintf(r->requested_by, sizeof(r->requested_by), "%s", who);
	r->state = CO_RUNNING;
	/* before the thread, whose own lines follow */
	log_info("the console asks for the cutover point (requested at %lld by %s): making a "
		 "consistent point now", (long long)r->requested_at, who);
	rc = pthread_create(&c->thread, NULL, cutover_main, c);
	if (rc) {
		r->state = CO_FAILED;
		snprintf(r->error, sizeof(r->error), "cannot start the cutover point's thread: %s",
			 strerror(rc));
	} else {
		c->joinable = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (rc)
		log_error("cutover point asked by the console: %s", r->error);
}

json_t *cutover_status_json(struct cutover *c)
{
	json_t *o = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->rec.state != CO_NONE)
		o = record_json(&c->rec, 0);
	pthread_mutex_unlock(&c->mu);
	return o;
}

void cutover_free(struct cutover *c)
{
	if (!c)
		return;
	/* a start that failed half-way leaves the engine running: a point in
	 * progress would never end, and the process is about to exit */
	if (c->joinable && !engine_stopping(c->e))
		return;
	/* not under mu: the thread takes it to record its end */
	if (c->joinable)
		pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
