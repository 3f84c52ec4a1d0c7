// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz what livemig-console accepts from a staging server: the body of
 * POST /api/v1/staging/sync is parsed as the console does (jansson, no
 * duplicate keys, an object) and checked by sync_request_check(). An
 * accepted body must hold what the console's writers rely on without
 * checking again (src/console/recovery_points.c, jobs.c), and a violation
 * aborts: valid machine names, point ids from 1, time_ns from 0, known
 * origins and consistencies, job ids from 1, known job states, log lines
 * within their limits, an advertised address that is HOST:PORT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "staging_sync.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_staging_sync: %s:%d: check failed: %s\n",    \
				__FILE__, __LINE__, #cond);                                \
			abort();                                                           \
		}                                                                          \
	} while (0)

static int in(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

static void check_accepted(const json_t *req)
{
	static const char *const origins[] = { "final-sync", "periodic", "requested", NULL };
	static const char *const cons[] = { "crash", "filesystem", "application", NULL };
	static const char *const states[] = { "running", "succeeded", "failed", NULL };
	const json_t *m, *p, *j, *l, *adv = json_object_get(req, "advertise");
	size_t i, k;

	/* what agents are told to connect to: HOST:PORT, nothing else */
	if (adv) {
		const char *a = json_string_value(adv);

		CHECK(a && strlen(a) <= SYNC_ADVERTISE_MAX && strrchr(a, ':') &&
		      strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") ==
			      strlen(a));
		CHECK(atoi(strrchr(a, ':') + 1) >= 1 && atoi(strrchr(a, ':') + 1) <= 65535);
	}
	json_array_foreach(json_object_get(req, "machines"), i, m) {
		const json_t *pts = json_object_get(m, "points");

		CHECK(name_valid(json_string_value(json_object_get(m, "machine"))));
		CHECK(pts || json_is_string(json_object_get(m, "points_error")) ||
		      json_string_length(json_object_get(m, "points_digest")) == 64);
		json_array_foreach(pts, k, p) {
			CHECK(json_integer_value(json_object_get(p, "id")) >= 1);
			CHECK(json_is_integer(json_object_get(p, "time_ns")) &&
			      json_integer_value(json_object_get(p, "time_ns")) >= 0);
			CHECK(in(json_string_value(json_object_get(p, "origin")), origins));
			CHECK(in(json_string_value(json_object_get(p, "consistency")), cons));
		}
	}
	json_array_foreach(json_object_get(req, "jobs"), i, j) {
		CHECK(json_integer_value(json_object_get(j, "id")) >= 1);
		CHECK(in(json_string_value(json_object_get(j, "state")), states));
		CHECK(json_array_size(json_object_get(j, "log")) <= SYNC_MAX_LOG_LINES);
		json_array_foreach(json_object_get(j, "log"), k, l)
			CHECK(json_string_length(json_object_get(l, "line")) <= JOB_LINE_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	char why[256];

	if (!req)
		return 0;
	if (json_is_object(req) && !sync_request_check(req, why, sizeof(why)))
		check_accepted(req);
	else if (json_is_object(req))
		CHECK(why[0] != '\0');
	json_decref(req);
	return 0;
}
