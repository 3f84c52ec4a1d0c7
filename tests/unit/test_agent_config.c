// SPDX-License-Identifier: GPL-2.0-or-later
/* The agent's configuration file: what it accepts and how it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_config.h"

static const char good[] =
	"# livemigd test configuration\n"
	"[agent]\n"
	"machine = web-01\n"
	"state_dir = /var/lib/x\n"
	"workers = 3\n"
	"bandwidth_limit = 50M\n"
	"scan_interval = 500ms\n"
	"\n"
	"[staging]\n"
	"address = 127.0.0.1:7443\n"
	"ca = /etc/ca.pem\n"
	"cert = /etc/c.pem\n"
	"key = /etc/c.key\n"
	"[disk]\n"
	"name = vda\n"
	"path = /dev/loop0\n"
	"[disk]\n"
	"name = vdb\n"
	"path = /srv/b.img\n";

static int parse(const char *text, struct agent_config *c, char *err, size_t n)
{
	agent_config_defaults(c);
	return agent_config_parse(text, c, err, n);
}

static void test_good(void **state)
{
	static struct agent_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(good, &c, err, sizeof(err)), 0);
	assert_string_equal(c.machine, "web-01");
	assert_string_equal(c.state_dir, "/var/lib/x");
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.bandwidth_limit, 50ull << 20);
	assert_int_equal(c.scan_interval_ns, 500000000ull);
	assert_string_equal(c.staging_host, "127.0.0.1");
	assert_string_equal(c.staging_port, "7443");
	/* the certificate name defaults to the host */
	assert_string_equal(c.staging_name, "127.0.0.1");
	assert_int_equal(c.ndisks, 2);
	assert_string_equal(c.disks[1].name, "vdb");
	assert_string_equal(c.disks[1].path, "/srv/b.img");
	/* defaults survive where the file is silent */
	assert_string_equal(c.tracker, "scan");
	assert_int_equal(c.queue_depth, 16);
}

static void expect_error(const char *text, const char *needle)
{
	static struct agent_config c;
	char err[256] = "";

	assert_int_equal(parse(text, &c, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[agent]\nmachine = a/b\n", "not a valid name");
	expect_error("[agent]\nworkers = 0\n", "workers");
	expect_error("[agent]\nbandwidth_limit = fast\n", "bandwidth_limit");
	expect_error("[agent]\nscan_interval = 5 parsecs\n", "scan_interval");
	expect_error("[agent]\ntracker = magic\n", "tracker");
	expect_error("[agent]\ncolour = blue\n", "unknown key 'colour'");
	expect_error("[agnet]\n", "unknown section");
	expect_error("[staging]\naddress = nohostport\n", "HOST:PORT");
	expect_error("[agent]\nmachine = m\n", "[staging] needs");
	expect_error("[agent]\nmachine = m\n[staging]\naddress = h:1\nca = a\ncert = b\nkey = c\n",
		     "no [disk]");
	expect_error("[agent]\nmachine = m\n[staging]\naddress = h:1\nca = a\ncert = b\nkey = c\n"
		     "[disk]\nname = a\npath = /x\n[disk]\nname = a\npath = /y\n",
		     "used twice");
	expect_error("[agent]\nmachine = m\n[staging]\naddress = h:1\nca = a\ncert = b\nkey = c\n"
		     "[disk]\nname = a\n",
		     "needs both name and path");
	/* the line number leads the message */
	expect_error("[agent]\n\n\nworkers = 99\n", "4:");
}

static void test_ipv6_address(void **state)
{
	static struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse("[agent]\nmachine = m\n[staging]\naddress = [::1]:7443\nca = a\n"
			       "cert = b\nkey = c\n[disk]\nname = d\npath = /x\n",
			       &c, err, sizeof(err)), 0);
	assert_string_equal(c.staging_host, "::1");
	assert_string_equal(c.staging_port, "7443");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ipv6_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
