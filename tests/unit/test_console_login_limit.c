// SPDX-License-Identifier: GPL-2.0-or-later
/* console login_limit.c: the backoff on wrong passwords, on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "login_limit.h"

static int64_t fake_now;

static int64_t clock_ms(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static int setup(void **state)
{
	struct login_limiter *l = calloc(1, sizeof(*l));

	fake_now = 1000000;
	limiter_init(l, clock_ms, NULL);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	limiter_destroy(*state);
	free(*state);
	return 0;
}

static void test_backoff_doubles(void **state)
{
	struct login_limiter *l = *state;
	const char *k = "u:alice@acme";

	/* the first failures cost nothing */
	for (int i = 0; i < LIMIT_FREE_USER; i++) {
		assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), 0);
		limiter_failed(l, k);
	}
	/* then LIMIT_BASE_S, 2x, 4x ... after each further failure */
	for (unsigned d = LIMIT_BASE_S; d < LIMIT_MAX_S; d *= 2) {
		assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), d);
		fake_now += (int64_t)d * 1000 - 1;
		assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), 1);
		fake_now += 1;
		assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), 0);
		limiter_failed(l, k);
	}
	/* capped */
	assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), LIMIT_MAX_S);
	limiter_failed(l, k);
	assert_int_equal(limiter_wait(l, k, LIMIT_FREE_USER), LIMIT_MAX_S);
}

static void test_other_user_unaffected(void **state)
{
	struct login_limiter *l = *state;

	for (int i = 0; i < 50; i++)
		limiter_failed(l, "u:alice@acme");
	assert_true(limiter_wait(l, "u:alice@acme", LIMIT_FREE_USER) > 0);
	assert_int_equal(limiter_wait(l, "u:bob@acme", LIMIT_FREE_USER), 0);
	assert_int_equal(limiter_wait(l, "u:alice@globex", LIMIT_FREE_USER), 0);
}

static void test_success_clears_and_forgetting(void **state)
{
	struct login_limiter *l = *state;

	for (int i = 0; i < LIMIT_FREE_USER + 2; i++)
		limiter_failed(l, "u:bob@acme");
	assert_true(limiter_wait(l, "u:bob@acme", LIMIT_FREE_USER) > 0);
	limiter_succeeded(l, "u:bob@acme");
	assert_int_equal(limiter_wait(l, "u:bob@acme", LIMIT_FREE_USER), 0);
	for (int i = 0; i < 100; i++)
		limiter_failed(l, "a:192.0.2.1");
	assert_int_equal(limiter_wait(l, "a:192.0.2.1", LIMIT_FREE_ADDR), LIMIT_MAX_S);
	fake_now += (int64_t)LIMIT_FORGET_S * 1000 + 1;
	assert_int_equal(limiter_wait(l, "a:192.0.2.1", LIMIT_FREE_ADDR), 0);
}

/* Many keys (a guesser inventing user names) never grow the table and
 * never evict a key held back more recently than the victims around it. */
static void test_bounded(void **state)
{
	struct login_limiter *l = *state;
	char k[64];

	for (int i = 0; i < LIMIT_SLOTS * 4; i++) {
		snprintf(k, sizeof(k), "u:guess%d@acme", i);
		limiter_failed(l, k);
		fake_now++;
	}
	for (int i = 0; i < LIMIT_FREE_USER; i++)
		limiter_failed(l, "u:carol@acme");
	assert_int_equal(limiter_wait(l, "u:carol@acme", LIMIT_FREE_USER), LIMIT_BASE_S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backoff_doubles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_user_unaffected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_clears_and_forgetting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
