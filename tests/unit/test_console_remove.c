// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console machines.c: an operator's removal frees the license once, keeps
 * who did it for the agent's 410 answer, and a later deregistration by the
 * agent itself (after a re-registration) is not taken for a removal.
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
#include "machines.h"

struct fixture {
	char path[64];
	struct db *db;
	struct account a;
	struct machine_ref m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct machine_reg r = {
		.machine_id = "web-01", .identity_source = "mac", .identity_value = "02:00:00:00:00:01",
		.hostname = "web-01", .inventory = "{}", .cert_serial = "01",
		.cert_fingerprint = "aa", .agent_secret_hash = "bb",
	};

	if (!f || test_db_open(f->path, "test_console_remove", &f->db) ||
	    account_create(f->db, "acme", 2) || account_find(f->db, "acme", &f->a))
		return -1;
	r.account_id = f->a.id;
	if (machine_save(f->db, &r, 0, 1000) || machine_lookup(f->db, "web-01", &f->m))
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

static void test_remove(void **state)
{
	struct fixture *f = *state;
	struct machine_ref m;
	char by[200];
	int64_t n = -1;
	int removed = -1;

	assert_int_equal(licenses_in_use(f->db, f->a.id, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(machine_remove(f->db, f->m.ref, "alice@acme", 2000, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(licenses_in_use(f->db, f->a.id, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(machine_lookup(f->db, "web-01", &m), 0);
	assert_int_equal(m.deregistered_at, 2000);
	assert_int_equal(machine_removed_by(f->db, f->m.ref, by, sizeof(by)), 0);
	assert_string_equal(by, "alice@acme");

	/* again: nothing changes, the first removal stays the one told */
	assert_int_equal(machine_remove(f->db, f->m.ref, "bob@acme", 3000, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(machine_lookup(f->db, "web-01", &m), 0);
	assert_int_equal(m.deregistered_at, 2000);
	assert_int_equal(machine_removed_by(f->db, f->m.ref, by, sizeof(by)), 0);
	assert_string_equal(by, "alice@acme");
}

static void test_agent_deregistration_is_no_removal(void **state)
{
	struct fixture *f = *state;
	struct machine_reg r = {
		.account_id = f->a.id, .machine_id = "web-01", .identity_source = "mac",
		.identity_value = "02:00:00:00:00:01", .hostname = "web-01", .inventory = "{}",
		.cert_serial = "02", .cert_fingerprint = "cc", .agent_secret_hash = "dd",
	};
	char by[200];
	int removed;

	assert_int_equal(machine_removed_by(f->db, f->m.ref, by, sizeof(by)), 0);
	assert_string_equal(by, "");
	assert_int_equal(machine_remove(f->db, f->m.ref, "alice@acme", 2000, &removed), 0);
	/* registered again, then deregistered by its own uninstall */
	assert_int_equal(machine_save(f->db, &r, f->m.ref, 2500), 0);
	assert_int_equal(machine_deregister(f->db, f->m.ref, 4000), 0);
	assert_int_equal(machine_removed_by(f->db, f->m.ref, by, sizeof(by)), 0);
	assert_string_equal(by, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_deregistration_is_no_removal, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
