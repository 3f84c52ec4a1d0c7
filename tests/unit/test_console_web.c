// SPDX-License-Identifier: GPL-2.0-or-later
/* console web_db.c and web_timeline.c: replication requests, token
 * ownership, and the timeline (series and events) out of stored reports. */
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
#include "machines.h"
#include "tokens.h"
#include "web_db.h"

struct fixture {
	char path[64];
	struct db *db;
	struct account acme;
	struct machine_ref m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct machine_reg reg = {
		.machine_id = "web-01", .identity_source = "mac", .identity_value = "52:54:00:00:00:01",
		.hostname = "web-01", .inventory = "{}", .cert_serial = "01", .cert_fingerprint = "ff",
		.agent_secret_hash = "00",
	};

	if (test_db_open(f->path, "test_console_web", &f->db) ||
	    account_create(f->db, "acme", 5) || account_find(f->db, "acme", &f->acme))
		return -1;
	reg.account_id = f->acme.id;
	if (machine_save(f->db, &reg, 0, 1000) || machine_lookup(f->db, "web-01", &f->m))
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

static void test_replication_request(void **state)
{
	struct fixture *f = *state;
	json_t *r = NULL;

	assert_int_equal(replication_request_get(f->db, f->m.ref, &r), 0);
	assert_null(r); /* nothing asked yet: the heartbeat answer carries nothing */
	assert_int_equal(replication_request_set(f->db, f->m.ref, REPLICATION_PAUSED, "alice@acme",
						 1234),
			 0);
	assert_int_equal(replication_request_get(f->db, f->m.ref, &r), 0);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "paused");
	assert_int_equal(json_integer_value(json_object_get(r, "requested_at")), 1234);
	assert_string_equal(json_string_value(json_object_get(r, "requested_by")), "alice@acme");
	json_decref(r);
	assert_int_equal(replication_request_set(f->db, f->m.ref, REPLICATION_RUNNING, "bob@acme",
						 1240),
			 0);
	assert_int_equal(replication_request_get(f->db, f->m.ref, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "running");
	json_decref(r);
	assert_int_equal(replication_request_get(f->db, 999999, &r), -ENOENT);
}

static void test_token_account(void **state)
{
	struct fixture *f = *state;
	char secret[SECRET_STR_MAX];
	int64_t id = 0, owner = 0;

	assert_int_equal(token_create(f->db, f->acme.id, "t", 0, 0, secret, &id), 0);
	assert_int_equal(token_account(f->db, id, &owner), 0);
	assert_int_equal(owner, f->acme.id);
	assert_int_equal(token_account(f->db, id + 100, &owner), -ENOENT);
}

static void report(struct fixture *f, int64_t t, const char *state, const char *reason,
		   double done, double tput, const char *staging_error, long long consistent)
{
	char doc[1024];

	snprintf(doc, sizeof(doc),
		 "{\"state\":\"%s\",\"reason\":\"%s\",\"throughput_bps\":%g,\"lag_seconds\":1.5,"
		 "\"last_consistent_ns\":%lld,\"staging\":{\"last_error\":\"%s\"},"
		 "\"disks\":[{\"bytes_done\":%g,\"bytes_total\":1000,\"backlog_bytes\":7},"
		 "{\"bytes_done\":0,\"bytes_total\":1000,\"backlog_bytes\":3}]}",
		 state, reason, tput, consistent, staging_error, done);
	assert_int_equal(machine_status_store(f->db, f->m.ref, doc, state, t, 500), 0);
}

static const char *event_text(json_t *tl, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(tl, "events"), i),
						 "text"));
}

static void test_timeline(void **state)
{
	struct fixture *f = *state;
	json_t *tl = NULL, *series, *p;

	report(f, 100, "REGISTERED", "", 0, 0, "", 0);
	report(f, 101, "INITIAL_MIRROR", "", 500, 100, "", 0);
	report(f, 102, "INITIAL_MIRROR", "", 1000, 200, "", 0);
	report(f, 103, "STALLED", "staging is full: free space on staging", 1000, 0,
	       "no space left on device", 0);
	report(f, 104, "CHANGE_COPY", "", 1000, 50, "no space left on device", 777);

	assert_int_equal(machine_timeline_json(f->db, f->m.ref, 120, &tl), 0);
	series = json_object_get(tl, "series");
	assert_int_equal(json_array_size(series), 5);
	/* oldest first, totals over the disks */
	p = json_array_get(series, 1);
	assert_int_equal(json_integer_value(json_object_get(p, "t")), 101);
	assert_true(json_real_value(json_object_get(p, "percent")) > 24.9 &&
		    json_real_value(json_object_get(p, "percent")) < 25.1);
	assert_true(json_number_value(json_object_get(p, "throughput_bps")) == 100.0);
	assert_int_equal(json_integer_value(json_object_get(p, "backlog_bytes")), 10);
	/* newest first: consistent point, CHANGE_COPY, staging error, STALLED with
	 * its remedy, INITIAL_MIRROR, the first report */
	assert_int_equal(json_array_size(json_object_get(tl, "events")), 6);
	assert_string_equal(event_text(tl, 0), "consistent point recorded on staging (777 ns)");
	assert_string_equal(event_text(tl, 1), "STALLED \u2192 CHANGE_COPY");
	assert_string_equal(event_text(tl, 2), "staging: no space left on device");
	assert_string_equal(event_text(tl, 3),
			    "INITIAL_MIRROR \u2192 STALLED: staging is full: free space on staging");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(tl, "events"), 3), "level")),
			    "error");
	assert_string_equal(event_text(tl, 4), "REGISTERED \u2192 INITIAL_MIRROR");
	/* only what needs attention is coloured: starting and recovering are not */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(tl, "events"), 4), "level")),
			    "info");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(tl, "events"), 1), "level")),
			    "info");
	assert_string_equal(event_text(tl, 5), "reporting: REGISTERED");
	json_decref(tl);

	/* a bounded window: the newest two reports */
	assert_int_equal(machine_timeline_json(f->db, f->m.ref, 2, &tl), 0);
	assert_int_equal(json_array_size(json_object_get(tl, "series")), 2);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(tl, "series"), 0), "t")),
			 103);
	json_decref(tl);
}

/* Large status documents never make the history hold more than its bytes. */
static void test_history_bytes_bounded(void **state)
{
	struct fixture *f = *state;
	size_t n = 300 * 1024;
	char *doc = malloc(n + 32);
	struct db_stmt *st;
	int64_t total;

	assert_non_null(doc);
	for (int i = 0; i < 40; i++) {
		int k = snprintf(doc, 32, "{\"seq\":%d,\"pad\":\"", i);

		memset(doc + k, 'x', n - (size_t)k - 2);
		memcpy(doc + n - 2, "\"}", 3);
		assert_int_equal(machine_status_store(f->db, f->m.ref, doc, "CHANGE_COPY", 2000 + i,
						      500),
				 0);
	}
	free(doc);
	assert_int_equal(db_prepare(f->db, &st,
				    "SELECT SUM(LENGTH(doc)) FROM status_history WHERE machine_ref = ?"),
			 0);
	db_bind_int64(st, 1, f->m.ref);
	assert_int_equal(db_step(st), DB_ROW);
	total = db_column_int64(st, 0);
	db_finalize(st);
	assert_true(total <= HISTORY_BYTES_MAX);
	assert_true(total > HISTORY_BYTES_MAX - (int64_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replication_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_bytes_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
