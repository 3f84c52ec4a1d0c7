// SPDX-License-Identifier: GPL-2.0-or-later
/* The shape of a staging sync request (staging_sync.h). Pure: no database,
 * so the fuzzer runs it directly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "staging_sync.h"
#include "util.h"

static int bad(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int is_count(const json_t *v, json_int_t min)
{
	return json_is_integer(v) && json_integer_value(v) >= min;
}

static int one_of(const json_t *v, const char *const *names)
{
	const char *s = json_string_value(v);

	for (; s && *names; names++)
		if (!strcmp(s, *names))
			return 1;
	return 0;
}

static const char *const origins[] = { "final-sync", "periodic", "requested", NULL };
static const char *const consistencies[] = { "crash", "filesystem", "application", NULL };
static const char *const job_states[] = { "running", "succeeded", "failed", NULL };

static int digest_valid(const json_t *d)
{
	const char *s = json_string_value(d);
	size_t i;

	if (!s || strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* HOST:PORT as agents' [staging] address takes it (a name, IPv4 or
 * [IPv6] host); nothing that could break a configuration or a log line. */
static int advertise_valid(const char *a)
{
	const char *colon, *c;
	unsigned long p;
	char *end;

	if (!a || strlen(a) > SYNC_ADVERTISE_MAX)
		return 0;
	for (c = a; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr(".-_:[]", *c)))
			return 0;
	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (!close || close == a + 1 || close[1] != ':' || strchr(close + 1, ']') ||
		    strchr(a + 1, '['))
			return 0;
		colon = close + 1;
	} else {
		colon = strchr(a, ':');
		if (!colon || colon == a || strchr(colon + 1, ':') || strpbrk(a, "[]"))
			return 0;
	}
	if (colon[1] < '0' || colon[1] > '9')
		return 0;
	p = strtoul(colon + 1, &end, 10);
	return !*end && p >= 1 && p <= 65535;
}

static int check_point(const json_t *p, const char *machine, size_t i, char *why, size_t n)
{
	if (!json_is_object(p))
		return bad(why, n, "machines[%s].points[%zu] is not an object", machine, i);
	if (!is_count(json_object_get(p, "id"), 1))
		return bad(why, n, "machines[%s].points[%zu].id must be an integer from 1", machine, i);
	if (!is_count(json_object_get(p, "time_ns"), 0))
		return bad(why, n, "machines[%s].points[%zu].time_ns must be an integer from 0",
			   machine, i);
	if (!json_is_string(json_object_get(p, "time")))
		return bad(why, n, "machines[%s].points[%zu].time must be a string", machine, i);
	if (!one_of(json_object_get(p, "origin"), origins))
		return bad(why, n, "machines[%s].points[%zu].origin must be final-sync, periodic "
			   "or requested", machine, i);
	if (!one_of(json_object_get(p, "consistency"), consistencies))
		return bad(why, n, "machines[%s].points[%zu].consistency must be crash, "
			   "filesystem or application", machine, i);
	if (!json_is_boolean(json_object_get(p, "pinned")))
		return bad(why, n, "machines[%s].points[%zu].pinned must be true or false",
			   machine, i);
	return 0;
}

static int check_machines(const json_t *ms, char *why, size_t n)
{
	json_t *seen = json_object(), *m;
	size_t i, j;
	int rc = 0;

	if (!seen)
		return -ENOMEM;
	if (!json_is_array(ms) || json_array_size(ms) > SYNC_MAX_MACHINES) {
		rc = bad(why, n, "\"machines\" must be an array of at most %u objects",
			 SYNC_MAX_MACHINES);
		goto out;
	}
	json_array_foreach(ms, i, m) {
		const char *name = json_string_value(json_object_get(m, "machine"));
		json_t *pts = json_object_get(m, "points"), *p, *dg;

		if (!json_is_object(m) || !name || !name_valid(name)) {
			rc = bad(why, n, "machines[%zu] must be an object with a valid \"machine\" "
				 "name", i);
			goto out;
		}
		if (json_object_get(seen, name)) {
			rc = bad(why, n, "machine %s is listed twice", name);
			goto out;
		}
		json_object_set_new(seen, name, json_true());
		dg = json_object_get(m, "points_digest");
		if (dg && !digest_valid(dg)) {
			rc = bad(why, n, "machines[%s].points_digest must be 64 lowercase hex digits",
				 name);
			goto out;
		}
		/* staging could not read them (it says why), or they are
		 * unchanged since the digest the console confirmed: what the
		 * console has stays */
		if (!pts && (json_is_string(json_object_get(m, "points_error")) || dg))
			continue;
		if (!json_is_array(pts) || json_array_size(pts) > SYNC_MAX_POINTS) {
			rc = bad(why, n, "machines[%s].points must be an array of at most %u points",
				 name, SYNC_MAX_POINTS);
			goto out;
		}
		json_array_foreach(pts, j, p)
			if ((rc = check_point(p, name, j, why, n)))
				goto out;
	}
out:
	json_decref(seen);
	return rc;
}

