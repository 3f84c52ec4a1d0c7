// SPDX-License-Identifier: GPL-2.0-or-later
/* console signin.c: web sessions in the database and their CSRF tokens. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "db.h"
#include "console_test_db.h"
#include "signin.h"

struct fixture {
	char path[64];
	struct db *db;
	struct account acme, globex;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (test_db_open(f->path, "test_console_signin", &f->db) ||
	    account_create(f->db, "acme", 5) || account_create(f->db, "globex", 1) ||
	    account_find(f->db, "acme", &f->acme) || account_find(f->db, "globex", &f->globex))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_db_close(f->db, f->path);
	free(f);
	return 0;
}

static int rows(struct db *db, const char *sql)
{
	struct db_stmt *st;
	int n = -1;

	if (!db_prepare(db, &st, sql) && db_step(st) == DB_ROW)
		n = (int)db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static void test_session_lifecycle(void **state)
{
	struct fixture *f = *state;
	char secret[SECRET_STR_MAX], other[SECRET_STR_MAX];
	struct session s;
	int64_t now = 1764115200;

	assert_int_equal(session_create(f->db, &f->acme, "alice", now, secret), 0);
	assert_int_equal(strncmp(secret, SESSION_PREFIX, 4), 0);
	assert_int_equal(strlen(secret), 4 + 64);
	assert_int_equal(session_lookup(f->db, secret, now + 1, &s), 0);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.account.name, "acme");
	assert_int_equal(s.account.id, f->acme.id);
	assert_int_equal(s.expires_at, now + SESSION_TTL_S);
	/* only the hash is stored */
	assert_int_equal(rows(f->db, "SELECT COUNT(*) FROM sessions"), 1);
	{
		char sql[200];

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM sessions WHERE secret_hash LIKE '%%%s%%'",
			 secret + 4);
		assert_int_equal(rows(f->db, sql), 0);
	}
	/* two sessions are two secrets */
	assert_int_equal(session_create(f->db, &f->globex, "bob", now, other), 0);
	assert_string_not_equal(secret, other);
	assert_int_equal(session_lookup(f->db, other, now, &s), 0);
	assert_string_equal(s.account.name, "globex");
	/* it ends at expires_at */
	assert_int_equal(session_lookup(f->db, secret, now + SESSION_TTL_S - 1, &s), 0);
	assert_int_equal(session_lookup(f->db, secret, now + SESSION_TTL_S, &s), -ENOENT);
	/* sign-out */
	assert_int_equal(session_delete(f->db, other), 0);
	assert_int_equal(session_lookup(f->db, other, now, &s), -ENOENT);
	assert_int_equal(session_delete(f->db, other), 0);
	/* a new sign-in sweeps the expired ones */
	assert_int_equal(session_create(f->db, &f->acme, "alice", now + SESSION_TTL_S + 5, other), 0);
	assert_int_equal(rows(f->db, "SELECT COUNT(*) FROM sessions"), 1);
}

static void test_session_bad_cookies(void **state)
{
	struct fixture *f = *state;
	char secret[SECRET_STR_MAX], bad[SECRET_STR_MAX + 8];
	struct session s;

	assert_int_equal(session_create(f->db, &f->acme, "alice", 100, secret), 0);
	assert_int_equal(session_lookup(f->db, NULL, 100, &s), -ENOENT);
	assert_int_equal(session_lookup(f->db, "", 100, &s), -ENOENT);
	/* an agent secret or a token of the same shape is not a session */
	snprintf(bad, sizeof(bad), "lma_%s", secret + 4);
	assert_int_equal(session_lookup(f->db, bad, 100, &s), -ENOENT);
	snprintf(bad, sizeof(bad), "%s0", secret);
	assert_int_equal(session_lookup(f->db, bad, 100, &s), -ENOENT);
	snprintf(bad, sizeof(bad), "%s", secret);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(session_lookup(f->db, bad, 100, &s), -ENOENT);
	snprintf(bad, sizeof(bad), "%s", secret);
	bad[10] = 'A'; /* upper case is not our form */
	assert_int_equal(session_lookup(f->db, bad, 100, &s), -ENOENT);
	assert_int_equal(session_lookup(f->db, secret, 100, &s), 0);
}

static void test_csrf(void **state)
{
	char a[SECRET_STR_MAX], b[SECRET_STR_MAX], ta[CSRF_HEX], tb[CSRF_HEX], t2[CSRF_HEX];

	(void)state;
	assert_int_equal(secret_new(SESSION_PREFIX, a, sizeof(a)), 0);
	assert_int_equal(secret_new(SESSION_PREFIX, b, sizeof(b)), 0);
	csrf_token(a, ta);
	csrf_token(a, t2);
	csrf_token(b, tb);
	assert_int_equal(strlen(ta), 64);
	assert_string_equal(ta, t2);          /* stable for a session */
	assert_string_not_equal(ta, tb);      /* another session, another token */
	/* not the stored hash of the session, not the secret */
	{
		char h[SECRET_HASH_HEX];

		secret_hash(a, h);
		assert_string_not_equal(ta, h);
		assert_null(strstr(a, ta));
	}
	assert_int_equal(csrf_check(a, ta), 0);
	assert_int_equal(csrf_check(b, ta), -EACCES);
	assert_int_equal(csrf_check(a, NULL), -EACCES);
	assert_int_equal(csrf_check(NULL, ta), -EACCES);
	assert_int_equal(csrf_check(a, ""), -EACCES);
	t2[63] = t2[63] == '0' ? '1' : '0';
	assert_int_equal(csrf_check(a, t2), -EACCES);
	ta[63] = '\0';
	assert_int_equal(csrf_check(a, ta), -EACCES);  /* a prefix is not the token */
}

static void test_cookie(void **state)
{
	char c[160];

	(void)state;
	session_cookie("lms_0123", c, sizeof(c));
	assert_string_equal(c, "lm_session=lms_0123; Path=/; Max-Age=43200; HttpOnly; Secure; "
			       "SameSite=Strict");
	session_cookie(NULL, c, sizeof(c));
	assert_non_null(strstr(c, "lm_session=;"));
	assert_non_null(strstr(c, "Max-Age=0"));
	assert_non_null(strstr(c, "HttpOnly; Secure; SameSite=Strict"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bad_cookies, setup, teardown),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
