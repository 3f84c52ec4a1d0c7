// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console audit.c: records are kept per account and listed newest first
 * with their who, what, when and from where; the filters and the cursor;
 * pruning by count and by age on an injected clock; a record written in a
 * transaction that rolls back is gone with the change.
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
#include "audit.h"
#include "console_test_db.h"
#include "db.h"
#include "machines.h"

struct fixture {
	char path[64];
	struct db *db;
	struct account a, b;
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

	if (!f || test_db_open(f->path, "test_console_audit", &f->db) ||
	    account_create(f->db, "acme", 2) || account_find(f->db, "acme", &f->a) ||
	    account_create(f->db, "globex", 2) || account_find(f->db, "globex", &f->b))
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

static const struct audit_who alice = { "alice@acme", "operator", "192.0.2.7" };
static const struct audit_who admin = { "livemig-console admin (root)", "", AUDIT_FROM_LOCAL };
static const struct audit_who bob = { "bob@globex", "admin", "2001:db8::9" };

static void put(struct fixture *f, const struct audit_who *w, int64_t account, int64_t machine,
		const char *action, int64_t at)
{
	json_t *d = json_pack("{s:s}", "note", action);
	struct audit_rec r = { .account_id = account, .machine_ref = machine, .action = action,
			       .detail = d };

	assert_int_equal(audit_write(f->db, w, &r, at), 0);
	json_decref(d);
}

/* The records of q, as "action@at" joined by spaces. */
static void list(struct fixture *f, const struct audit_query *q, char *out, size_t n,
		 int64_t *next)
{
	json_t *recs = NULL, *r;
	size_t i, used = 0;

	assert_int_equal(audit_list_json(f->db, q, &recs, next), 0);
	out[0] = '\0';
	json_array_foreach(recs, i, r)
		used += (size_t)snprintf(out + used, n - used, "%s%s@%lld", i ? " " : "",
					 json_string_value(json_object_get(r, "action")),
					 (long long)json_integer_value(json_object_get(r, "at")));
	json_decref(recs);
}

static void seed(struct fixture *f)
{
	put(f, &admin, f->a.id, 0, "account.create", 100);
	put(f, &alice, f->a.id, 0, "token.create", 200);
	put(f, &bob, f->b.id, 0, "token.create", 250);
	put(f, &alice, f->a.id, f->m.ref, "machine.pause", 300);
	put(f, &alice, f->a.id, f->m.ref, "lifecycle.test", 400);
	put(f, &admin, f->a.id, f->m.ref, "lifecycle.revert", 500);
	put(f, &admin, 0, 0, "staging.add", 600);
}

static void test_record_fields(void **state)
{
	struct fixture *f = *state;
	struct audit_query q = { .account_id = f->a.id, .limit = 10 };
	json_t *recs = NULL, *r;
	int64_t next = -1;

	seed(f);
	assert_int_equal(audit_list_json(f->db, &q, &recs, &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(json_array_size(recs), 5); /* not globex's, not the console-wide one */
	r = json_array_get(recs, 1); /* newest first: lifecycle.test is second */
	assert_string_equal(json_string_value(json_object_get(r, "action")), "lifecycle.test");
	assert_int_equal(json_integer_value(json_object_get(r, "at")), 400);
	assert_string_equal(json_string_value(json_object_get(r, "actor")), "alice@acme");
	assert_string_equal(json_string_value(json_object_get(r, "role")), "operator");
	assert_string_equal(json_string_value(json_object_get(r, "from")), "192.0.2.7");
	assert_string_equal(json_string_value(json_object_get(r, "account")), "acme");
	assert_string_equal(json_string_value(json_object_get(r, "machine_id")), "web-01");
	assert_true(json_is_null(json_object_get(r, "target")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "detail"), "note")),
			    "lifecycle.test");
	r = json_array_get(recs, 0);
	assert_true(json_is_null(json_object_get(r, "role")));
	assert_string_equal(json_string_value(json_object_get(r, "from")), "local");
	r = json_array_get(recs, 4);
	assert_true(json_is_null(json_object_get(r, "machine_id")));
	json_decref(recs);
}

static void test_isolation_and_console_wide(void **state)
{
	struct fixture *f = *state;
	struct audit_query q = { .account_id = f->b.id, .limit = 10 };
	char got[512];
	int64_t next;

	seed(f);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "token.create@250");
	q.account_id = 0;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "staging.add@600");
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	struct audit_query q = { .account_id = f->a.id, .limit = 10 };
	char got[512];
	int64_t next;

	seed(f);
	q.machine_ref = f->m.ref;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500 lifecycle.test@400 machine.pause@300");
	q.machine_ref = 0;
	q.actor = "alice@acme";
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.test@400 machine.pause@300 token.create@200");
	q.actor = NULL;
	q.action = "lifecycle.";
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500 lifecycle.test@400");
	q.action = "lifecycle.test";
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.test@400");
	q.action = "lifecycle"; /* no '.': exact, and no action is called that */
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "");
	q.action = NULL;
	q.since = 200;
	q.until = 400; /* since inclusive, until exclusive */
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "machine.pause@300 token.create@200");
}

