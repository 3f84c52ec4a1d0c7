/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A network interface's permanent MAC address: the one burnt into the NIC or
 * given by the hypervisor, which survives reboots and `ip link set address`.
 * Used by the machine identity and shown by the inventory.
 */
#ifndef LIVEMIG_NETDEV_MAC_H
#define LIVEMIG_NETDEV_MAC_H

#include <stdint.h>

#define MAC_STR_LEN 18 /* "aa:bb:cc:dd:ee:ff" + NUL */

enum perm_mac_how {
	PERM_MAC_ETHTOOL = 1, /* the kernel's ETHTOOL_GPERMADDR answer */
	PERM_MAC_SYSFS,       /* sysfs "address" with addr_assign_type 0 (permanent) */
};

/*
 * The permanent MAC of interface name, lowercase "aa:bb:cc:dd:ee:ff".
 * sysfs is the sysfs root ("/sys" or a test's fake tree). Only for the real
 * "/sys" is the kernel asked (ETHTOOL_GPERMADDR): a fake tree's names mean
 * nothing to the kernel. Otherwise, or when the driver reports none, the
 * current address counts only if addr_assign_type says it is the permanent
 * one (0); random (1), stolen (2) and software-set (3) addresses do not.
 * 0 with *how set; -ENOENT when the interface has no permanent 6-byte
 * address; other -errno.
 */
int netdev_perm_mac(const char *sysfs, const char *name, char out[MAC_STR_LEN],
		    enum perm_mac_how *how);

/* "ETHTOOL_GPERMADDR" or "sysfs address (addr_assign_type 0)". */
const char *perm_mac_how_name(enum perm_mac_how how);

/* 1 when sysfs/class/net/name/device exists: a NIC on a bus (PCI, virtio,
 * USB...), not a software device (loopback, bridge, bond, veth, tun, ifb). */
int netdev_is_physical(const char *sysfs, const char *name);

/* "aa:bb:cc:dd:ee:ff" (either case) -> 6 bytes. 0 or -EINVAL. */
int mac_parse(const char *s, uint8_t mac[6]);
void mac_format(const uint8_t mac[6], char out[MAC_STR_LEN]);
/* A unicast address that is not all zeros. */
int mac_usable(const uint8_t mac[6]);
/* The U/L bit: set by hypervisors, clouds and random generators alike. */
int mac_locally_administered(const uint8_t mac[6]);

#endif
