// SPDX-License-Identifier: GPL-2.0-or-later
/* cutover.c without an engine: what a restart reads back from
 * state_dir/cutover.json, and the console's requests that are not acted on
 * (a malformed one, one already made). The point itself is made by the
 * real engine in tests/integration/t_agent_lifecycle.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"
#include "cutover.h"
#include "engine.h"

static char dir[256];
static struct engine engine; /* never started: no request here reaches it */

static void write_record(const char *text)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/" CUTOVER_FILE, dir);
	if (!text) {
		unlink(path);
		return;
	}
	assert_int_equal(atomic_write_file(path, text, strlen(text), 0600), 0);
}

static json_t *status_after_init(struct cutover **c)
{
	assert_int_equal(cutover_init(c, &engine, dir), 0);
	return cutover_status_json(*c);
}

static void test_nothing_asked(void **state)
{
	struct cutover *c;

	(void)state;
	write_record(NULL);
	assert_null(status_after_init(&c));
	cutover_free(c);
}

static void test_done_read_back(void **state)
{
	struct cutover *c;
	json_t *s, *req;
	char *text;

	(void)state;
	write_record("{\"requested_at\": 1796550793, \"state\": \"done\", \"consistent_ns\": "
		     "1796550794164776201, \"point_id\": 7, \"error\": \"\", \"requested_by\": "
		     "\"alice@acme\"}");
	s = status_after_init(&c);
	assert_non_null(s);
	text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"consistent_ns\":1796550794164776201,\"error\":\"\","
				  "\"point_id\":7,\"requested_at\":1796550793,\"state\":\"done\"}");
	free(text);
	json_decref(s);
	/* the console repeats the same request: nothing starts (a start would
	 * reach the engine, which has no tracker here) */
	req = json_pack("{s:I, s:s}", "requested_at", (json_int_t)1796550793, "requested_by",
			"alice@acme");
	cutover_request(c, req);
	json_decref(req);
	s = cutover_status_json(c);
	assert_string_equal(json_string_value(json_object_get(s, "state")), "done");
	json_decref(s);
	cutover_free(c);
}

static void test_failed_read_back(void **state)
{
	struct cutover *c;
	json_t *s;

	(void)state;
	write_record("{\"requested_at\": 5, \"state\": \"failed\", \"consistent_ns\": 0, "
		     "\"point_id\": 0, \"error\": \"replication is paused\"}");
	s = status_after_init(&c);
	assert_string_equal(json_string_value(json_object_get(s, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(s, "error")), "replication is paused");
	json_decref(s);
	cutover_free(c);
}

static void test_not_records(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{\"requested_at\": 5, \"state\": \"running\"}", /* cut short: made again */
		"{\"requested_at\": 0, \"state\": \"done\"}",
		"{\"requested_at\": \"5\", \"state\": \"done\"}",
		"[]",
	};
	struct cutover *c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_record(bad[i]);
		assert_null(status_after_init(&c));
		cutover_free(c);
	}
}

static void test_malformed_requests(void **state)
{
	const char *bad[] = { "{}", "{\"requested_at\": 0}", "{\"requested_at\": -3}",
			      "{\"requested_at\": \"1796550793\"}", "{\"requested_at\": 1.5}" };
	struct cutover *c;

	(void)state;
	write_record(NULL);
	assert_int_equal(cutover_init(&c, &engine, dir), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *req = json_loads(bad[i], 0, NULL);

		assert_non_null(req);
		cutover_request(c, req);
		json_decref(req);
		assert_null(cutover_status_json(c));
	}
	cutover_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_asked),
		cmocka_unit_test(test_done_read_back),
		cmocka_unit_test(test_failed_read_back),
		cmocka_unit_test(test_not_records),
		cmocka_unit_test(test_malformed_requests),
	};
	char path[300];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/livemig-test-cutover.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(path, sizeof(path), "%s/" CUTOVER_FILE, dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
