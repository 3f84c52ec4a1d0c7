// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * identity*.c and netdev_mac.c: the machine id derivation, instance id
 * validation, MAC helpers, the MAC choice and the check of a stored MAC
 * identity on fake sysfs trees, since a test machine cannot grow NICs with
 * chosen addresses. The metadata service
 * itself is tested for real in tests/integration/t_identity.sh.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fake_tree.h"
#include "identity.h"
#include "netdev_mac.h"

static char root[4096];

static int each_setup(void **state)
{
	(void)state;
	return ft_make_root(root, "test_identity");
}

static int each_teardown(void **state)
{
	(void)state;
	ft_remove(root);
	return 0;
}

/* A NIC in the fake tree; physical ones get a device link like PCI NICs. */
static void nic(const char *name, const char *addr, int assign_type, int physical)
{
	char rel[256], val[64];

	snprintf(rel, sizeof(rel), "class/net/%s/address", name);
	snprintf(val, sizeof(val), "%s\n", addr);
	assert_int_equal(ft_write(root, rel, val), 0);
	snprintf(rel, sizeof(rel), "class/net/%s/addr_assign_type", name);
	snprintf(val, sizeof(val), "%d\n", assign_type);
	assert_int_equal(ft_write(root, rel, val), 0);
	if (physical) {
		snprintf(rel, sizeof(rel), "devices/pci0000:00/0000:00:03.0/%s", name);
		assert_int_equal(ft_mkdirs(root, rel), 0);
		snprintf(rel, sizeof(rel), "class/net/%s/device", name);
		snprintf(val, sizeof(val), "../../../devices/pci0000:00/0000:00:03.0/%s", name);
		assert_int_equal(ft_symlink(root, rel, val), 0);
	}
}

static void test_machine_id(void **state)
{
	struct identity md = { .source = "metadata", .value = "i-0123456789abcdef0" };
	struct identity mac = { .source = "mac", .value = "02:fc:00:00:00:01", .nic = "eth0" };
	char out[33];

	(void)state;
	/* printf 'acme\nmetadata:i-0123456789abcdef0' | sha256sum | cut -c1-32 */
	identity_machine_id(&md, "acme", out);
	assert_string_equal(out, "6435c25448fff0d1f391bd8305dc6e6c");
	identity_machine_id(&mac, "acme", out);
	assert_string_equal(out, "ac58f86a945cf7eeafd70d7694c763e8");
	/* the account is part of it: the same machine in another account is
	 * another source machine; the NIC name is not */
	identity_machine_id(&mac, "other", out);
	assert_string_equal(out, "d8df02d309f0b46e17ab732b2b2f3ce2");
	snprintf(mac.nic, sizeof(mac.nic), "ens5");
	identity_machine_id(&mac, "acme", out);
	assert_string_equal(out, "ac58f86a945cf7eeafd70d7694c763e8");
}

static void test_instance_id_valid(void **state)
{
	char s[80];

	(void)state;
	assert_true(identity_instance_id_valid("i-0123456789abcdef0"));
	assert_true(identity_instance_id_valid("5a0f1c3e-7a43-4b85-9f44-0e1d2c3b4a59"));
	assert_false(identity_instance_id_valid(""));
	assert_false(identity_instance_id_valid("i-01 23"));
	assert_false(identity_instance_id_valid("i-0123\n"));
	assert_false(identity_instance_id_valid("i-\x7f"));
	assert_false(identity_instance_id_valid("i-\xc3\xa9"));
	memset(s, 'a', 64);
	s[64] = '\0';
	assert_true(identity_instance_id_valid(s));
	s[64] = 'a';
	s[65] = '\0';
	assert_false(identity_instance_id_valid(s));
}

