// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console hb_store.c and db_begin_machine: what a heartbeat's transaction
 * is locked against, on two connections (two requests, or two console
 * instances) of a real database: SQLite, or PostgreSQL under make
 * check-console-pg. The second connection waits briefly for any lock
 * (lock_timeout, or SQLite's busy timeout), so that "it would wait" shows
 * as -EBUSY at once and "it does not wait" as success: the locks
 * themselves are observed, no sleep stands for an order.
 */
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
#include "console_test_db.h"
#include "db.h"
#include "hb_store.h"
#include "lifecycle.h"
#include "machines.h"

struct fixture {
	char path[64];
	struct db *db, *db2; /* two connections to one database */
	int64_t m1, m2;      /* two machines' rows */
	json_t *doc;
};

static int64_t save(struct fixture *f, int64_t account, const char *id)
{
	struct machine_reg r = {
		.account_id = account, .machine_id = id, .identity_source = "mac",
		.identity_value = id, .hostname = id, .inventory = "{}", .cert_serial = id,
		.cert_fingerprint = id, .agent_secret_hash = id,
	};
	struct machine_ref m;

	if (machine_save(f->db, &r, 0, 1000) || machine_lookup(f->db, id, &m))
		return 0;
	return m.ref;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct account a;
	char err[256];

	if (!f || test_db_open(f->path, "test_console_hb_store", &f->db) ||
	    account_create(f->db, "acme", 3) || account_find(f->db, "acme", &a) ||
	    !(f->m1 = save(f, a.id, "web-01")) || !(f->m2 = save(f, a.id, "web-02")) ||
	    db_open_ready(f->path, &f->db2, err, sizeof(err)) ||
	    !(f->doc = json_pack("{s:s}", "state", "INITIAL_MIRROR")))
		return -1;
	/* the second connection gives up on a lock at once */
	if (db_exec(f->db2, db_engine(f->db2) == DB_ENGINE_POSTGRESQL ? "SET lock_timeout = '20ms'"
								       : "PRAGMA busy_timeout = 20"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->doc);
	db_close(f->db2);
	test_db_close(f->db, f->path);
	free(f);
	return 0;
}

static int is_pg(const struct fixture *f)
{
	return db_engine(f->db) == DB_ENGINE_POSTGRESQL;
}

/* One heartbeat of machine ref through connection db, its document's text
 * text; hb_store's answer. */
static int beat(struct fixture *f, struct db *db, int64_t ref, const char *text, int64_t now)
{
	struct heartbeat hb = { .ref = ref, .doc = f->doc, .text = text,
				.state = "INITIAL_MIRROR", .now = now, .history_max = 10,
				.cutover_timeout_s = 600 };
	json_t *cutover = NULL;
	int rc = hb_store(db, &hb, &cutover);

	assert_null(cutover);
	return rc;
}

/* The latest status document stored for machine ref ("" when none). */
static void latest(struct fixture *f, int64_t ref, char *out, size_t n)
{
	struct db_stmt *st;

	assert_int_equal(db_prepare(f->db, &st, "SELECT doc FROM status WHERE machine_ref = ?"), 0);
	db_bind_int64(st, 1, ref);
	out[0] = '\0';
	if (db_step(st) == DB_ROW)
		snprintf(out, n, "%s", db_text(st, 0));
	db_finalize(st);
}

static void exec_ok(struct db *db, const char *sql)
{
	assert_int_equal(db_exec(db, sql), 0);
}

/* A heartbeat holding its machine's row: another machine's heartbeat goes
 * on beside it on PostgreSQL (SQLite has one writer: it waits); the same
 * machine's next heartbeat waits for it on both. */
static void test_other_machine_goes_on(void **state)
{
	struct fixture *f = *state;
	char doc[64];

	assert_int_equal(db_begin_machine(f->db, f->m1), 0);
	assert_int_equal(machine_status_store(f->db, f->m1, "{\"n\":1}", "INITIAL_MIRROR", 2000, 10),
			 0);
	assert_int_equal(beat(f, f->db2, f->m2, "{\"n\":2}", 2000), is_pg(f) ? 0 : -EBUSY);
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":3}", 2001), -EBUSY);
	assert_int_equal(db_commit(f->db), 0);

	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":4}", 2002), 0);
	latest(f, f->m1, doc, sizeof(doc));
	assert_string_equal(doc, "{\"n\":4}");
	latest(f, f->m2, doc, sizeof(doc));
	assert_string_equal(doc, is_pg(f) ? "{\"n\":2}" : "");
}

/* The writers' lock held (a registration, a removal, an operator's
 * action): a heartbeat does not wait for it on PostgreSQL. */
static void test_not_behind_the_writers_lock(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":1}", 2000), is_pg(f) ? 0 : -EBUSY);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":2}", 2001), 0);
}