static void test_cursor(void **state)
{
	struct fixture *f = *state;
	struct audit_query q = { .account_id = f->a.id, .limit = 2 };
	char got[512];
	int64_t next;

	seed(f);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500 lifecycle.test@400");
	assert_true(next > 0);
	q.cursor = next;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "machine.pause@300 token.create@200");
	assert_true(next > 0);
	q.cursor = next;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "account.create@100");
	assert_int_equal(next, 0);
	/* exactly a page's worth left: no further page is announced */
	q.cursor = 0;
	q.limit = 5;
	list(f, &q, got, sizeof(got), &next);
	assert_int_equal(next, 0);
}

static void test_prune_count(void **state)
{
	struct fixture *f = *state;
	struct audit_retention ret = { .keep = 3, .max_age_s = 100000 };
	struct audit_query q = { .account_id = f->a.id, .limit = 10 };
	char got[512];
	int64_t next, removed = -1;

	seed(f);
	/* acme's oldest two go; globex's and the console-wide record stay */
	assert_int_equal(audit_prune(f->db, f->a.id, &ret, 700, &removed), 0);
	assert_int_equal(removed, 2);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500 lifecycle.test@400 machine.pause@300");
	q.account_id = f->b.id;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "token.create@250");
	/* every account at once */
	ret.keep = 1;
	assert_int_equal(audit_prune(f->db, -1, &ret, 700, &removed), 0);
	assert_int_equal(removed, 2);
	q.account_id = f->a.id;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500");
	q.account_id = 0;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "staging.add@600");
}

static void test_prune_age(void **state)
{
	struct fixture *f = *state;
	struct audit_retention ret = { .keep = 1000, .max_age_s = 250 };
	struct audit_query q = { .account_id = f->a.id, .limit = 10 };
	char got[512];
	int64_t next, removed = -1;

	seed(f);
	/* at 650 with 250 s kept: everything before 400 goes, in every account */
	assert_int_equal(audit_prune(f->db, f->a.id, &ret, 650, &removed), 0);
	assert_int_equal(removed, 4);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "lifecycle.revert@500 lifecycle.test@400");
	q.account_id = f->b.id;
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "");
	/* the same clock again: nothing more */
	assert_int_equal(audit_prune(f->db, -1, &ret, 650, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(audit_prune(f->db, -1, &(struct audit_retention){ 0, 1 }, 650, NULL),
			 -EINVAL);
}

static void test_same_transaction(void **state)
{
	struct fixture *f = *state;
	struct audit_query q = { .account_id = f->a.id, .limit = 10 };
	char got[512];
	int64_t next;

	assert_int_equal(db_begin(f->db), 0);
	put(f, &alice, f->a.id, f->m.ref, "machine.remove", 100);
	db_rollback(f->db);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "");
	assert_int_equal(db_begin(f->db), 0);
	put(f, &alice, f->a.id, f->m.ref, "machine.remove", 100);
	assert_int_equal(db_commit(f->db), 0);
	list(f, &q, got, sizeof(got), &next);
	assert_string_equal(got, "machine.remove@100");
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	json_t *arr = json_array(), *recs = NULL;
	struct audit_rec r = { .account_id = f->a.id, .action = "" };
	struct audit_query q = { .account_id = f->a.id, .limit = 0 };
	int64_t next;

	assert_int_equal(audit_write(f->db, &alice, &r, 1), -EINVAL);
	r.action = "x.y";
	r.detail = arr;
	assert_int_equal(audit_write(f->db, &alice, &r, 1), -EINVAL);
	r.detail = NULL;
	assert_int_equal(audit_write(f->db, &(struct audit_who){ "", "", "" }, &r, 1), -EINVAL);
	assert_int_equal(audit_list_json(f->db, &q, &recs, &next), -EINVAL);
	q.limit = AUDIT_LIST_MAX + 1;
	assert_int_equal(audit_list_json(f->db, &q, &recs, &next), -EINVAL);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isolation_and_console_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
