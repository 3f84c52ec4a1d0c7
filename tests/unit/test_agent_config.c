// SPDX-License-Identifier: GPL-2.0-or-later
/* The agent's configuration file: what it accepts and how it refuses. */
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

#include "agent_config.h"
#include "console_client.h"

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
	assert_int_equal(c.compression, COMPRESSION_AUTO);
	/* recovery points: every 10 min, 200 ms, 256 MiB, the hooks directory */
	assert_int_equal(c.point_interval_ns, 600000000000ull);
	assert_int_equal(c.freeze_max_ns, 200000000ull);
	assert_int_equal(c.freeze_buffer, 256ull << 20);
	assert_string_equal(c.freeze_hooks_dir, "/etc/livemig/freeze-hooks.d");
	assert_int_equal(c.freeze_hook_timeout_ns, 30000000000ull);
}

static void test_point_keys(void **state)
{
	static struct agent_config c;
	char err[512] = "";

	(void)state;
	assert_int_equal(parse("[agent]\nmachine = m\npoint_interval = 0\nfreeze_max = 1s\n"
			       "freeze_buffer = 1G\nfreeze_hooks_dir = /x/h.d\n"
			       "freeze_hook_timeout = 500ms\n[staging]\naddress = h:1\nca = a\n"
			       "cert = b\nkey = c\n[disk]\nname = a\npath = /x\n",
			       &c, err, sizeof(err)), 0);
	assert_int_equal(c.point_interval_ns, 0);
	assert_int_equal(c.freeze_max_ns, 1000000000ull);
	assert_int_equal(c.freeze_buffer, 1ull << 30);
	assert_string_equal(c.freeze_hooks_dir, "/x/h.d");
	assert_int_equal(c.freeze_hook_timeout_ns, 500000000ull);
}

static void test_compression(void **state)
{
	static const struct {
		const char *word;
		int mode;
	} cases[] = {
		{ "auto", COMPRESSION_AUTO },
		{ "deflate", COMPRESSION_DEFLATE },
		{ "none", COMPRESSION_NONE },
	};
	static struct agent_config c;
	char text[256], err[512] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "[agent]\nmachine = m\ncompression = %s\n[staging]\naddress = h:1\n"
			 "ca = a\ncert = b\nkey = c\n[disk]\nname = a\npath = /x\n",
			 cases[i].word);
		assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
		assert_int_equal(c.compression, cases[i].mode);
	}
}

