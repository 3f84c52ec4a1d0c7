// SPDX-License-Identifier: GPL-2.0-or-later
/* console placement.c: which staging server a machine goes to, pins and
 * drains, on a real database (SQLite, or PostgreSQL under
 * check-console-pg). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"
#include "console_test_db.h"
#include "db.h"
#include "machines.h"
#include "placement.h"
#include "staging_servers.h"

#define NOW 100000
#define GiB (1024LL * 1024 * 1024)

struct fixture {
	char path[64];
	struct db *db;
	int64_t account;
	int64_t st[3];
};

static int64_t add_machine(struct fixture *f, const char *id)
{
	struct machine_reg r = {
		.account_id = f->account, .machine_id = id, .identity_source = "mac",
		.identity_value = id, .hostname = id, .inventory = "{}", .cert_serial = "01",
		.cert_fingerprint = id, .agent_secret_hash = id,
	};
	struct machine_ref ref;

	assert_int_equal(machine_save(f->db, &r, 0, NOW), 0);
	assert_int_equal(machine_lookup(f->db, id, &ref), 0);
	return ref.ref;
}

/* A server named name that synced at `at` with free bytes and advertise
 * (NULL: none). */
static int64_t add_server(struct fixture *f, const char *name, int64_t at, int64_t free_bytes,
			  const char *advertise)
{
	char secret[SECRET_STR_MAX];
	struct staging_ref s;

	assert_int_equal(staging_add(f->db, name, NOW - 1000, secret), 0);
	assert_int_equal(staging_by_secret(f->db, secret, &s), 0);
	assert_int_equal(staging_synced(f->db, s.ref, at, "0.1.0", free_bytes, 1000 * GiB,
					advertise), 0);
	return s.ref;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct account a;

	if (test_db_open(f->path, "test_console_placement", &f->db))
		return -1;
	assert_int_equal(account_create(f->db, "acme", 100), 0);
	assert_int_equal(account_find(f->db, "acme", &a), 0);
	f->account = a.id;
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

/* register a machine: placed as registration places it */
static void reg(struct fixture *f, const char *id, struct placement *p)
{
	assert_int_equal(placement_assign(f->db, add_machine(f, id), NOW, p), 0);
}

static void no_server_placeable(void **state)
{
	struct fixture *f = *state;
	struct placement p;

	/* one server without --advertise (the one-staging setup), one that
	 * has not synced for longer than PLACEMENT_FRESH_S */
	add_server(f, "plain", NOW, 100 * GiB, NULL);
	add_server(f, "stale", NOW - PLACEMENT_FRESH_S - 1, 100 * GiB, "st:1");
	assert_int_equal(placement_choose(f->db, NOW, &p), -ENOENT);
	reg(f, "m1", &p);
	assert_int_equal(p.ref, 0); /* the console's --staging then */
}

static void spreads_evenly_with_tie_break(void **state)
{
	struct fixture *f = *state;
	const char *want[] = { "st1", "st2", "st1", "st2", "st1", "st2" };
	struct placement p;
	char id[16];

	/* the same free space: the server added first wins a tie */
	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "10.0.0.1:7450");
	f->st[1] = add_server(f, "st2", NOW, 100 * GiB, "10.0.0.2:7450");
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		reg(f, id, &p);
		assert_string_equal(p.server, want[i]);
		assert_string_equal(p.address, i % 2 ? "10.0.0.2:7450" : "10.0.0.1:7450");
		assert_int_equal(p.pinned, 0);
		assert_string_equal(p.moving_from, "");
	}
}

static void free_space_per_machine(void **state)
{
	struct fixture *f = *state;
	struct placement p;
	int on_big = 0;
	char id[16];

	/* 300 GiB and 100 GiB free: three machines on the big one for each on
	 * the small one (the share each would have decides) */
	f->st[0] = add_server(f, "small", NOW, 100 * GiB, "s:1");
	f->st[1] = add_server(f, "big", NOW, 300 * GiB, "b:1");
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		reg(f, id, &p);
		on_big += !strcmp(p.server, "big");
	}
	assert_int_equal(on_big, 6);
}

