// SPDX-License-Identifier: GPL-2.0-or-later
/* The network reset to DHCP on whatever NIC the target gives: each of the
 * four configuration systems a Linux guest may use gets a catch-all DHCP
 * configuration for Ethernet names, and its old per-name or per-MAC
 * configuration is set aside (kept as *.livemig-orig, not deleted). Rules
 * that pin a name to the source's MAC address are set aside too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_files.h"

static const char ifupdown_head[] =
	"# livemig: the launched copy takes its address by DHCP on whatever NIC\n"
	"# the target gives; the source's file is interfaces.livemig-orig\n"
	"source /etc/network/interfaces.d/*\n"
	"\n"
	"auto lo\n"
	"iface lo inet loopback\n"
	"\n"
	"allow-hotplug /en*=livemig-dhcp\n"
	"allow-hotplug /eth*=livemig-dhcp\n"
	"iface livemig-dhcp inet dhcp\n"
	"\n"
	"# the names virtual NICs get on common targets, each by name too: udev's\n"
	"# hotplug path (ifup@NAME) asks for the name itself\n";

/* q35 root ports, i440fx slots (and without slot information), VMware,
 * GCE, EC2, classic names */
static const char *const target_nic_names[] = {
	"enp1s0", "enp2s0", "enp3s0", "enp4s0", "enp5s0", "enp6s0", "enp7s0", "enp8s0", "enp9s0",
	"ens3", "ens4", "ens5", "ens6", "ens7", "ens8", "ens9", "ens33", "ens160", "ens192",
	"enp0s3", "enp0s4", "enp0s5", "enp0s6", "enp0s7", "enp0s8", "enp0s9", "enp0s10",
	"eth0", "eth1", "eth2", "eth3", NULL,
};

