// SPDX-License-Identifier: GPL-2.0-or-later
/* install_files.c: the installed files' names and their removal, shared by
 * `livemig uninstall` and livemigd's finalize. */
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

#include "install_files.h"

static char root[256];

static void touch(const char *dir, const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

static int exists(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void test_paths(void **state)
{
	struct install_paths p;
	char long_dir[PATH_MAX];

	(void)state;
	assert_int_equal(install_paths_init(&p, "/etc/livemig///"), 0);
	assert_string_equal(p.dir, "/etc/livemig");
	assert_string_equal(p.conf, "/etc/livemig/livemigd.conf");
	assert_string_equal(p.secret, "/etc/livemig/agent-secret");
	assert_string_equal(p.key, "/etc/livemig/agent.key");
	memset(long_dir, 'a', sizeof(long_dir) - 1);
	long_dir[sizeof(long_dir) - 1] = '\0';
	assert_int_equal(install_paths_init(&p, long_dir), -ENAMETOOLONG);
}

static void test_state_file(void **state)
{
	static const char *const ours[] = { "checkpoint.json", "checkpoint.json.tmp", "hashes-vda.bin",
					    "livemigd.pid", "livemigd.log", "console-deregistered",
					    "cutover.json" };
	static const char *const others[] = { "console.db" /* a console sharing the dir */,
					      "pending-deregistration.json",
					      "pending-console-ca.pem", "notes.txt" };

	(void)state;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		assert_true(install_state_file(ours[i]));
	/* console.db starts with "console": the prefix is "console-" */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_false(install_state_file(others[i]));
}

static void test_remove_all(void **state)
{
	char conf[300], st[300], left[256];
	struct install_paths p;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/etc", root);
	snprintf(st, sizeof(st), "%s/state", root);
	assert_int_equal(mkdir(conf, 0755), 0);
	assert_int_equal(mkdir(st, 0700), 0);
	assert_int_equal(install_paths_init(&p, conf), 0);
	for (const char *f = "livemigd.conf agent.key agent.pem staging-ca.pem console-ca.pem "
			      "agent-secret"; *f;) {
		char name[32];
		size_t n = strcspn(f, " ");

		snprintf(name, sizeof(name), "%.*s", (int)n, f);
		touch(conf, name);
		f += n + (f[n] == ' ');
	}
	touch(st, "checkpoint.json");
	touch(st, "hashes-vda.bin");
	touch(st, "cutover.json");
	install_remove(&p);
	assert_false(exists(root, "etc"));
	assert_int_equal(install_state_clear(st, left, sizeof(left)), 0);
	assert_string_equal(left, "");
	assert_false(exists(root, "state"));
}

static void test_remove_keeps_others(void **state)
{
	char conf[300], st[300], left[256];
	struct install_paths p;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/etc2", root);
	snprintf(st, sizeof(st), "%s/state2", root);
	assert_int_equal(mkdir(conf, 0755), 0);
	assert_int_equal(mkdir(st, 0700), 0);
	assert_int_equal(install_paths_init(&p, conf), 0);
	touch(conf, "livemigd.conf");
	touch(conf, "install.conf"); /* the operator's */
	touch(st, "checkpoint.json");
	touch(st, "console.db");
	touch(st, "pending-deregistration.json");
	install_remove(&p);
	assert_false(exists(conf, "livemigd.conf"));
	assert_true(exists(conf, "install.conf"));
	assert_int_equal(install_state_clear(st, left, sizeof(left)), 0);
	/* the queue is uninstall's to say, not a leftover */
	assert_string_equal(left, "console.db");
	assert_false(exists(st, "checkpoint.json"));
	assert_true(exists(st, "console.db"));
	assert_true(exists(st, "pending-deregistration.json"));
	/* a directory that is already gone is nothing to do */
	assert_int_equal(install_state_clear("/nonexistent/livemig", left, sizeof(left)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_remove_all),
		cmocka_unit_test(test_remove_keeps_others),
	};
	char cmd[300];
	int rc;

	snprintf(root, sizeof(root), "/tmp/livemig-test-install-files.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