static void test_mac_helpers(void **state)
{
	uint8_t m[6];
	char s[MAC_STR_LEN];

	(void)state;
	assert_int_equal(mac_parse("02:FC:00:0a:00:01", m), 0);
	mac_format(m, s);
	assert_string_equal(s, "02:fc:00:0a:00:01");
	assert_true(mac_usable(m));
	assert_true(mac_locally_administered(m));
	assert_int_equal(mac_parse("00:16:3e:00:00:01", m), 0);
	assert_false(mac_locally_administered(m));
	assert_int_equal(mac_parse("01:00:5e:00:00:01", m), 0);
	assert_false(mac_usable(m)); /* multicast */
	assert_int_equal(mac_parse("00:00:00:00:00:00", m), 0);
	assert_false(mac_usable(m));
	assert_int_equal(mac_parse("00:16:3e:00:00", m), -EINVAL);
	assert_int_equal(mac_parse("00:16:3e:00:00:01:02", m), -EINVAL);
	assert_int_equal(mac_parse("00:16:3e:00:00:0g", m), -EINVAL);
	assert_int_equal(mac_parse("80:00:02:08:fe:80:00:00:00:00", m), -EINVAL); /* InfiniBand-like */
}

static void test_mac_universal_first_then_natural_order(void **state)
{
	struct identity id = { 0 };
	char err[512] = "";

	(void)state;
	nic("lo", "00:00:00:00:00:00", 0, 0);
	nic("br0", "00:16:3e:00:00:01", 3, 0);      /* virtual */
	nic("eth0", "02:00:00:00:00:01", 0, 1);     /* locally administered */
	nic("eth10", "00:16:3e:00:00:10", 0, 1);
	nic("eth2", "00:16:3e:00:00:02", 0, 1);     /* natural order: before eth10 */
	nic("eth1", "00:16:3e:00:00:99", 1, 1);     /* random: never */
	nic("eth3", "00:16:3e:00:00:33", 3, 1);     /* set by software, no ethtool in a fake tree */
	nic("eth4", "01:00:5e:00:00:01", 0, 1);     /* multicast */
	assert_int_equal(identity_mac_pick(root, &id, err, sizeof(err)), 0);
	assert_string_equal(id.source, "mac");
	assert_string_equal(id.nic, "eth2");
	assert_string_equal(id.value, "00:16:3e:00:00:02");
	assert_string_equal(id.method, "sysfs address (addr_assign_type 0)");
	assert_string_equal(id.note, "");
}

static void test_mac_locally_administered_when_alone(void **state)
{
	struct identity id = { 0 };
	char err[512] = "";

	(void)state;
	nic("ens5", "0A:1B:2C:3D:4E:5F", 0, 1); /* AWS-style; upper case in sysfs */
	nic("ens6", "02:1b:2c:3d:4e:60", 0, 1);
	nic("veth0", "00:16:3e:00:00:01", 0, 0);
	assert_int_equal(identity_mac_pick(root, &id, err, sizeof(err)), 0);
	assert_string_equal(id.nic, "ens5");
	assert_string_equal(id.value, "0a:1b:2c:3d:4e:5f");
	assert_non_null(strstr(id.note, "locally administered"));
}

