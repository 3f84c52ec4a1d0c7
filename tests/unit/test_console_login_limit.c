// SPDX-License-Identifier: GPL-2.0-or-later
/* console login_limit.c: the backoff on wrong passwords, on an injected clock;
 * the failures in a real database (SQLite, or PostgreSQL under
 * make check-console-pg), two connections standing for two instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "console_test_db.h"
#include "login_limit.h"

static int64_t fake_now;

static int64_t clock_ms(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static struct db *db, *db2;
static char path[64];

static int setup(void **state)
{
	struct login_limiter *l = calloc(1, sizeof(*l));
	char err[256];

	if (!l || test_db_open(path, "login_limit", &db) ||
	    db_open(path, 0, &db2, err, sizeof(err)))
		return -1;
	fake_now = 1000000;
	limiter_init(l, clock_ms, NULL);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	limiter_destroy(*state);
	free(*state);
	db_close(db2);
	test_db_close(db, path);
	return 0;
}

static unsigned wait_on(struct login_limiter *l, struct db *d, const char *key, unsigned nfree)
{
	unsigned wait = 99;

	assert_int_equal(limiter_wait(l, d, key, nfree, &wait), 0);
	return wait;
}

static unsigned limiter_wait_(struct login_limiter *l, const char *key, unsigned nfree)
{
	return wait_on(l, db, key, nfree);
}

static void failed_on(struct login_limiter *l, struct db *d, const char *key)
{
	assert_int_equal(limiter_failed(l, d, key), 0);
}

static void limiter_failed_(struct login_limiter *l, const char *key)
{
	failed_on(l, db, key);
}

static void test_backoff_doubles(void **state)
{
	struct login_limiter *l = *state;
	const char *k = "u:alice@acme";

	/* the first failures cost nothing */
	for (int i = 0; i < LIMIT_FREE_USER; i++) {
		assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), 0);
		limiter_failed_(l, k);
	}
	/* then LIMIT_BASE_S, 2x, 4x ... after each further failure */
	for (unsigned d = LIMIT_BASE_S; d < LIMIT_MAX_S; d *= 2) {
		assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), d);
		fake_now += (int64_t)d * 1000 - 1;
		assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), 1);
		fake_now += 1;
		assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), 0);
		limiter_failed_(l, k);
	}
	/* capped */
	assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), LIMIT_MAX_S);
	limiter_failed_(l, k);
	assert_int_equal(limiter_wait_(l, k, LIMIT_FREE_USER), LIMIT_MAX_S);
}

static void test_other_user_unaffected(void **state)
{
	struct login_limiter *l = *state;

	for (int i = 0; i < 50; i++)
		limiter_failed_(l, "u:alice@acme");
	assert_true(limiter_wait_(l, "u:alice@acme", LIMIT_FREE_USER) > 0);
	assert_int_equal(limiter_wait_(l, "u:bob@acme", LIMIT_FREE_USER), 0);
	assert_int_equal(limiter_wait_(l, "u:alice@globex", LIMIT_FREE_USER), 0);
}

static void test_success_clears_and_forgetting(void **state)
{
	struct login_limiter *l = *state;

	for (int i = 0; i < LIMIT_FREE_USER + 2; i++)
		limiter_failed_(l, "u:bob@acme");
	assert_true(limiter_wait_(l, "u:bob@acme", LIMIT_FREE_USER) > 0);
	assert_int_equal(limiter_succeeded(l, db, "u:bob@acme"), 0);
	assert_int_equal(limiter_wait_(l, "u:bob@acme", LIMIT_FREE_USER), 0);
	for (int i = 0; i < 100; i++)
		limiter_failed_(l, "a:192.0.2.1");
	assert_int_equal(limiter_wait_(l, "a:192.0.2.1", LIMIT_FREE_ADDR), LIMIT_MAX_S);
	fake_now += (int64_t)LIMIT_FORGET_S * 1000 + 1;
	assert_int_equal(limiter_wait_(l, "a:192.0.2.1", LIMIT_FREE_ADDR), 0);
}

/* Many keys (a guesser inventing user names) never hold back another key,
 * and keys without a failure for LIMIT_FORGET_S leave the table. */
static void test_bounded(void **state)
{
	struct login_limiter *l = *state;
	struct db_stmt *st;
	char k[64];

	for (int i = 0; i < 2000; i++) {
		snprintf(k, sizeof(k), "u:guess%d@acme", i);
		limiter_failed_(l, k);
		fake_now++;
	}
	for (int i = 0; i < LIMIT_FREE_USER; i++)
		limiter_failed_(l, "u:carol@acme");
	assert_int_equal(limiter_wait_(l, "u:carol@acme", LIMIT_FREE_USER), LIMIT_BASE_S);
	fake_now += (int64_t)LIMIT_FORGET_S * 1000 + 1;
	limiter_failed_(l, "u:dave@acme");
	assert_int_equal(db_prepare(db, &st, "SELECT COUNT(*) FROM login_failures"), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_column_int64(st, 0), 1);
	db_finalize(st);
}

/* Guesses spread over two connections (two console instances sharing the
 * database) are counted together. */
static void test_shared_by_connections(void **state)
{
	struct login_limiter *l = *state;
	const char *k = "u:erin@acme";

	for (int i = 0; i < LIMIT_FREE_USER; i++) {
		assert_int_equal(wait_on(l, i % 2 ? db2 : db, k, LIMIT_FREE_USER), 0);
		failed_on(l, i % 2 ? db2 : db, k);
	}
	assert_int_equal(wait_on(l, db, k, LIMIT_FREE_USER), LIMIT_BASE_S);
	assert_int_equal(wait_on(l, db2, k, LIMIT_FREE_USER), LIMIT_BASE_S);
	assert_int_equal(limiter_succeeded(l, db2, k), 0);
	assert_int_equal(wait_on(l, db, k, LIMIT_FREE_USER), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backoff_doubles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_user_unaffected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_clears_and_forgetting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_by_connections, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
