// SPDX-License-Identifier: GPL-2.0-or-later
/* The console's list of current certificates, enforced (revocation.h). */
#include "revocation.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "log.h"
#include "util.h"

#define STATE_FORMAT 1
#define STATE_MAX    (64u << 20)

/* One owner: everything below under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static json_t *allowed;      /* NULL: never received a list, not enforcing */
static uint64_t generation;
static char *state_path;
static void (*refresher)(void);

static int valid_list(const json_t *machines)
{
	const char *name;
	json_t *fprs, *f;
	size_t i;

	if (!json_is_object(machines))
		return 0;
	json_object_foreach((json_t *)machines, name, fprs) {
		if (!name_valid(name) || !json_is_array(fprs))
			return 0;
		json_array_foreach(fprs, i, f)
			if (!json_is_string(f) || json_string_length(f) != 64)
				return 0;
	}
	return 1;
}

int revocation_init(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *m;
	char *text = NULL;
	size_t len;
	int rc;

	state_path = strdup(path);
	if (!state_path)
		return -ENOMEM;
	rc = read_small_file(path, &text, &len, STATE_MAX);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "cannot read the revocation list %s: %s", path, strerror(-rc));
		return rc;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	m = json_object_get(doc, "machines");
	if (!doc || json_integer_value(json_object_get(doc, "format")) != STATE_FORMAT ||
	    !valid_list(m)) {
		json_decref(doc);
		snprintf(err, errlen, "the revocation list %s is damaged; remove it only if this "
			 "server is to accept every certificate of the agent CA until it reaches the "
			 "console again", path);
		return -EUCLEAN;
	}
	pthread_mutex_lock(&mu);
	allowed = json_incref(m);
	generation++;
	pthread_mutex_unlock(&mu);
	log_info("enforcing the console's certificate list of %s (%zu machine%s)", path,
		 json_object_size(m), json_object_size(m) == 1 ? "" : "s");
	json_decref(doc);
	return 0;
}

void revocation_shutdown(void)
{
	pthread_mutex_lock(&mu);
	json_decref(allowed);
	allowed = NULL;
	refresher = NULL;
	free(state_path);
	state_path = NULL;
	pthread_mutex_unlock(&mu);
}

int revocation_apply(const json_t *machines, int64_t received_at, char *err, size_t errlen)
{
	json_t *doc, *copy;
	char *text;
	int rc;

	if (!valid_list(machines)) {
		snprintf(err, errlen, "the console's certificate list is malformed");
		return -EPROTO;
	}
	copy = json_deep_copy(machines);
	doc = json_pack("{s:i, s:I, s:O}", "format", STATE_FORMAT, "received_at",
			(json_int_t)received_at, "machines", copy);
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text) {
		json_decref(copy);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&mu);
	/* the file first: a crash between the two leaves the newer list on
	 * disk, never an older one in force after a restart */
	rc = state_path ? atomic_write_file(state_path, text, strlen(text), 0600) : 0;
	if (rc) {
		snprintf(err, errlen, "cannot write the revocation list %s: %s", state_path,
			 strerror(-rc));
	} else {
		if (!allowed)
			log_info("the console answered: enforcing its certificate list from now on");
		json_decref(allowed);
		allowed = copy;
		copy = NULL;
		generation++;
		pthread_cond_broadcast(&changed);
	}
	pthread_mutex_unlock(&mu);
	free(text);
	json_decref(copy);
	return rc;
}

static int check_locked(const char *machine, const char *fingerprint)
{
	json_t *fprs, *f;
	size_t i;

	if (!allowed)
		return 1;
	fprs = json_object_get(allowed, machine);
	json_array_foreach(fprs, i, f)
		if (!strcmp(json_string_value(f), fingerprint))
			return 1;
	return 0;
}

int revocation_check(const char *machine, const char *fingerprint)
{
	int ok;

	pthread_mutex_lock(&mu);
	ok = check_locked(machine, fingerprint);
	pthread_mutex_unlock(&mu);
	return ok;
}

int revocation_allows(const char *machine, const char *fingerprint)
{
	struct timespec until;
	void (*refresh)(void);
	uint64_t seen;
	int ok;

	pthread_mutex_lock(&mu);
	ok = check_locked(machine, fingerprint);
	refresh = refresher;
	seen = generation;
	pthread_mutex_unlock(&mu);
	if (ok || !refresh)
		return ok;
	refresh();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += REVOCATION_REFRESH_WAIT_MS / 1000;
	pthread_mutex_lock(&mu);
	while (generation == seen)
		if (pthread_cond_timedwait(&changed, &mu, &until) == ETIMEDOUT)
			break;
	ok = check_locked(machine, fingerprint);
	pthread_mutex_unlock(&mu);
	return ok;
}

uint64_t revocation_generation(void)
{
	uint64_t g;

	pthread_mutex_lock(&mu);
	g = generation;
	pthread_mutex_unlock(&mu);
	return g;
}

int revocation_enforcing(void)
{
	int e;

	pthread_mutex_lock(&mu);
	e = allowed != NULL;
	pthread_mutex_unlock(&mu);
	return e;
}

void revocation_set_refresher(void (*refresh)(void))
{
	pthread_mutex_lock(&mu);
	refresher = refresh;
	pthread_mutex_unlock(&mu);
}
