// SPDX-License-Identifier: GPL-2.0-or-later
/* console db.c / db_schema.c / tokens.c: migrations, and token verdicts on a real SQLite file. */
#include <errno.h>
#include <pthread.h>
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

/* A second writer, on its own connection as another request (or another
 * console instance) would have: it counts the accounts once it holds the
 * writers' lock. */
struct second_writer {
	const char *target;
	int rc;
	int64_t seen;
	int done; /* atomic */
};

static void *second_writer(void *arg)
{
	struct second_writer *w = arg;
	struct db_stmt *st;
	struct db *db;
	char err[256];

	w->rc = db_open_ready(w->target, &db, err, sizeof(err));
	if (!w->rc) {
		w->rc = db_begin(db);
		if (!w->rc && !(w->rc = db_prepare(db, &st, "SELECT COUNT(*) FROM accounts"))) {
			w->rc = db_step(st) == DB_ROW ? 0 : -EIO;
			w->seen = db_column_int64(st, 0);
			db_finalize(st);
		}
		if (!w->rc)
			w->rc = db_commit(db);
		db_rollback(db);
		db_close(db);
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Writers serialize on db_begin: one that begins while another holds the
 * lock goes on only after that one's commit, and sees what it wrote. The
 * license check stands on this, across console instances too. */
static void test_writers_serialize(void **state)
{
	struct fixture *f = *state;
	struct second_writer w = { .target = f->path };
	pthread_t t;

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(account_create(f->db, "first", 1), 0);
	assert_int_equal(pthread_create(&t, NULL, second_writer, &w), 0);
	/* PostgreSQL shows the second writer waiting for the advisory lock:
	 * commit only once it waits (SQLite's busy wait cannot be seen; there
	 * the test holds whichever order the threads take) */
	while (db_engine(f->db) == DB_ENGINE_POSTGRESQL && !__atomic_load_n(&w.done, __ATOMIC_SEQ_CST)) {
		struct db_stmt *st;
		int64_t waiting;

		assert_int_equal(db_prepare(f->db, &st, "SELECT COUNT(*) FROM pg_locks WHERE"
						       " locktype = 'advisory' AND NOT granted"),
				 0);
		assert_int_equal(db_step(st), DB_ROW);
		waiting = db_column_int64(st, 0);
		db_finalize(st);
		if (waiting)
			break;
		usleep(10000);
	}
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.seen, 1);
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
		cmocka_unit_test_setup_teardown(test_writers_serialize, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