static void registration_again_keeps_server(void **state)
{
	struct fixture *f = *state;
	struct placement p, again;
	int64_t m;

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	m = add_machine(f, "m1");
	assert_int_equal(placement_assign(f->db, m, NOW, &p), 0);
	assert_string_equal(p.server, "st1");
	/* a server with much more room appears: the machine's replica stays */
	add_server(f, "st2", NOW, 900 * GiB, "b:1");
	assert_int_equal(placement_assign(f->db, m, NOW, &again), 0);
	assert_string_equal(again.server, "st1");
	assert_int_equal(placement_get(f->db, m, &again), 0);
	assert_int_equal(again.ref, p.ref);
}

static void drain_replaces_on_others(void **state)
{
	struct fixture *f = *state;
	struct placement p;
	unsigned moved;
	int count[3] = { 0 };
	int64_t ms[6];
	char id[16];

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	f->st[1] = add_server(f, "st2", NOW, 100 * GiB, "b:1");
	f->st[2] = add_server(f, "st3", NOW, 100 * GiB, "c:1");
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		ms[i] = add_machine(f, id);
		assert_int_equal(placement_assign(f->db, ms[i], NOW, &p), 0);
	}
	/* m0 and m3 are on st1; pin m1 (on st2) to stay */
	assert_int_equal(placement_pin(f->db, "m1", "st2", NOW, &p), 0);
	assert_int_equal(placement_drain(f->db, "st2", "admin", NOW, &moved), 0);
	assert_int_equal(moved, 2); /* m1 (its pin cannot hold) and m4 */
	assert_int_equal(placement_drain(f->db, "st2", "admin", NOW, &moved), -EALREADY);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(placement_get(f->db, ms[i], &p), 0);
		for (int s = 0; s < 3; s++)
			count[s] += p.ref == f->st[s];
		if (i == 1 || i == 4) {
			assert_string_equal(p.moving_from, "st2");
			assert_int_equal(p.pinned, 0);
		} else {
			assert_string_equal(p.moving_from, "");
		}
	}
	/* spread one after the other: one each to st1 and st3 */
	assert_int_equal(count[0], 3);
	assert_int_equal(count[1], 0);
	assert_int_equal(count[2], 3);
	/* no new machine goes to a draining server */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(placement_choose(f->db, NOW, &p), 0);
		assert_int_not_equal(p.ref, f->st[1]);
	}
	/* a pin there is refused; after undrain it is taken */
	assert_int_equal(placement_pin(f->db, "m0", "st2", NOW, &p), -EBUSY);
	assert_int_equal(placement_undrain(f->db, "st2"), 0);
	assert_int_equal(placement_undrain(f->db, "st2"), -EALREADY);
	assert_int_equal(placement_pin(f->db, "m0", "st2", NOW, &p), 0);
	assert_string_equal(p.server, "st2");
	assert_string_equal(p.moving_from, "st1");
	assert_int_equal(p.pinned, 1);
}

static void drain_with_nowhere_to_go(void **state)
{
	struct fixture *f = *state;
	struct placement p;
	unsigned moved;

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	f->st[1] = add_server(f, "st2", NOW, 100 * GiB, NULL); /* not placeable */
	reg(f, "m1", &p);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(placement_drain(f->db, "st1", "admin", NOW, &moved), -ENOSPC);
	db_rollback(f->db);
	/* nothing changed: still placed on st1, which still takes machines */
	assert_int_equal(placement_choose(f->db, NOW, &p), 0);
	assert_string_equal(p.server, "st1");
	assert_int_equal(placement_drain(f->db, "nope", "admin", NOW, &moved), -ESRCH);
	assert_int_equal(placement_pin(f->db, "m1", "st2", NOW, &p), -EADDRNOTAVAIL);
	assert_int_equal(placement_pin(f->db, "nope", "st1", NOW, &p), -ENOENT);
	assert_int_equal(placement_pin(f->db, "m1", "nope", NOW, &p), -ESRCH);
}

