// SPDX-License-Identifier: GPL-2.0-or-later
#include "netdev_mac.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sysfs_attr.h"

/* include/linux/netdevice.h: NET_ADDR_PERM */
#define ADDR_ASSIGN_PERM 0

int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void mac_format(const uint8_t mac[6], char out[MAC_STR_LEN])
{
	snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

int mac_usable(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

int mac_locally_administered(const uint8_t mac[6])
{
	return (mac[0] & 2) != 0;
}

int netdev_is_physical(const char *sysfs, const char *name)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/class/net/%s/device", sysfs, name) >=
	    (int)sizeof(path))
		return 0;
	return access(path, F_OK) == 0;
}

/* The driver's permanent address; all zeros (or an error) when it has none,
 * as for software devices and drivers that invent a random address. */
static int ethtool_perm_addr(const char *name, uint8_t mac[6])
{
	union {
		struct ethtool_perm_addr pa;
		unsigned char space[sizeof(struct ethtool_perm_addr) + 32];
	} u;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	memset(&ifr, 0, sizeof(ifr));
	u.pa.cmd = ETHTOOL_GPERMADDR;
	u.pa.size = 32;
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_data = (char *)&u;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		rc = -errno;
	else if (u.pa.size != 6)
		rc = -ENOENT; /* not Ethernet-sized (InfiniBand: 20 bytes) */
	else
		memcpy(mac, u.pa.data, 6);
	close(fd);
	return rc;
}

int netdev_perm_mac(const char *sysfs, const char *name, char out[MAC_STR_LEN],
		    enum perm_mac_how *how)
{
	char buf[64];
	uint8_t mac[6];
	int rc;

	if (!strcmp(sysfs, "/sys") && ethtool_perm_addr(name, mac) == 0 && mac_usable(mac)) {
		mac_format(mac, out);
		*how = PERM_MAC_ETHTOOL;
		return 0;
	}
	rc = attr_readf(buf, sizeof(buf), "%s/class/net/%s/addr_assign_type", sysfs, name);
	if (rc)
		return rc;
	if (strcmp(buf, "0") != 0)
		return -ENOENT;
	rc = attr_readf(buf, sizeof(buf), "%s/class/net/%s/address", sysfs, name);
	if (rc)
		return rc;
	if (mac_parse(buf, mac) || !mac_usable(mac))
		return -ENOENT;
	mac_format(mac, out);
	*how = PERM_MAC_SYSFS;
	return 0;
}

const char *perm_mac_how_name(enum perm_mac_how how)
{
	switch (how) {
	case PERM_MAC_ETHTOOL:
		return "ETHTOOL_GPERMADDR";
	case PERM_MAC_SYSFS:
		return "sysfs address (addr_assign_type 0)";
	}
	return "?";
}