static void expect_error(const char *text, const char *needle)
{
	static struct agent_config c;
	char err[512] = "";

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
	expect_error("[agent]\ncompression = zstd\n", "auto, deflate or none");
	expect_error("[agent]\npoint_interval = often\n", "point_interval");
	expect_error("[agent]\nfreeze_max = 0\n", "freeze_max");
	expect_error("[agent]\nfreeze_max = 31s\n", "at most 30s");
	expect_error("[agent]\nfreeze_buffer = 4K\n", "freeze_buffer");
	expect_error("[agent]\nfreeze_hook_timeout = 0\n", "freeze_hook_timeout");
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

/* The parts every [console] test shares: a valid [agent], [staging], [disk]. */
#define BASE "[agent]\nmachine = web-01\n[staging]\naddress = h:1\nca = a\ncert = b\nkey = c\n" \
	     "[disk]\nname = d\npath = /x\n"
#define CONSOLE "[console]\nurl = https://console.example:8443\nca = /etc/livemig/console-ca.pem\n" \
		"machine_id = web-01\nsecret_file = /etc/livemig/agent-secret\n"

static void test_console_absent(void **state)
{
	static struct agent_config c;
	char err[512] = "";

	(void)state;
	/* a daemon configured by hand: no heartbeats, no identity check */
	assert_int_equal(parse(good, &c, err, sizeof(err)), 0);
	assert_int_equal(c.console.present, 0);
	assert_string_equal(c.console.identity_source, "");
}

static void test_console_good(void **state)
{
	static struct agent_config c;
	char err[512] = "";

	(void)state;
	/* as livemig install writes it (docs/configuration.md) */
	assert_int_equal(parse(BASE "[console]\n"
			       "url = https://console.example:8443/\n"
			       "ca = /etc/livemig/console-ca.pem\n"
			       "machine_id = web-01\n"
			       "secret_file = /etc/livemig/agent-secret\n"
			       "heartbeat_interval = 30s\n"
			       "identity = mac:02:FC:00:00:00:01\n"
			       "metadata_url = http://127.0.0.1:8080\n"
			       "waived_checks = kernel-headers, dhclient\n",
			       &c, err, sizeof(err)), 0);
	assert_int_equal(c.console.present, 1);
	/* no trailing '/': API paths are appended */
	assert_string_equal(c.console.url, "https://console.example:8443");
	assert_string_equal(c.console.ca, "/etc/livemig/console-ca.pem");
	assert_string_equal(c.console.machine_id, "web-01");
	assert_string_equal(c.console.secret_file, "/etc/livemig/agent-secret");
	assert_int_equal(c.console.heartbeat_interval_ns, 30000000000ull);
	/* lower case, as identity_detect() registered it */
	assert_string_equal(c.console.identity_source, "mac");
	assert_string_equal(c.console.identity_value, "02:fc:00:00:00:01");
	assert_string_equal(c.console.metadata_url, "http://127.0.0.1:8080");
	assert_string_equal(c.console.waived_checks, "kernel-headers,dhclient");
	assert_string_equal(c.console.proxy, "");

	/* the minimum; the interval defaults to 10 s; metadata identity; IPv6 */
	assert_int_equal(parse(BASE "[console]\nurl = https://[::1]:8443/lm\nca = a\n"
			       "machine_id = web-01\nsecret_file = s\n"
			       "identity = metadata:i-0123456789abcdef0\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.console.url, "https://[::1]:8443/lm");
	assert_int_equal(c.console.heartbeat_interval_ns, 10000000000ull);
	assert_string_equal(c.console.identity_source, "metadata");
	assert_string_equal(c.console.identity_value, "i-0123456789abcdef0");

	/* [console] may come before [agent]: the machine check waits for both */
	assert_int_equal(parse(CONSOLE "[agent]\nmachine = web-01\n[staging]\naddress = h:1\n"
			       "ca = a\ncert = b\nkey = c\n[disk]\nname = d\npath = /x\n",
			       &c, err, sizeof(err)), 0);
}

static void test_console_errors(void **state)
{
	(void)state;
	/* every problem names its line: BASE takes 10 lines, so [console] is
	 * line 11 and its first key line 12 */
	expect_error(BASE "[console]\nurl = http://console:8443\n",
		     "12: url: 'http://console:8443' is not an https:// URL");
	expect_error(BASE "[console]\nurl = https://console:99999\n", "12: url: expected https://HOST:PORT");
	expect_error(BASE "[console]\nurl = https://:8443\n", "url: expected");
	expect_error(BASE "[console]\nurl = https://console:\n", "url: expected");
	expect_error(BASE "[console]\nurl = https://con sole:8443\n", "url: expected");
	expect_error(BASE "[console]\nurl = https://console:8443/?x=1\n", "url: expected");
	expect_error(BASE "[console]\nurl = https://user@console:8443\n", "url: expected");
	expect_error(BASE "[console]\nurl = https://[zz]:8443\n", "url: expected");
	expect_error(BASE "[console]\nmachine_id = db-01\n",
		     "12: [console] machine_id 'db-01' differs from [agent] machine 'web-01'");
	expect_error(CONSOLE "[agent]\nmachine = db-01\n",
		     "7: [console] machine_id 'web-01' differs from [agent] machine 'db-01'");
	expect_error(BASE "[console]\nmachine_id = a/b\n", "machine_id: 'a/b' is not a valid name");
	expect_error(BASE "[console]\nheartbeat_interval = 500ms\n", "12: heartbeat_interval: expected a duration from 1s");
	expect_error(BASE "[console]\nheartbeat_interval = 0\n", "heartbeat_interval");
	expect_error(BASE "[console]\nheartbeat_interval = 25h\n", "heartbeat_interval");
	expect_error(BASE "[console]\nheartbeat_interval = often\n", "heartbeat_interval");
	expect_error(BASE "[console]\nidentity = serial:123\n",
		     "12: identity: expected mac:aa:bb:cc:dd:ee:ff or metadata:<instance id>");
	expect_error(BASE "[console]\nidentity = 02:fc:00:00:00:01\n", "identity: expected");
	expect_error(BASE "[console]\nidentity = mac:02:fc:00:00:01\n", "not a unicast MAC address");
	expect_error(BASE "[console]\nidentity = mac:01:00:5e:00:00:01\n", "not a unicast MAC address");
	expect_error(BASE "[console]\nidentity = mac:00:00:00:00:00:00\n", "not a unicast MAC address");
	expect_error(BASE "[console]\nidentity = metadata:\n", "is not an instance id");
	expect_error(BASE "[console]\nidentity = metadata:i-0 abc\n", "is not an instance id");
	expect_error(BASE "[console]\nmetadata_url = ftp://x\n", "12: metadata_url: expected an http:// or https:// URL");
	expect_error(BASE "[console]\nproxy = socks\n", "proxy: expected");
	expect_error(BASE "[console]\nwaived_checks = ,dhclient\n", "waived_checks: expected check ids");
	expect_error(BASE "[console]\nwaived_checks = a,,b\n", "waived_checks");
	expect_error(BASE "[console]\nwaived_checks = Kernel\n", "waived_checks");
	expect_error(BASE "[console]\ntoken = x\n", "12: unknown key 'token' in [console]");
	expect_error(BASE CONSOLE "[console]\n", "16: [console] given twice");
	/* what is missing, all at once */
	expect_error(BASE "[console]\nurl = https://c:1\n",
		     "[console] needs url, ca, machine_id and secret_file (missing: ca, machine_id, secret_file)");
	expect_error(BASE "[console]\n", "(missing: url, ca, machine_id, secret_file)");
}

/* A file with this text and mode in a fresh directory; path out. */
static void secret_file(char *path, size_t n, const char *text, mode_t mode)
{
	char dir[] = "/tmp/lm-secret.XXXXXX";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, n, "%s/agent-secret", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void remove_secret(const char *path)
{
	char dir[256];

	unlink(path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	rmdir(dir);
}

static void expect_secret(const char *text, mode_t mode, int rc, const char *want)
{
	char path[256], out[CONSOLE_SECRET_MAX + 1] = "", err[512] = "";

	secret_file(path, sizeof(path), text, mode);
	assert_int_equal(console_client_load_secret(path, out, sizeof(out), err, sizeof(err)), rc);
	if (rc == 0)
		assert_string_equal(out, want);
	else if (!strstr(err, want))
		fail_msg("error '%s' does not mention '%s'", err, want);
	remove_secret(path);
}

static void test_secret_file(void **state)
{
	char out[CONSOLE_SECRET_MAX + 1], err[512];
	char big[CONSOLE_SECRET_MAX + 3];

	(void)state;
	expect_secret("lma_0123abcd\n", 0600, 0, "lma_0123abcd");
	expect_secret("lma_0123abcd", 0400, 0, "lma_0123abcd");
	/* readable by others or the group: refused, with the remedy */
	expect_secret("lma_0123abcd\n", 0644, -EPERM, "has mode 0644: group or others can read");
	expect_secret("lma_0123abcd\n", 0640, -EPERM, "chmod 600");
	expect_secret("lma_0123abcd\n", 0604, -EPERM, "mode 0604");
	/* nothing that could end or split the Authorization header */
	expect_secret("\n", 0600, -EINVAL, "holds no agent secret");
	expect_secret("lma_01\r\nX-Evil: 1\n", 0600, -EINVAL, "holds no agent secret");
	expect_secret("lma 01\n", 0600, -EINVAL, "holds no agent secret");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_secret(big, 0600, -EINVAL, "1 to 255 printable characters");
	assert_int_equal(console_client_load_secret("/nonexistent/agent-secret", out, sizeof(out), err,
					     sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/agent-secret"));
	assert_int_equal(console_client_load_secret("/tmp", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/* A configuration others may write, a key others may read: refused. */
static void test_file_modes(void **state)
{
	char dir[] = "/tmp/test_agent_config.XXXXXX", conf[64], key[64], err[512];
	struct agent_config c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/livemigd.conf", dir);
	snprintf(key, sizeof(key), "%s/agent.key", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
	f = fopen(key, "w");
	assert_non_null(f);
	fputs("k\n", f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	snprintf(c.key, sizeof(c.key), "%s", key);
	assert_int_equal(chmod(conf, 0644), 0);
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), 0);
	assert_int_equal(chmod(key, 0400), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), 0);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "has mode 0644: group or others can read the TLS private key"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), -EPERM);
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(chmod(conf, 0666), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod go-w"));
	assert_int_equal(chmod(conf, 0664), 0);
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), -EPERM);
	assert_int_equal(chmod(conf, 0644), 0);
	unlink(key);
	/* a key not made yet is not refused here */
	assert_int_equal(agent_config_files_check(conf, &c, err, sizeof(err)), 0);
	unlink(conf);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_point_keys),
		cmocka_unit_test(test_compression),
		cmocka_unit_test(test_ipv6_address),
		cmocka_unit_test(test_console_absent),
		cmocka_unit_test(test_console_good),
		cmocka_unit_test(test_console_errors),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_file_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
