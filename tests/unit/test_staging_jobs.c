// SPDX-License-Identifier: GPL-2.0-or-later
/* Staging's job runner (src/staging/jobs.c) and what the launch and destroy
 * kinds refuse before they run anything: the reports staging sends, the
 * numbering of a re-run's log lines after the console's (log_seq). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jobs.h"
#include "launch_job.h"

static char store[] = "/tmp/livemig-test-jobs.XXXXXX";

/* The job's report once it ended (new reference); fails the test after a
 * generous bound. */
static json_t *ended(json_int_t id)
{
	for (int i = 0; i < 6000; i++) {
		json_t *all = jobs_reports(), *r;
		size_t k;

		json_array_foreach(all, k, r)
			if (json_integer_value(json_object_get(r, "id")) == id &&
			    strcmp(json_string_value(json_object_get(r, "state")), "running")) {
				json_incref(r);
				json_decref(all);
				return r;
			}
		json_decref(all);
		usleep(10000);
	}
	fail_msg("job %lld did not end", (long long)id);
	return NULL;
}

static json_t *run(json_int_t id, const char *kind, const char *params, json_int_t log_seq)
{
	json_t *list = json_pack("[{s:I, s:s, s:s, s:o, s:I}]", "id", id, "kind", kind, "machine", "m1",
				 "params", json_loads(params, 0, NULL), "log_seq", log_seq);
	json_t *r, *sent;

	jobs_receive(list);
	r = ended(id);
	sent = json_pack("[O]", r);
	jobs_reported(sent);
	json_decref(sent);
	json_decref(list);
	return r;
}

static const char *error_of(const json_t *r)
{
	return json_string_value(json_object_get(r, "error"));
}

static void test_no_launcher(void **state)
{
	struct launch_config none = { 0 };
	json_t *r;

	(void)state;
	launch_configure(&none);
	r = run(1, "launch", "{\"name\": \"m1-test-1\", \"purpose\": \"test\", \"point\": 1}", 0);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "failed");
	assert_string_equal(error_of(r), "this staging server has no launcher (--launch-driver): docs/launch.md");
	json_decref(r);
	/* nothing launched here (no STORE/.launches/NAME): nothing to destroy */
	r = run(2, "destroy", "{\"name\": \"m1-test-1\", \"point\": 1}", 0);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "succeeded");
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "destroyed")));
	json_decref(r);
}

static void test_params(void **state)
{
	struct launch_config export = { .driver = "export", .launcher = "/nonexistent/livemig-launch",
					.dir = store };
	json_t *r;

	(void)state;
	launch_configure(&export);
	r = run(3, "launch", "{\"name\": \"../etc\", \"purpose\": \"test\", \"point\": 1}", 0);
	assert_string_equal(error_of(r), "params.name must be an instance name (1 to 63 of [A-Za-z0-9_.-])");
	json_decref(r);
	r = run(4, "launch", "{\"name\": \"m1-test-4\", \"purpose\": \"test\"}", 0);
	assert_string_equal(error_of(r), "params.point is required: the recovery point to launch");
	json_decref(r);
	r = run(5, "launch", "{\"name\": \"m1-test-5\", \"purpose\": \"test\", \"point\": 1, \"cpus\": 0}", 0);
	assert_string_equal(error_of(r), "params.cpus must be 1 to 64 and params.memory_mib 64 to 1048576");
	json_decref(r);
	r = run(6, "launch", "{\"name\": \"m1-test-6\", \"purpose\": \"test\", \"point\": 1}", 0);
	assert_non_null(strstr(error_of(r), "the launcher /nonexistent/livemig-launch cannot be run: no such file"));
	assert_non_null(strstr(error_of(r), "or pass --launcher PATH"));
	json_decref(r);
}

/* A job run again after a restart numbers its lines after the console's. */
static void test_log_seq(void **state)
{
	json_t *r, *log;

	(void)state;
	r = run(7, "refresh-points", "{}", 41);
	log = json_object_get(r, "log");
	assert_true(json_array_size(log) >= 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "seq")), 42);
	assert_string_equal(json_string_value(json_object_get(json_array_get(log, 0), "line")), "started");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 1), "seq")), 43);
	json_decref(r);
	r = run(8, "format-disk", "{}", 0);
	assert_non_null(strstr(error_of(r), "does not know job kind 'format-disk'"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_launcher),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_log_seq),
	};
	int rc;

	if (!mkdtemp(store))
		return 1;
	jobs_init(store, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	jobs_shutdown();
	rmdir(store);
	return rc;
}
