// SPDX-License-Identifier: GPL-2.0-or-later
/* console routes.c: the path parser and the dispatcher's 404/405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "routes.h"

static void test_match(void **state)
{
	char p[64];

	(void)state;
	assert_true(route_match("/", "/", p, sizeof(p), NULL, 0));
	assert_false(route_match("/", "/x", p, sizeof(p), NULL, 0));
	assert_true(route_match("/api/v1/machines", "/api/v1/machines", p, sizeof(p), NULL, 0));
	assert_false(route_match("/api/v1/machines", "/api/v1/machines/", p, sizeof(p), NULL, 0));
	assert_false(route_match("/api/v1/machines", "/api/v1/machine", p, sizeof(p), NULL, 0));
	assert_true(route_match("/api/v1/machines/{machine}/status", "/api/v1/machines/web-01/status",
				p, sizeof(p), NULL, 0));
	assert_string_equal(p, "web-01");
	assert_false(route_match("/api/v1/machines/{machine}", "/api/v1/machines/web-01/status", p,
				 sizeof(p), NULL, 0));
	assert_false(route_match("/api/v1/machines/{machine}", "/api/v1/machines/", p, sizeof(p), NULL, 0));
	/* not a machine name: no match, so a 404 */
	assert_false(route_match("/api/v1/machines/{machine}", "/api/v1/machines/a%20b", p,
				 sizeof(p), NULL, 0));
	assert_false(route_match("/api/v1/machines/{machine}", "/api/v1/machines/..", p, sizeof(p), NULL, 0));
	/* {id}: any one non-empty segment that fits */
	assert_true(route_match("/api/v1/tokens/{id}", "/api/v1/tokens/x y", p, sizeof(p), NULL, 0));
	assert_string_equal(p, "x y");
	assert_false(route_match("/api/v1/tokens/{id}", "/api/v1/tokens/0123456789012345678901234567890123456789012345678901234567890123",
				 p, sizeof(p), NULL, 0));
	assert_false(route_match("/api", "api", p, sizeof(p), NULL, 0));

	/* a second {parameter} goes to param2, and only when there is one */
	char q[8];

	assert_true(route_match("/api/v1/machines/{machine}/jobs/{id}", "/api/v1/machines/web-01/jobs/7",
				p, sizeof(p), q, sizeof(q)));
	assert_string_equal(p, "web-01");
	assert_string_equal(q, "7");
	assert_false(route_match("/api/v1/machines/{machine}/jobs/{id}", "/api/v1/machines/web-01/jobs/7",
				 p, sizeof(p), NULL, 0));
	assert_false(route_match("/api/v1/machines/{machine}/jobs/{id}",
				 "/api/v1/machines/web-01/jobs/123456789", p, sizeof(p), q, sizeof(q)));
}

static int called;

static void h_get(struct request *rq, struct reply *rp)
{
	called = 1;
	assert_string_equal(rq->param, "7");
	rp->status = 204;
}

static void test_dispatch(void **state)
{
	static const struct route t[] = { { "GET", "/things/{id}", h_get } };
	struct request rq = { .method = "GET", .url = "/things/7" };
	struct reply rp = { .status = 500 };

	(void)state;
	route_dispatch(t, 1, &rq, &rp);
	assert_true(called);
	assert_int_equal(rp.status, 204);
	rq.method = "DELETE";
	route_dispatch(t, 1, &rq, &rp);
	assert_int_equal(rp.status, 405);
	json_decref(rp.body);
	rp.body = NULL;
	rq.method = "GET";
	rq.url = "/things";
	route_dispatch(t, 1, &rq, &rp);
	assert_int_equal(rp.status, 404);
	assert_string_equal(json_string_value(json_object_get(rp.body, "code")), "not_found");
	json_decref(rp.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