/* A removal and a heartbeat of one machine serialize, in either order;
 * once the removal is in, the heartbeat is refused and stores nothing. */
static void test_removal_serializes(void **state)
{
	struct fixture *f = *state;
	int removed = -1;
	char doc[64];

	/* the heartbeat first: the removal (writers' lock, then the row)
	 * waits for its commit */
	assert_int_equal(db_begin_machine(f->db, f->m1), 0);
	assert_int_equal(machine_status_store(f->db, f->m1, "{\"n\":1}", "INITIAL_MIRROR", 2000, 10),
			 0);
	if (is_pg(f)) {
		assert_int_equal(db_begin(f->db2), 0);
		assert_int_equal(machine_remove(f->db2, f->m1, "alice@acme", 2000, &removed), -EBUSY);
		db_rollback(f->db2);
	} else {
		assert_int_equal(db_begin(f->db2), -EBUSY);
	}
	assert_int_equal(db_commit(f->db), 0);

	/* the removal first: the heartbeat waits for it, then is refused */
	assert_int_equal(db_begin(f->db2), 0);
	assert_int_equal(machine_remove(f->db2, f->m1, "alice@acme", 2001, &removed), 0);
	assert_int_equal(removed, 1);
	exec_ok(f->db, is_pg(f) ? "SET lock_timeout = '20ms'" : "PRAGMA busy_timeout = 20");
	assert_int_equal(beat(f, f->db, f->m1, "{\"n\":2}", 2001), -EBUSY);
	assert_int_equal(db_commit(f->db2), 0);
	assert_int_equal(beat(f, f->db, f->m1, "{\"n\":3}", 2002), -ESTALE);
	latest(f, f->m1, doc, sizeof(doc));
	assert_string_equal(doc, "{\"n\":1}");
}

/* A deregistered machine, or no such row: refused, nothing stored, no
 * transaction left open. */
static void test_removed_refused(void **state)
{
	struct fixture *f = *state;
	int removed;
	char doc[64];

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(machine_remove(f->db, f->m2, "alice@acme", 2000, &removed), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(beat(f, f->db, f->m2, "{\"n\":1}", 2001), -ESTALE);
	latest(f, f->m2, doc, sizeof(doc));
	assert_string_equal(doc, "");
	assert_int_equal(beat(f, f->db, f->m2 + 100, "{\"n\":1}", 2001), -ESTALE);
	assert_int_equal(db_begin_machine(f->db, f->m2 + 100), -ENOENT);
	/* nothing left open: SQLite refuses a BEGIN inside a transaction, and
	 * the second connection would wait for a PostgreSQL one */
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":2}", 2002), 0);
}

/* Lifecycle work (a cutover under way, a launch job past its bound) is
 * done under the writers' lock: that machine's heartbeat waits for it,
 * another's does not, and the work is done once it has it. */
static void test_lifecycle_work_takes_the_writers_lock(void **state)
{
	struct fixture *f = *state;
	const int64_t now = 100000;
	struct db_stmt *st;
	char sql[256];

	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m1, now), 0);
	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m2, now), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO staging_jobs (machine_ref, kind, params, owner,"
		 " state, created_at) VALUES (%lld, 'launch', '{}', 'alice@acme', 'queued', %lld)",
		 (long long)f->m1, (long long)(now - LC_JOB_MAX_S - 1));
	exec_ok(f->db, sql);
	snprintf(sql, sizeof(sql), "INSERT INTO machine_lifecycle (machine_ref, state, since)"
		 " VALUES (%lld, 'CUTTING_OVER', %lld)", (long long)f->m2, (long long)now);
	exec_ok(f->db, sql);
	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m1, now), 1);
	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m2, now), 1);
	/* a job within its bound is no work yet */
	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m1, now - 2), 0);

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":1}", now), -EBUSY);
	assert_int_equal(beat(f, f->db2, f->m2, "{\"n\":1}", now), -EBUSY);
	assert_int_equal(db_commit(f->db), 0);

	/* the stale launch job is ended by the heartbeat's lifecycle_tick */
	assert_int_equal(beat(f, f->db2, f->m1, "{\"n\":2}", now), 0);
	assert_int_equal(db_prepare(f->db, &st, "SELECT state FROM staging_jobs WHERE machine_ref = ?"),
			 0);
	db_bind_int64(st, 1, f->m1);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_text(st, 0), "failed");
	db_finalize(st);
	assert_int_equal(lifecycle_heartbeat_due(f->db, f->m1, now), 0);
	assert_int_equal(beat(f, f->db2, f->m2, "{\"n\":2}", now), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_other_machine_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_behind_the_writers_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal_serializes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_work_takes_the_writers_lock, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
