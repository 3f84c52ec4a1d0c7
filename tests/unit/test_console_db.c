// SPDX-License-Identifier: GPL-2.0-or-later
/* console db.c / db_schema.c / tokens.c: migrations, and token verdicts on a real SQLite file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "db.h"
#include "console_test_db.h"
#include "tokens.h"

struct fixture {
	char path[64];
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (test_db_open(f->path, "test_console_db", &f->db))
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

static void test_migrations(void **state)
{
	struct fixture *f = *state;
	struct db *db2;
	char err[256] = "";
	int v = -1;

	assert_int_equal(db_version_get(f->db, &v), 0);
	assert_int_equal(v, db_schema_version);
	/* migrating again is a no-op */
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), 0);
	/* handlers open without migrating, and check the version */
	assert_int_equal(db_open_ready(f->path, &db2, err, sizeof(err)), 0);
	db_close(db2);
	/* a database from a newer program is refused, not damaged */
	assert_int_equal(db_version_set(f->db, 99), 0);
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(db_open_ready(f->path, &db2, err, sizeof(err)), -EPROTO);
	assert_int_equal(db_version_get(f->db, &v), 0);
	assert_int_equal(v, 99);
	assert_int_equal(db_version_set(f->db, 1), 0);
}

static void test_missing_file(void **state)
{
	struct db *db = NULL;
	char err[256];

	(void)state;
	assert_int_not_equal(db_open("/nonexistent/dir/x.db", 0, &db, err, sizeof(err)), 0);
	assert_null(db);
	assert_non_null(strstr(err, "/nonexistent/dir/x.db"));
}

static void test_accounts_and_licenses(void **state)
{
	struct fixture *f = *state;
	struct account a;
	int64_t n = -1;

	assert_int_equal(account_create(f->db, "acme", 3), 0);
	assert_int_equal(account_create(f->db, "acme", 3), -EEXIST);
	assert_int_equal(account_find(f->db, "acme", &a), 0);
	assert_int_equal(a.licenses, 3);
	assert_int_equal(account_find(f->db, "nope", &a), -ENOENT);
	assert_int_equal(account_set_licenses(f->db, a.id, 5), 0);
	assert_int_equal(account_by_id(f->db, a.id, &a), 0);
	assert_int_equal(a.licenses, 5);
	assert_int_equal(licenses_in_use(f->db, a.id, &n), 0);
	assert_int_equal(n, 0);
}

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	char secret[SECRET_STR_MAX], other[SECRET_STR_MAX];
	struct account a;
	struct token t;
	int64_t id, acct = 0;

	assert_int_equal(account_create(f->db, "tok", 1), 0);
	assert_int_equal(account_find(f->db, "tok", &a), 0);
	assert_int_equal(token_create(f->db, a.id, "l", 0, 2, secret, &id), 0);
	assert_int_equal(token_lookup(f->db, secret, &t), 0);
	assert_int_equal(t.id, id);
	assert_int_equal(t.account_id, a.id);
	assert_int_equal(token_verdict(&t, 1000), TOKEN_OK);
	assert_int_equal(secret_new(TOKEN_PREFIX, other, sizeof(other)), 0);
	assert_int_equal(token_lookup(f->db, other, &t), -ENOENT);

	assert_int_equal(token_count_use(f->db, id), 0);
	assert_int_equal(token_count_use(f->db, id), 0);
	assert_int_equal(token_lookup(f->db, secret, &t), 0);
	assert_int_equal(token_verdict(&t, 1000), TOKEN_EXHAUSTED);

	t.max_uses = 0;
	t.expires_at = 2000;
	assert_int_equal(token_verdict(&t, 1999), TOKEN_OK);
	assert_int_equal(token_verdict(&t, 2000), TOKEN_EXPIRED);

	assert_int_equal(token_revoke(f->db, id, &acct), 0);
	assert_int_equal(acct, a.id);
	assert_int_equal(token_revoke(f->db, id, &acct), -EALREADY);
	assert_int_equal(token_revoke(f->db, id + 100, &acct), -ENOENT);
	assert_int_equal(token_lookup(f->db, secret, &t), 0);
	/* revoked outranks expired and exhausted */
	assert_int_equal(token_verdict(&t, 999999), TOKEN_REVOKED);
}

/* The file holds password and secret hashes: created 0600 whatever the umask. */
static void test_created_private(void **state)
{
	char dir[] = "/tmp/test_console_db.XXXXXX", path[80], err[256];
	mode_t old = umask(022);
	struct stat st;
	struct db *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/console.db", dir);
	assert_int_equal(db_open(path, 1, &db, err, sizeof(err)), 0);
	assert_int_equal(db_migrate(db, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);
	test_db_close(db, path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_created_private),
		cmocka_unit_test_setup_teardown(test_accounts_and_licenses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
