// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The heartbeat thread. Each beat posts the status document to
 * POST /api/v1/machines/ID/status and reads the answer:
 *   200      the console may name a new interval: follow it
 *   no answer, 5xx   "console unreachable since ...": retry with backoff
 *            (1 s, doubling, capped at the interval); replication goes on
 *   401/403  the secret is not (or no longer) this machine's: say so once
 *   410      deregistered, or removed by an operator: hold the engine
 *            (NOT_READY, saying which and what to do) and remember it;
 *            "finalized": the migration is over, livemigd uninstalls itself
 *            (main.c, finalize.c) and exits
 *   "replication" in a 200: an operator paused or resumed in the console
 *   "cutover" in a 200: the console cuts the machine over and asks for
 *            the cutover point (cutover.c)
 *   "staging" in a 200: the staging server the machine is placed on; a
 *            new one moves the sender there (staging_target.c)
 * Each kind of trouble is logged when it begins, not at every retry.
 */
#include "heartbeat.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "console_client.h"
#include "cutover.h"
#include "staging_target.h"
#include "log.h"
#include "util.h"

#define BACKOFF_FIRST_NS 1000000000ull
#define INTERVAL_MAX_S   86400
#define MARK_NAME        "console-deregistered"

enum beat_kind { BEAT_NONE, BEAT_OK, BEAT_UNREACHABLE, BEAT_REFUSED, BEAT_DEREGISTERED, BEAT_REJECTED };

struct heartbeat {
	struct engine *e;
	const struct agent_config *cfg;
	struct identity_report id;
	int have_id;
	struct console_client cl;
	pthread_t thread;
	int running;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* CLOCK_MONOTONIC; signalled at stop */

	/* under mu: the status document's "console" object */
	int connected;              /* the last heartbeat was accepted */
	int64_t last_ok;            /* unix s of the last accepted one, 0 = never */
	int64_t unreachable_since;  /* unix s, 0 = not unreachable */
	char last_error[640];
	uint64_t interval_ns;

	/* the thread's own */
	char applied[160];          /* the console's last replication request applied */
	enum beat_kind kind;        /* of the last answer, to log each trouble once */
	char logged_code[48];
	int marked;                 /* the deregistration mark is written */

	struct cutover *co;         /* the cutover point the console asks for */
	int said_bad_staging;       /* a staging address we could not use, logged */
	atomic_int finalized;       /* the console answered 410 finalized */
	char finalized_why[400];    /* set before finalized */
};

static void iso_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t now_s(void)
{
	return (int64_t)(now_real_ns() / 1000000000u);
}

/* ---- the deregistration mark ---- */

static void mark_path(const struct agent_config *cfg, char *out, size_t n)
{
	snprintf(out, n, "%.*s/" MARK_NAME, (int)(n - sizeof(MARK_NAME) - 2), cfg->state_dir);
}

/* Hex SHA-256 of the secret: the mark names the registration it is about
 * without storing the secret itself. */
static void secret_digest(const char *secret, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) || len != 32) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

int heartbeat_was_deregistered(const struct agent_config *cfg, const char *secret, char *reason,
			       size_t n)
{
	char path[PATH_MAX], digest[65], *text = NULL;
	const char *stored, *said;
	json_t *doc;
	int rc;

	mark_path(cfg, path, sizeof(path));
	if (read_small_file(path, &text, NULL, 4096))
		return 0;
	doc = json_loads(text, 0, NULL);
	free(text);
	secret_digest(secret, digest);
	stored = json_string_value(json_object_get(doc, "secret_sha256"));
	rc = digest[0] && stored && !strcmp(stored, digest);
	said = json_string_value(json_object_get(doc, "reason"));
	snprintf(reason, n, "%s", said && *said ? said : DEREGISTERED_REASON);
	json_decref(doc);
	if (!rc) {
		/* reinstalled since: a new secret, a new registration */
		log_info("%s is from an earlier registration: removing it", path);
		unlink(path);
	}
	return rc;
}