static int check_job(const json_t *jb, size_t i, char *why, size_t n)
{
	const json_t *log = json_object_get(jb, "log"), *res = json_object_get(jb, "result"),
		     *err = json_object_get(jb, "error"), *l;
	size_t k;

	if (!json_is_object(jb) || !is_count(json_object_get(jb, "id"), 1))
		return bad(why, n, "jobs[%zu] must be an object with an integer \"id\" from 1", i);
	if (!one_of(json_object_get(jb, "state"), job_states))
		return bad(why, n, "jobs[%zu].state must be running, succeeded or failed", i);
	if (res && !json_is_object(res))
		return bad(why, n, "jobs[%zu].result must be an object", i);
	if (err && (!json_is_string(err) || json_string_length(err) > JOB_ERROR_MAX))
		return bad(why, n, "jobs[%zu].error must be a string of at most %u bytes", i,
			   JOB_ERROR_MAX);
	if (!log)
		return 0;
	if (!json_is_array(log) || json_array_size(log) > SYNC_MAX_LOG_LINES)
		return bad(why, n, "jobs[%zu].log must be an array of at most %u lines", i,
			   SYNC_MAX_LOG_LINES);
	json_array_foreach(log, k, l) {
		const json_t *line = json_object_get(l, "line");

		if (!is_count(json_object_get(l, "seq"), 1) || !is_count(json_object_get(l, "at"), 0) ||
		    !json_is_string(line) || json_string_length(line) > JOB_LINE_MAX)
			return bad(why, n, "jobs[%zu].log[%zu] must be {\"seq\": N>=1, \"at\": "
				   "UNIX_SECONDS, \"line\": TEXT of at most %u bytes}", i, k,
				   JOB_LINE_MAX);
	}
	return 0;
}

int sync_request_check(const json_t *req, char *why, size_t whylen)
{
	const json_t *v = json_object_get(req, "version"), *store = json_object_get(req, "store"),
		     *jobs = json_object_get(req, "jobs"), *jb;
	size_t i;
	int rc;

	if (!json_is_object(req))
		return bad(why, whylen, "the body must be a JSON object");
	if (v && (!json_is_string(v) || json_string_length(v) > 64))
		return bad(why, whylen, "\"version\" must be a string of at most 64 bytes");
	if (store && (!json_is_object(store) ||
		      (json_object_get(store, "free_bytes") &&
		       !is_count(json_object_get(store, "free_bytes"), 0)) ||
		      (json_object_get(store, "total_bytes") &&
		       !is_count(json_object_get(store, "total_bytes"), 0))))
		return bad(why, whylen, "\"store\" must be {\"free_bytes\": N, \"total_bytes\": N}");
	if (json_object_get(req, "advertise") &&
	    !advertise_valid(json_string_value(json_object_get(req, "advertise"))))
		return bad(why, whylen, "\"advertise\" must be HOST:PORT (a host name, IPv4 "
			   "address or [IPv6] address, and a port from 1 to 65535)");
	if ((rc = check_machines(json_object_get(req, "machines"), why, whylen)))
		return rc;
	if (!jobs)
		return 0;
	if (!json_is_array(jobs) || json_array_size(jobs) > SYNC_MAX_JOBS)
		return bad(why, whylen, "\"jobs\" must be an array of at most %u reports",
			   SYNC_MAX_JOBS);
	json_array_foreach(jobs, i, jb)
		if ((rc = check_job(jb, i, why, whylen)))
			return rc;
	return 0;
}
