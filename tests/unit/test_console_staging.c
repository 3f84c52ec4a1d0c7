// SPDX-License-Identifier: GPL-2.0-or-later
/* console staging_servers.c, recovery_points.c, jobs.c: what a staging sync
 * writes and what it is answered, on a real SQLite file. */
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
#include "jobs.h"
#include "machines.h"
#include "staging_servers.h"
#include "staging_sync.h"

struct fixture {
	char path[64];
	struct db *db;
	int64_t st1, st2, m1, m2;
};

static int64_t add_machine(struct db *db, int64_t account, const char *id, const char *fpr)
{
	struct machine_reg r = {
		.account_id = account, .machine_id = id, .identity_source = "mac",
		.identity_value = id, .hostname = id, .inventory = "{}", .cert_serial = "01",
		.cert_fingerprint = fpr, .agent_secret_hash = id,
	};
	struct machine_ref ref;

	assert_int_equal(machine_save(db, &r, 0, 100), 0);
	assert_int_equal(machine_lookup(db, id, &ref), 0);
	return ref.ref;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char secret[SECRET_STR_MAX];
	struct staging_ref s;
	struct account a;

	if (test_db_open(f->path, "test_console_staging", &f->db))
		return -1;
	assert_int_equal(account_create(f->db, "acme", 5), 0);
	assert_int_equal(account_find(f->db, "acme", &a), 0);
	f->m1 = add_machine(f->db, a.id, "m1", "aa");
	f->m2 = add_machine(f->db, a.id, "m2", "bb");
	assert_int_equal(staging_add(f->db, "st1", 100, secret), 0);
	assert_int_equal(staging_by_secret(f->db, secret, &s), 0);
	f->st1 = s.ref;
	assert_int_equal(staging_add(f->db, "st2", 100, secret), 0);
	assert_int_equal(staging_by_secret(f->db, secret, &s), 0);
	f->st2 = s.ref;
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

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	char why[256] = "";

	assert_non_null(j);
	if (sync_request_check(j, why, sizeof(why)))
		fail_msg("rejected: %s", why);
	return j;
}

#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POINT(id, t) \
	"{\"id\":" #id ",\"time\":\"x\",\"time_ns\":" #t ",\"origin\":\"periodic\"," \
	"\"consistency\":\"filesystem\",\"pinned\":false}"

static void report(struct fixture *f, int64_t st, int64_t now, const char *body, unsigned *unknown)
{
	json_t *req = parse(body);

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(points_report(f->db, st, json_object_get(req, "machines"), now, unknown), 0);
	if (json_object_get(req, "jobs"))
		assert_int_equal(jobs_apply_reports(f->db, st, json_object_get(req, "jobs"), now), 0);
	assert_int_equal(db_commit(f->db), 0);
	json_decref(req);
}

static json_t *points_of(struct fixture *f, int64_t m)
{
	json_t *out = NULL;

	assert_int_equal(points_machine_json(f->db, m, &out), 0);
	return out;
}

static void test_credentials(void **state)
{
	struct fixture *f = *state;
	char secret[SECRET_STR_MAX];
	struct staging_ref s;

	assert_int_equal(staging_add(f->db, "st1", 100, secret), -EEXIST);
	assert_int_equal(staging_add(f->db, "st3", 100, secret), 0);
	assert_memory_equal(secret, STAGING_PREFIX, strlen(STAGING_PREFIX));
	assert_int_equal(strlen(secret), strlen(STAGING_PREFIX) + 64);
	assert_int_equal(staging_by_secret(f->db, secret, &s), 0);
	assert_string_equal(s.name, "st3");
	assert_int_equal(staging_remove(f->db, "st3", 200), 0);
	assert_int_equal(staging_by_secret(f->db, secret, &s), -ENOENT);
	assert_int_equal(staging_remove(f->db, "st3", 200), -ENOENT);
	assert_int_equal(staging_by_secret(f->db, "lmg_0000", &s), -ENOENT);
}