static void test_mac_none(void **state)
{
	struct identity id = { 0 };
	char err[512] = "", missing[4200];

	(void)state;
	nic("lo", "00:00:00:00:00:00", 0, 0);
	nic("docker0", "02:42:ac:11:00:01", 3, 0);
	nic("wlan0", "5e:11:22:33:44:55", 1, 1);
	assert_int_equal(identity_mac_pick(root, &id, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no physical network interface with a permanent MAC address"));
	assert_non_null(strstr(err, "docker0 (virtual)"));
	assert_non_null(strstr(err, "wlan0 (no permanent MAC address)"));
	/* no class/net at all (a container without sysfs) */
	snprintf(missing, sizeof(missing), "%s/nothing", root);
	assert_int_equal(identity_mac_pick(missing, &id, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "cannot list network interfaces"));
}

/* A loopback port with nothing listening: refused at once. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_detect_falls_back(void **state)
{
	struct identity id;
	struct identity_options o = { .timeout_ms = 500, .sysfs = root };
	char url[64], err[1024] = "";

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
	o.metadata_url = url;
	nic("eth0", "00:16:3e:00:00:01", 0, 1);
	assert_int_equal(identity_detect(&o, &id, err, sizeof(err)), 0);
	assert_string_equal(id.source, "mac");
	assert_string_equal(id.value, "00:16:3e:00:00:01");
	assert_non_null(strstr(id.note, "metadata service: "));
	assert_non_null(strstr(id.note, url));

	/* neither: one message with both reasons, and nothing half-filled */
	ft_remove(root);
	assert_int_equal(ft_make_root(root, "test_identity"), 0);
	assert_int_equal(identity_detect(&o, &id, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no machine identity: metadata service: "));
	assert_non_null(strstr(err, "MAC: "));
	assert_string_equal(id.source, "");
	assert_string_equal(id.value, "");

	/* a URL curl cannot use is a metadata failure like any other */
	o.metadata_url = "gopher://127.0.0.1";
	nic("eth0", "00:16:3e:00:00:01", 0, 1);
	assert_int_equal(identity_detect(&o, &id, err, sizeof(err)), 0);
	assert_string_equal(id.source, "mac");
}

static void test_verify(void **state)
{
	struct identity_options o = { .timeout_ms = 300, .sysfs = root };
	struct identity mac = { .source = "mac", .value = "00:16:3e:00:00:02", .nic = "eth2" };
	struct identity md = { .source = "metadata", .value = "i-0123456789abcdef0" };
	struct identity bad = { .source = "serial", .value = "x" };
	char url[64], msg[1024];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
	o.metadata_url = url;
	nic("eth2", "00:16:3e:00:00:02", 0, 1);
	assert_int_equal(identity_verify(&o, &mac, msg, sizeof(msg)), 0);
	/* a NIC added since that would now come first: still the same machine */
	nic("eth0", "00:16:3e:00:00:01", 0, 1);
	assert_int_equal(identity_verify(&o, &mac, msg, sizeof(msg)), 0);
	/* upper case as some tools print it */
	snprintf(mac.value, sizeof(mac.value), "00:16:3E:00:00:02");
	assert_int_equal(identity_verify(&o, &mac, msg, sizeof(msg)), 0);
	/* the registered NIC's address is gone */
	snprintf(mac.value, sizeof(mac.value), "00:16:3e:00:00:99");
	assert_int_equal(identity_verify(&o, &mac, msg, sizeof(msg)), -ESTALE);
	assert_non_null(strstr(msg, "the MAC address changed: 00:16:3e:00:00:99 (registered on eth2)"));
	assert_non_null(strstr(msg, "eth0 00:16:3e:00:00:01"));
	assert_non_null(strstr(msg, "reinstalled"));
	assert_non_null(strstr(msg, "from scratch"));
	/* a software-set address does not count, even if it equals the old one */
	nic("eth5", "00:16:3e:00:00:99", 3, 1);
	assert_int_equal(identity_verify(&o, &mac, msg, sizeof(msg)), -ESTALE);
	/* a metadata identity with no service to ask: no verdict, not "changed" */
	assert_int_equal(identity_verify(&o, &md, msg, sizeof(msg)), -EAGAIN);
	assert_non_null(strstr(msg, "cannot check instance id i-0123456789abcdef0 now"));
	assert_int_equal(identity_verify(&o, &bad, msg, sizeof(msg)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_id),
		cmocka_unit_test(test_instance_id_valid),
		cmocka_unit_test(test_mac_helpers),
		cmocka_unit_test_setup_teardown(test_mac_universal_first_then_natural_order, each_setup,
						each_teardown),
		cmocka_unit_test_setup_teardown(test_mac_locally_administered_when_alone, each_setup,
						each_teardown),
		cmocka_unit_test_setup_teardown(test_mac_none, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_detect_falls_back, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_verify, each_setup, each_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