static char *ifupdown_conf(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputs(ifupdown_head, f);
	for (const char *const *n = target_nic_names; *n; n++)
		fprintf(f, "allow-hotplug %s\niface %s inet dhcp\n", *n, *n);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

static const char netplan_conf[] =
	"# livemig: DHCP on whatever NIC the target gives\n"
	"network:\n"
	"  version: 2\n"
	"%s"
	"  ethernets:\n"
	"    livemig-dhcp:\n"
	"      match:\n"
	"        name: \"e*\"\n"
	"      dhcp4: true\n"
	"      dhcp6: true\n";

static const char nm_conf[] =
	"# livemig: DHCP on whatever NIC the target gives\n"
	"[connection]\n"
	"id=livemig-dhcp\n"
	"type=ethernet\n"
	"autoconnect=true\n"
	"\n"
	"[ipv4]\n"
	"method=auto\n"
	"\n"
	"[ipv6]\n"
	"method=auto\n";

static const char networkd_conf[] =
	"# livemig: DHCP on whatever NIC the target gives\n"
	"[Match]\n"
	"Name=en* eth*\n"
	"\n"
	"[Network]\n"
	"DHCP=yes\n";

/* moved out of a directory another file includes with a glob */
static int move_out(struct conv *c, const char *path, const char *dir)
{
	const char *base = strrchr(path, '/') + 1;
	char dst[512];

	snprintf(dst, sizeof(dst), "%s/%s", dir, base);
	if (guestfs_mkdir_p(c->g, dir) < 0 || guestfs_mv(c->g, path, dst) < 0)
		return conv_fail(c, -EIO, "cannot move %s to %s: %s", path, dir, guestfs_last_error(c->g));
	conv_change(c, "network", path, "moved to %s: the source's configuration", dst);
	return 0;
}

static int ifupdown(struct conv *c)
{
	char **files;
	int rc = 0;

	if (!gf_is_file(c, "/etc/network/interfaces"))
		return 0;
	files = gf_glob(c, "/etc/network/interfaces.d/*");
	for (char **f = files; f && *f && !rc; f++)
		if (gf_is_file(c, *f))
			rc = move_out(c, *f, "/etc/network/livemig-orig");
	gf_free_strv(files);
	if (!rc)
		rc = gf_set_aside(c, "network", "/etc/network/interfaces", "static or per-name configuration");
	if (!rc) {
		char *conf = ifupdown_conf();

		rc = conf ? gf_write(c, "/etc/network/interfaces", conf, 0644) : conv_fail(c, -ENOMEM, "out of memory");
		free(conf);
	}
	if (rc)
		return rc;
	conv_change(c, "network", "/etc/network/interfaces", "ifupdown: DHCP on any en*/eth* NIC (allow-hotplug "
		    "patterns and the common virtual NIC names)");
	if (!gf_exists(c, "/sbin/dhclient") && !gf_exists(c, "/usr/sbin/dhclient") &&
	    !gf_exists(c, "/sbin/dhcpcd") && !gf_exists(c, "/usr/sbin/dhcpcd") && !gf_exists(c, "/sbin/udhcpc"))
		conv_change(c, "warning", "/etc/network/interfaces",
			    "no DHCP client (dhclient, dhcpcd, udhcpc) in the guest: ifupdown cannot take an "
			    "address; install isc-dhcp-client on the source");
	return 0;
}

static int netplan(struct conv *c)
{
	char **files = gf_glob(c, "/etc/netplan/*.yaml");
	char renderer[128] = "", text[1024];
	int rc = 0;

	if (!files || !files[0]) {
		gf_free_strv(files);
		return 0;
	}
	for (char **f = files; *f && !rc; f++) {
		char *y = gf_read(c, *f), *r = y ? strstr(y, "renderer:") : NULL;

		if (r && !renderer[0])
			snprintf(renderer, sizeof(renderer), "  %.*s\n", (int)strcspn(r, "\n"), r);
		free(y);
		rc = move_out(c, *f, "/etc/netplan/livemig-orig");
	}
	gf_free_strv(files);
	if (rc)
		return rc;
	snprintf(text, sizeof(text), netplan_conf, renderer);
	rc = gf_write(c, "/etc/netplan/90-livemig-dhcp.yaml", text, 0600);
	if (!rc)
		conv_change(c, "network", "/etc/netplan/90-livemig-dhcp.yaml", "netplan: DHCP on any e* NIC%s",
			    renderer[0] ? " (the source's renderer kept)" : "");
	return rc;
}

static int network_manager(struct conv *c)
{
	static const char *const globs[] = { "/etc/NetworkManager/system-connections/*",
					     "/etc/sysconfig/network-scripts/ifcfg-e*", NULL };
	int rc = 0, any = 0;

	if (guestfs_is_dir(c->g, "/etc/NetworkManager") <= 0)
		return 0;
	for (const char *const *g = globs; *g && !rc; g++) {
		char **files = gf_glob(c, *g);

		for (char **f = files; f && *f && !rc; f++) {
			char *t = gf_read(c, *f);

			/* Ethernet profiles only: Wi-Fi and VPN profiles are no threat to the boot */
			if (t && (strstr(t, "type=ethernet") || strstr(t, "type=802-3-ethernet") ||
				  strstr(t, "TYPE=Ethernet"))) {
				rc = gf_set_aside(c, "network", *f, "NetworkManager profile bound to the "
						  "source's NIC or address");
				any = 1;
			}
			free(t);
		}
		gf_free_strv(files);
	}
	if (!rc && guestfs_mkdir_p(c->g, "/etc/NetworkManager/system-connections") == 0)
		rc = gf_write(c, "/etc/NetworkManager/system-connections/livemig-dhcp.nmconnection", nm_conf, 0600);
	if (!rc)
		conv_change(c, "network", "/etc/NetworkManager/system-connections/livemig-dhcp.nmconnection",
			    "NetworkManager: DHCP on any Ethernet NIC%s", any ? "" : " (no profile was set aside)");
	return rc;
}

static int networkd(struct conv *c)
{
	char **files = gf_glob(c, "/etc/systemd/network/*.network");
	int rc = 0, enabled;

	enabled = gf_exists(c, "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
	for (char **f = files; f && *f && !rc; f++)
		rc = gf_set_aside(c, "network", *f, "systemd-networkd configuration of the source's NICs");
	gf_free_strv(files);
	if (rc || !enabled)
		return rc;
	rc = gf_write(c, "/etc/systemd/network/80-livemig-dhcp.network", networkd_conf, 0644);
	if (!rc)
		conv_change(c, "network", "/etc/systemd/network/80-livemig-dhcp.network",
			    "systemd-networkd: DHCP on any en*/eth* NIC");
	return rc;
}

/* names pinned to the source's MAC: the target's NIC would not get them */
static int unpin_names(struct conv *c)
{
	static const char *const rules[] = { "/etc/udev/rules.d/70-persistent-net.rules",
					     "/etc/udev/rules.d/75-persistent-net-generator.rules", NULL };
	char **links;
	int rc = 0;

	for (const char *const *r = rules; *r && !rc; r++)
		if (gf_is_file(c, *r))
			rc = gf_set_aside(c, "network", *r, "it pins NIC names to the source's MAC addresses");
	links = gf_glob(c, "/etc/systemd/network/*.link");
	for (char **l = links; l && *l && !rc; l++) {
		char *t = gf_read(c, *l);

		if (t && strstr(t, "MACAddress="))
			rc = gf_set_aside(c, "network", *l, "it names a NIC by the source's MAC address");
		free(t);
	}
	gf_free_strv(links);
	return rc;
}

int guest_network_reset(struct conv *c)
{
	int rc = unpin_names(c);

	if (!rc)
		rc = ifupdown(c);
	if (!rc)
		rc = netplan(c);
	if (!rc)
		rc = network_manager(c);
	if (!rc)
		rc = networkd(c);
	return rc;
}