static void test_points(void **state)
{
	struct fixture *f = *state;
	unsigned unknown = 9;
	json_t *p;

	report(f, f->st1, 1000,
	       "{\"machines\":[{\"machine\":\"m1\",\"points\":[" POINT(1, 10) "," POINT(2, 20) "]},"
	       "{\"machine\":\"ghost\",\"points\":[]}]}", &unknown);
	assert_int_equal(unknown, 1);
	p = points_of(f, f->m1);
	assert_int_equal(json_array_size(json_object_get(p, "points")), 2);
	/* newest first, with the server that holds it */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(p, "points"), 0), "id")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "points"), 0), "staging")), "st1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "stored_on"), 0), "staging")), "st1");
	json_decref(p);

	/* point 1 pruned, point 2 pinned, point 3 new; an unreadable list keeps what was there */
	report(f, f->st1, 1001,
	       "{\"machines\":[{\"machine\":\"m1\",\"points\":[" POINT(3, 30) ",{\"id\":2,\"time\":\"x\","
	       "\"time_ns\":20,\"origin\":\"periodic\",\"consistency\":\"filesystem\",\"pinned\":true}]},"
	       "{\"machine\":\"m2\",\"points_error\":\"EIO\"}]}", &unknown);
	p = points_of(f, f->m1);
	assert_int_equal(json_array_size(json_object_get(p, "points")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(p, "points"), 0), "id")), 3);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(p, "points"), 1), "pinned")));
	json_decref(p);
	p = points_of(f, f->m2);
	assert_int_equal(json_array_size(json_object_get(p, "stored_on")), 1);
	json_decref(p);

	/* a list sent with its digest is known by it; the digest alone keeps it */
	report(f, f->st1, 1002,
	       "{\"machines\":[{\"machine\":\"m1\",\"points\":[" POINT(3, 30) "],\"points_digest\":"
	       "\"" DIGEST "\"},{\"machine\":\"m2\",\"points\":[]}]}", &unknown);
	report(f, f->st1, 1003,
	       "{\"machines\":[{\"machine\":\"m1\",\"points_digest\":\"" DIGEST "\"},"
	       "{\"machine\":\"m2\",\"points\":[]}]}", &unknown);
	p = points_of(f, f->m1);
	assert_int_equal(json_array_size(json_object_get(p, "points")), 1);
	json_decref(p);
	assert_int_equal(points_known_json(f->db, f->st1, &p), 0);
	assert_string_equal(json_string_value(json_object_get(p, "m1")), DIGEST);
	assert_null(json_object_get(p, "m2")); /* sent without a digest */
	json_decref(p);

	/* no longer in the store: forgotten with its points */
	report(f, f->st1, 1004, "{\"machines\":[{\"machine\":\"m2\",\"points\":[]}]}", &unknown);
	p = points_of(f, f->m1);
	assert_int_equal(json_array_size(json_object_get(p, "points")), 0);
	assert_int_equal(json_array_size(json_object_get(p, "stored_on")), 0);
	json_decref(p);
}

static const char *job_state(struct fixture *f, int64_t m, int64_t id, json_t **keep)
{
	json_decref(*keep);
	*keep = NULL;
	assert_int_equal(job_json(f->db, m, id, keep), 0);
	return json_string_value(json_object_get(*keep, "state"));
}

static void test_jobs(void **state)
{
	struct fixture *f = *state;
	json_t *list = NULL, *j = NULL;
	unsigned unknown;
	int64_t id = 0;
	char body[512];

	assert_true(job_kind_known("refresh-points"));
	assert_false(job_kind_known("format-disk"));
	assert_int_equal(job_create(f->db, f->m1, "refresh-points", NULL, "alice@acme", 500, &id), 0);
	/* no server stores m1 yet: it waits */
	assert_int_equal(jobs_for_staging(f->db, f->st1, 501, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_QUEUED);

	report(f, f->st1, 502, "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}]}", &unknown);
	assert_int_equal(jobs_for_staging(f->db, f->st2, 502, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_array_size(list), 0); /* st2 does not store m1 */
	json_decref(list);
	assert_int_equal(jobs_for_staging(f->db, f->st1, 502, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "machine")), "m1");
	json_decref(list);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_DELIVERED);

	/* listed again in the next answer (level-triggered delivery) */
	assert_int_equal(jobs_for_staging(f->db, f->st1, 503, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);

	/* another server's report changes nothing */
	snprintf(body, sizeof(body), "{\"machines\":[],\"jobs\":[{\"id\":%lld,\"state\":\"failed\",\"error\":\"x\"}]}",
		 (long long)id);
	report(f, f->st2, 504, body, &unknown);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_DELIVERED);

	snprintf(body, sizeof(body), "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":%lld,"
		 "\"state\":\"running\",\"log\":[{\"seq\":1,\"at\":505,\"line\":\"started\"}]}]}", (long long)id);
	report(f, f->st1, 505, body, &unknown);
	report(f, f->st1, 506, body, &unknown); /* resent after a lost answer */
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_RUNNING);
	assert_int_equal(json_integer_value(json_object_get(j, "started")), 505);
	assert_int_equal(json_array_size(json_object_get(j, "log")), 1);
	/* a restarted staging server numbers a new run's lines after these */
	assert_int_equal(jobs_for_staging(f->db, f->st1, 506, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "log_seq")), 1);
	json_decref(list);

	snprintf(body, sizeof(body), "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":%lld,"
		 "\"state\":\"succeeded\",\"result\":{\"points\":0},\"log\":[{\"seq\":2,\"at\":507,"
		 "\"line\":\"done\"}]}]}", (long long)id);
	report(f, f->st1, 507, body, &unknown);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_SUCCEEDED);
	assert_int_equal(json_integer_value(json_object_get(j, "ended")), 507);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "points")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "log")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "owner")), "alice@acme");
	/* an ended job is not handed out again, nor moved by a late report */
	assert_int_equal(jobs_for_staging(f->db, f->st1, 508, JOB_LEASE_DEFAULT_S, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	snprintf(body, sizeof(body), "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":%lld,"
		 "\"state\":\"failed\",\"error\":\"late\"}]}", (long long)id);
	report(f, f->st1, 509, body, &unknown);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_SUCCEEDED);
	json_decref(j);
}

