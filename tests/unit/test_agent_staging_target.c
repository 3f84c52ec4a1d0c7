// SPDX-License-Identifier: GPL-2.0-or-later
/* staging_target.c with an engine that is never started: where the sender
 * would connect, a move the console asks for, what a restart reads back
 * (docs/staging-placement.md). The move of a live session is tested with
 * real programs in tests/integration/t_staging_fleet.sh. */
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

#include "atomic_file.h"
#include "engine.h"
#include "staging_target.h"

struct fixture {
	char dir[64];
	struct agent_config cfg;
	struct engine e;
	atomic_int stop;
};

static void engine_fresh(struct fixture *f)
{
	memset(&f->e, 0, sizeof(f->e));
	f->e.cfg = &f->cfg;
	pthread_mutex_init(&f->e.mu, NULL);
	pthread_cond_init(&f->e.cv, NULL);
	assert_int_equal(ring_init(&f->e.ring, 2, &f->stop, NULL, NULL), 0);
	staging_target_init(&f->e);
}

static void engine_done(struct fixture *f)
{
	ring_free(&f->e.ring);
	pthread_cond_destroy(&f->e.cv);
	pthread_mutex_destroy(&f->e.mu);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_staging_target.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s", f->dir);
	snprintf(f->cfg.staging_host, sizeof(f->cfg.staging_host), "st1.example");
	snprintf(f->cfg.staging_port, sizeof(f->cfg.staging_port), "7450");
	snprintf(f->cfg.staging_name, sizeof(f->cfg.staging_name), "staging.example");
	engine_fresh(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	engine_done(f);
	snprintf(path, sizeof(path), "%s/console-staging.json", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void configured_until_moved(void **state)
{
	struct fixture *f = *state;
	struct staging_target t;
	char path[128];
	struct stat sb;

	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st1.example");
	assert_string_equal(t.port, "7450");
	assert_string_equal(t.name, "staging.example"); /* server_name, with its address */
	assert_int_equal(t.gen, 0);
	/* the same address: nothing moves */
	assert_int_equal(staging_target_move(&f->e, "st1", "st1.example:7450"), 0);
	assert_int_equal(atomic_load(&f->e.conn_broken), 0);
	assert_int_equal(staging_target_move(&f->e, "st2", "10.0.0.2:7451"), 1);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "10.0.0.2");
	assert_string_equal(t.port, "7451");
	assert_string_equal(t.name, "10.0.0.2"); /* checked against the new host */
	assert_int_equal(t.gen, 1);
	assert_int_equal(atomic_load(&f->e.conn_broken), 1); /* the session ends */
	snprintf(path, sizeof(path), "%s/console-staging.json", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* IPv6 */
	assert_int_equal(staging_target_move(&f->e, "st3", "[2001:db8::3]:7450"), 1);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "2001:db8::3");
	assert_int_equal(t.gen, 2);
}

static void bad_addresses_refused(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = { "", "st2", "st2:", ":7450", "st2:0", "st2:65536", "st2:74x", NULL };
	struct staging_target t;

	for (int i = 0; bad[i]; i++)
		assert_int_equal(staging_target_move(&f->e, "st2", bad[i]), -EINVAL);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st1.example");
	assert_int_equal(t.gen, 0);
}

static void restart_reads_it_back(void **state)
{
	struct fixture *f = *state;
	struct staging_target t;

	assert_int_equal(staging_target_move(&f->e, "st2", "st2.example:7450"), 1);
	engine_done(f);
	engine_fresh(f);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st2.example");
	assert_string_equal(t.name, "st2.example");
	/* a reinstall that writes another address wins over the file */
	snprintf(f->cfg.staging_host, sizeof(f->cfg.staging_host), "st9.example");
	engine_done(f);
	engine_fresh(f);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st9.example");
	assert_string_equal(t.name, "staging.example");
}

static void damaged_file_ignored(void **state)
{
	struct fixture *f = *state;
	struct staging_target t;
	char path[128];
	const char *cut = "{\"address\": 7";
	const char *odd = "{\"address\": \"x\", \"configured\": \"st1.example:7450\"}";

	snprintf(path, sizeof(path), "%s/console-staging.json", f->dir);
	assert_int_equal(atomic_write_file(path, cut, strlen(cut), 0600), 0);
	engine_done(f);
	engine_fresh(f);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st1.example");
	assert_int_equal(atomic_write_file(path, odd, strlen(odd), 0600), 0);
	engine_done(f);
	engine_fresh(f);
	staging_target_get(&f->e, &t);
	assert_string_equal(t.host, "st1.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(configured_until_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_addresses_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_reads_it_back, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_file_ignored, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