static void write_mark(struct heartbeat *hb, const char *reason)
{
	char path[PATH_MAX], digest[65], *text;
	json_t *doc;
	int rc = -ENOMEM;

	mark_path(hb->cfg, path, sizeof(path));
	secret_digest(hb->cl.secret, digest);
	doc = json_pack("{s:s, s:s, s:s, s:I, s:s}", "machine_id", hb->cfg->console.machine_id,
			"console", hb->cfg->console.url, "secret_sha256", digest, "deregistered_at",
			(json_int_t)now_s(), "reason", reason);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (text)
		rc = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	json_decref(doc);
	if (rc)
		log_warn("cannot write %s (%s): a restart would replicate until the console is asked again",
			 path, strerror(-rc));
	hb->marked = 1;
}

/* ---- the status document ---- */

void heartbeat_status_add(struct heartbeat *hb, json_t *doc)
{
	json_t *c;

	pthread_mutex_lock(&hb->mu);
	c = json_pack("{s:s, s:b, s:o, s:s, s:o, s:I}", "url", hb->cfg->console.url, "connected",
		      hb->connected, "last_ok",
		      hb->last_ok ? json_integer(hb->last_ok) : json_null(), "last_error",
		      hb->last_error, "unreachable_since",
		      hb->unreachable_since ? json_integer(hb->unreachable_since) : json_null(),
		      "heartbeat_interval", (json_int_t)(hb->interval_ns / 1000000000u));
	pthread_mutex_unlock(&hb->mu);
	json_object_set_new(doc, "console", c);
	if ((c = cutover_status_json(hb->co)))
		json_object_set_new(doc, "cutover", c);
	if (hb->have_id)
		json_object_set_new(doc, "identity", identity_check_report_json(&hb->id));
}

/* The status document plus what only the console needs. */
static char *beat_body(struct heartbeat *hb)
{
	json_t *doc = status_json(hb->e);
	char *text;

	heartbeat_status_add(hb, doc);
	json_object_set_new(doc, "agent_version", json_string(LIVEMIG_VERSION));
	if (hb->cfg->console.waived_checks[0]) {
		char list[sizeof(hb->cfg->console.waived_checks)], *save = NULL;
		json_t *a = json_array();

		snprintf(list, sizeof(list), "%s", hb->cfg->console.waived_checks);
		for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(id));
		json_object_set_new(doc, "waived_checks", a);
	}
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

/* ---- answers ---- */

static void set_state(struct heartbeat *hb, int connected, const char *error)
{
	pthread_mutex_lock(&hb->mu);
	hb->connected = connected;
	snprintf(hb->last_error, sizeof(hb->last_error), "%s", error);
	if (connected) {
		hb->last_ok = now_s();
		hb->unreachable_since = 0;
	}
	pthread_mutex_unlock(&hb->mu);
}

/* Log msg when this kind (and console code) of trouble is new. */
static void note(struct heartbeat *hb, enum beat_kind kind, const char *code, int level,
		 const char *msg)
{
	if (hb->kind != kind || strcmp(hb->logged_code, code))
		log_msg((enum log_level)level, "%s", msg);
	hb->kind = kind;
	snprintf(hb->logged_code, sizeof(hb->logged_code), "%s", code);
}

static void on_unreachable(struct heartbeat *hb, const char *why)
{
	char since[32], msg[sizeof(hb->last_error)];
	int64_t t;

	pthread_mutex_lock(&hb->mu);
	if (!hb->unreachable_since)
		hb->unreachable_since = now_s();
	t = hb->unreachable_since;
	pthread_mutex_unlock(&hb->mu);
	iso_time(t, since, sizeof(since));
	snprintf(msg, sizeof(msg), "console unreachable since %s: %.500s", since, why);
	set_state(hb, 0, msg);
	if (hb->kind != BEAT_UNREACHABLE)
		log_warn("%s; replication goes on, heartbeats retry", msg);
	hb->kind = BEAT_UNREACHABLE;
	hb->logged_code[0] = '\0';
}