/* A job whose server stopped syncing stays its own for the lease, which
 * each of its syncs renews; then a server that stores the machine takes it
 * over, and only that server's end counts. A pinned job is never taken
 * over. */
static void test_job_lease(void **state)
{
	struct fixture *f = *state;
	json_t *list = NULL, *j = NULL;
	int64_t id = 0, pinned = 0;
	unsigned unknown;
	char body[512];

	report(f, f->st1, 600, "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}]}", &unknown);
	report(f, f->st2, 600, "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}]}", &unknown);
	assert_int_equal(job_create(f->db, f->m1, "refresh-points", NULL, "alice@acme", 600, &id), 0);
	assert_int_equal(job_create_on(f->db, f->m1, f->st1, JOB_KIND_DESTROY, NULL, "alice@acme", 600,
				       &pinned), 0);
	assert_int_equal(jobs_for_staging(f->db, f->st1, 601, 100, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	/* st1 held them at 601 and renews at 650: st2 finds nothing before 750 */
	assert_int_equal(jobs_for_staging(f->db, f->st2, 700, 100, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(jobs_for_staging(f->db, f->st1, 650, 100, &list), 0);
	json_decref(list);
	assert_int_equal(jobs_for_staging(f->db, f->st2, 749, 100, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* st1 silent past its lease: st2 takes the unpinned job over */
	assert_int_equal(jobs_for_staging(f->db, f->st2, 751, 100, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), id);
	json_decref(list);
	assert_string_equal(json_string_value(json_object_get(
		(job_json(f->db, f->m1, pinned, &j), j), "staging")), "st1");
	json_decref(j);
	j = NULL;
	/* st1 back: its late end changes nothing; it keeps the pinned job */
	snprintf(body, sizeof(body), "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":%lld,\"state\":"
		 "\"failed\",\"error\":\"late\"}]}", (long long)id);
	report(f, f->st1, 760, body, &unknown);
	assert_int_equal(jobs_for_staging(f->db, f->st1, 760, 100, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), pinned);
	json_decref(list);
	snprintf(body, sizeof(body), "{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":%lld,\"state\":"
		 "\"succeeded\",\"result\":{}}]}", (long long)id);
	report(f, f->st2, 770, body, &unknown);
	assert_string_equal(job_state(f, f->m1, id, &j), JOB_SUCCEEDED);
	assert_string_equal(json_string_value(json_object_get(j, "staging")), "st2");
	json_decref(j);
}

static void test_certificates(void **state)
{
	struct fixture *f = *state;
	json_t *c = NULL;

	assert_int_equal(machine_deregister(f->db, f->m2, 300), 0);
	assert_int_equal(staging_certificates_json(f->db, &c), 0);
	assert_int_equal(json_array_size(json_object_get(c, "m1")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "m1"), 0)), "aa");
	/* deregistered: listed, with no certificate allowed */
	assert_non_null(json_object_get(c, "m2"));
	assert_int_equal(json_array_size(json_object_get(c, "m2")), 0);
	json_decref(c);
}

static void test_check(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"machines\":[{\"machine\":\"m1\"}]}",
		"{\"machines\":[{\"machine\":\"m1\",\"points\":[{\"id\":1}]}]}",
		"{\"machines\":[{\"machine\":\"m1\",\"points\":[]}],\"jobs\":[{\"id\":1,\"state\":\"queued\"}]}",
		"{\"machines\":[],\"store\":{\"free_bytes\":-1}}",
		"{\"machines\":[],\"version\":7}",
		"{\"machines\":[{\"machine\":\"m1\",\"points_digest\":\"ABC\"}]}",
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);

		why[0] = '\0';
		assert_int_equal(sync_request_check(j, why, sizeof(why)), -EINVAL);
		assert_true(why[0] != '\0');
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificates, setup, teardown),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