static void arrival_ends_the_move(void **state)
{
	struct fixture *f = *state;
	struct placement p;
	struct db_stmt *st;
	unsigned moved;
	int64_t m;

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	f->st[1] = add_server(f, "st2", NOW, 50 * GiB, "b:1");
	m = add_machine(f, "m1");
	assert_int_equal(placement_assign(f->db, m, NOW, &p), 0);
	assert_string_equal(p.server, "st1");
	assert_int_equal(placement_drain(f->db, "st1", "admin", NOW, &moved), 0);
	assert_int_equal(moved, 1);
	/* st2 syncing without the machine: still moving */
	assert_int_equal(placement_arrived(f->db, f->st[1]), 0);
	assert_int_equal(placement_get(f->db, m, &p), 0);
	assert_string_equal(p.moving_from, "st1");
	/* st1 still reporting it changes nothing either */
	assert_int_equal(db_prepare(f->db, &st,
				    "INSERT INTO staging_machines (staging_ref, machine_ref,"
				    " reported_at) VALUES (?, ?, ?)"), 0);
	db_bind_int64(st, 1, f->st[0]);
	db_bind_int64(st, 2, m);
	db_bind_int64(st, 3, NOW);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(placement_arrived(f->db, f->st[0]), 0);
	assert_int_equal(placement_get(f->db, m, &p), 0);
	assert_string_equal(p.moving_from, "st1");
	/* st2 reports storing it: arrived */
	assert_int_equal(db_prepare(f->db, &st,
				    "INSERT INTO staging_machines (staging_ref, machine_ref,"
				    " reported_at) VALUES (?, ?, ?)"), 0);
	db_bind_int64(st, 1, f->st[1]);
	db_bind_int64(st, 2, m);
	db_bind_int64(st, 3, NOW);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(placement_arrived(f->db, f->st[1]), 0);
	assert_int_equal(placement_get(f->db, m, &p), 0);
	assert_string_equal(p.server, "st2");
	assert_string_equal(p.moving_from, "");
}

static void deregistered_machines_do_not_count(void **state)
{
	struct fixture *f = *state;
	struct placement p;
	int64_t m;

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	f->st[1] = add_server(f, "st2", NOW, 100 * GiB, "b:1");
	m = add_machine(f, "m1");
	assert_int_equal(placement_assign(f->db, m, NOW, &p), 0);
	assert_string_equal(p.server, "st1");
	assert_int_equal(machine_deregister(f->db, m, NOW), 0);
	/* st1 holds no registered machine: it wins the tie again */
	reg(f, "m2", &p);
	assert_string_equal(p.server, "st1");
}

static void advertise_kept_when_a_sync_has_none(void **state)
{
	struct fixture *f = *state;
	struct placement p;

	f->st[0] = add_server(f, "st1", NOW, 100 * GiB, "a:1");
	/* a restart without --advertise: its machines keep its address */
	assert_int_equal(staging_synced(f->db, f->st[0], NOW + 5, "0.1.0", 100 * GiB, 1000 * GiB,
					NULL), 0);
	reg(f, "m1", &p);
	assert_string_equal(p.server, "st1");
	assert_string_equal(p.address, "a:1");
	/* a new address replaces it */
	assert_int_equal(staging_synced(f->db, f->st[0], NOW + 6, "0.1.0", 100 * GiB, 1000 * GiB,
					"a:2"), 0);
	assert_int_equal(placement_choose(f->db, NOW + 6, &p), 0);
	assert_string_equal(p.address, "a:2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_server_placeable, setup, teardown),
		cmocka_unit_test_setup_teardown(spreads_evenly_with_tie_break, setup, teardown),
		cmocka_unit_test_setup_teardown(free_space_per_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(registration_again_keeps_server, setup, teardown),
		cmocka_unit_test_setup_teardown(drain_replaces_on_others, setup, teardown),
		cmocka_unit_test_setup_teardown(drain_with_nowhere_to_go, setup, teardown),
		cmocka_unit_test_setup_teardown(arrival_ends_the_move, setup, teardown),
		cmocka_unit_test_setup_teardown(deregistered_machines_do_not_count, setup, teardown),
		cmocka_unit_test_setup_teardown(advertise_kept_when_a_sync_has_none, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