/* An operator paused or resumed replication in the console's page: the
 * answer carries {"state": "paused"|"running", "requested_at", "requested_by"}.
 * Each request is applied once, through the path `livemig pause` takes,
 * so a local `livemig pause` or `resume` afterwards still holds until the
 * console asks something new. */
static void apply_replication(struct heartbeat *hb, const json_t *r)
{
	const char *state = json_string_value(json_object_get(r, "state"));
	const char *by = json_string_value(json_object_get(r, "requested_by"));
	json_int_t at = json_integer_value(json_object_get(r, "requested_at"));
	char key[sizeof(hb->applied)], err[256] = "";
	int pause, rc;

	if (!state || (strcmp(state, "paused") && strcmp(state, "running")))
		return;
	snprintf(key, sizeof(key), "%s %lld %.100s", state, (long long)at, by ? by : "");
	if (!strcmp(key, hb->applied))
		return;
	snprintf(hb->applied, sizeof(hb->applied), "%s", key);
	pause = !strcmp(state, "paused");
	log_info("the console asks to %s replication (requested by %s)", pause ? "pause" : "resume",
		 by ? by : "an operator");
	rc = pause ? engine_pause(hb->e, err, sizeof(err)) : engine_resume(hb->e, err, sizeof(err));
	if (rc)
		log_warn("cannot %s replication as the console asks: %s", pause ? "pause" : "resume",
			 err[0] ? err : strerror(rc < 0 ? -rc : rc));
}

/* The staging server the console placed the machine on: a drain or a pin
 * moves it (docs/staging-placement.md). */
static void apply_staging(struct heartbeat *hb, const json_t *st)
{
	const char *server = json_string_value(json_object_get(st, "server"));
	const char *address = json_string_value(json_object_get(st, "address"));

	if (server && address && staging_target_move(hb->e, server, address) != -EINVAL)
		return;
	if (!hb->said_bad_staging)
		log_warn("the console names staging server %s at '%s', which is not HOST:PORT: "
			 "staying where this agent connects", server ? server : "?",
			 address ? address : "");
	hb->said_bad_staging = 1;
}

static void on_ok(struct heartbeat *hb, const struct console_answer *a)
{
	json_t *v = json_object_get(a->body, "heartbeat_interval");
	int64_t was;

	pthread_mutex_lock(&hb->mu);
	was = hb->unreachable_since;
	pthread_mutex_unlock(&hb->mu);
	if (hb->kind != BEAT_OK) {
		if (was)
			log_info("console reachable again after %lld s: heartbeats resume",
				 (long long)(now_s() - was));
		else
			log_info("heartbeats accepted by the console at %s", hb->cfg->console.url);
	}
	hb->kind = BEAT_OK;
	hb->logged_code[0] = '\0';
	set_state(hb, 1, "");
	/* the console sets the pace for all its agents */
	if (json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= INTERVAL_MAX_S) {
		uint64_t ns = (uint64_t)json_integer_value(v) * 1000000000u;

		pthread_mutex_lock(&hb->mu);
		if (ns != hb->interval_ns)
			log_info("the console asks for a heartbeat every %lld s",
				 (long long)json_integer_value(v));
		hb->interval_ns = ns;
		pthread_mutex_unlock(&hb->mu);
	}
	if (json_is_object(json_object_get(a->body, "replication")))
		apply_replication(hb, json_object_get(a->body, "replication"));
	if (json_is_object(json_object_get(a->body, "cutover")))
		cutover_request(hb->co, json_object_get(a->body, "cutover"));
	if (json_is_object(json_object_get(a->body, "staging")))
		apply_staging(hb, json_object_get(a->body, "staging"));
}

/* 410 "finalized": the machine was cut over and an operator finalized its
 * migration; the console already freed the license. No more heartbeats;
 * main() stops replication, removes what install wrote and exits 0. */
static void on_finalized(struct heartbeat *hb, const struct console_answer *a)
{
	const char *by = json_string_value(json_object_get(a->body, "finalized_by"));
	const json_t *at = json_object_get(a->body, "finalized_at");
	char when[32] = "";

	if (json_is_integer(at))
		iso_time((int64_t)json_integer_value(at), when, sizeof(when));
	snprintf(hb->finalized_why, sizeof(hb->finalized_why),
		 "the migration was finalized in the console (by %.160s%s%s): stopping "
		 "replication, removing this agent's configuration, credentials and state, and "
		 "exiting", by && *by ? by : "an operator", when[0] ? " at " : "", when);
	/* the operator's name is the console's word: printable ASCII only */
	for (char *p = hb->finalized_why; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	set_state(hb, 0, hb->finalized_why);
	log_info("%s", hb->finalized_why);
	atomic_store(&hb->finalized, 1);
	atomic_store(&hb->stop, 1);
	/* main() waits for signals only */
	kill(getpid(), SIGUSR1);
}

void heartbeat_gone_reason(const json_t *answer, char *out, size_t n)
{
	const char *code = json_string_value(json_object_get(answer, "code"));
	const char *by = json_string_value(json_object_get(answer, "removed_by"));
	const json_t *at = json_object_get(answer, "removed_at");
	char when[32] = "";

	if (!code || strcmp(code, "removed") || !by || !*by) {
		snprintf(out, n, "%s", DEREGISTERED_REASON);
		return;
	}
	if (json_is_integer(at))
		iso_time((int64_t)json_integer_value(at), when, sizeof(when));
	/* the operator's name is the console's word: printable ASCII only */
	snprintf(out, n, REMOVED_REASON " (%.160s%s%s): its license is free and staging refuses "
		 "its certificate; " REINSTALL_REMEDY, by, when[0] ? " at " : "", when);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
}

/* Whether the next beat should come sooner than the interval (backoff). */
static int on_answer(struct heartbeat *hb, const struct console_answer *a)
{
	char msg[sizeof(hb->last_error)];
	const char *error = a->error[0] ? a->error : "(no explanation)";

	if (a->status >= 200 && a->status < 300) {
		on_ok(hb, a);
		return 0;
	}
	if (a->status >= 500) {
		snprintf(msg, sizeof(msg), "the console answered %ld %s: %.400s", a->status, a->code,
			 error);
		on_unreachable(hb, msg);
		return 1;
	}
	if (a->status == 401 || a->status == 403) {
		snprintf(msg, sizeof(msg),
			 "the console refused this agent's secret (%ld %s: %.300s): the machine must "
			 "register again (livemig uninstall && livemig install)",
			 a->status, a->code, error);
		set_state(hb, 0, msg);
		note(hb, BEAT_REFUSED, a->code, LOG_LVL_ERROR, msg);
		return 0;
	}
	if (a->status == 410 && !strcmp(a->code, "finalized")) {
		on_finalized(hb, a);
		return 0;
	}
	if (a->status == 410) {
		char reason[400];

		heartbeat_gone_reason(a->body, reason, sizeof(reason));
		snprintf(msg, sizeof(msg), "%s (the console: %.200s)", reason, error);
		set_state(hb, 0, msg);
		hb->kind = BEAT_DEREGISTERED;
		engine_hold(hb->e, reason); /* logs it, once */
		if (!hb->marked)
			write_mark(hb, reason);
		return 0;
	}
	snprintf(msg, sizeof(msg), "the console refused the heartbeat (%ld %s: %.400s)", a->status,
		 a->code, error);
	set_state(hb, 0, msg);
	note(hb, BEAT_REJECTED, a->code, LOG_LVL_ERROR, msg);
	return 0;
}

/* ---- the thread ---- */

/* Sleep ns unless stopped. 1 when stopping. */
static int pause_for(struct heartbeat *hb, uint64_t ns)
{
	struct timespec dl;
	uint64_t t;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	t = (uint64_t)dl.tv_sec * 1000000000u + (uint64_t)dl.tv_nsec + ns;
	dl.tv_sec = (time_t)(t / 1000000000u);
	dl.tv_nsec = (long)(t % 1000000000u);
	pthread_mutex_lock(&hb->mu);
	while (!atomic_load(&hb->stop))
		if (pthread_cond_timedwait(&hb->cv, &hb->mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&hb->mu);
	return atomic_load(&hb->stop);
}

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	char path[FRAME_NAME_MAX + 64], err[600];
	uint64_t backoff = BACKOFF_FIRST_NS, next = 0;

	snprintf(path, sizeof(path), "/api/v1/machines/%s/status", hb->cfg->console.machine_id);
	while (!pause_for(hb, next)) {
		struct console_answer a;
		char *body = beat_body(hb);
		uint64_t interval;
		int rc, sooner;

		if (!body) {
			log_error("out of memory for the heartbeat");
			rc = -ENOMEM;
		} else {
			rc = console_client_post(&hb->cl, path, body, &a, err, sizeof(err));
			free(body);
		}
		if (rc == -ECANCELED)
			break;
		if (rc == 0) {
			sooner = on_answer(hb, &a);
			console_client_answer_free(&a);
		} else {
			on_unreachable(hb, err);
			sooner = 1;
		}
		pthread_mutex_lock(&hb->mu);
		interval = hb->interval_ns;
		pthread_mutex_unlock(&hb->mu);
		if (sooner) {
			next = backoff < interval ? backoff : interval;
			backoff *= 2;
		} else {
			next = interval;
			backoff = BACKOFF_FIRST_NS;
		}
	}
	return NULL;
}

int heartbeat_start(struct heartbeat **out, struct engine *e, const struct agent_config *cfg,
		    const char *secret, const struct identity_report *id, char *err, size_t errlen)
{
	struct heartbeat *hb = calloc(1, sizeof(*hb));
	pthread_condattr_t ca;
	int rc;

	if (!hb) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hb->e = e;
	hb->cfg = cfg;
	if (id) {
		hb->id = *id;
		hb->have_id = 1;
	}
	hb->interval_ns = cfg->console.heartbeat_interval_ns;
	if (cutover_init(&hb->co, e, cfg->state_dir)) {
		snprintf(err, errlen, "out of memory");
		free(hb);
		return -ENOMEM;
	}
	snprintf(hb->last_error, sizeof(hb->last_error), "no heartbeat sent yet");
	pthread_mutex_init(&hb->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hb->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = console_client_init(&hb->cl, &cfg->console, secret, &hb->stop, err, errlen);
	if (rc) {
		heartbeat_free(hb);
		return rc;
	}
	rc = pthread_create(&hb->thread, NULL, heartbeat_main, hb);
	if (rc) {
		snprintf(err, errlen, "cannot start the heartbeat thread: %s", strerror(rc));
		heartbeat_free(hb);
		return -rc;
	}
	hb->running = 1;
	*out = hb;
	return 0;
}

void heartbeat_stop(struct heartbeat *hb)
{
	if (!hb || !hb->running)
		return;
	pthread_mutex_lock(&hb->mu);
	atomic_store(&hb->stop, 1);
	pthread_cond_broadcast(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
	pthread_join(hb->thread, NULL);
	hb->running = 0;
}

void heartbeat_free(struct heartbeat *hb)
{
	if (!hb)
		return;
	heartbeat_stop(hb);
	cutover_free(hb->co);
	console_client_free(&hb->cl);
	pthread_cond_destroy(&hb->cv);
	pthread_mutex_destroy(&hb->mu);
	free(hb);
}

int heartbeat_finalized(struct heartbeat *hb, char *why, size_t n)
{
	if (!hb || !atomic_load(&hb->finalized))
		return 0;
	snprintf(why, n, "%s", hb->finalized_why);
	return 1;
}
