// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network interfaces from getifaddrs(3): the MAC from each AF_PACKET entry,
 * IPv4 and IPv6 addresses with prefix lengths. Loopback is left out. The
 * permanent MAC (what the identity uses) is added where it differs from
 * the current one or is known; "physical" is sysfs's device link, the same
 * test the identity applies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory_internal.h"
#include "netdev_mac.h"

static int prefix_len(const unsigned char *mask, size_t n)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(mask[i]);
	return bits;
}

/* The object for interface name in nics (keyed by name), made on first use. */
static json_t *nic_get(json_t *byname, const char *name, const char *sysfs)
{
	json_t *o = json_object_get(byname, name);

	if (o)
		return o;
	o = json_pack("{s:s, s:n, s:n, s:b, s:b, s:[]}", "name", name, "mac", "permanent_mac",
		      "physical", netdev_is_physical(sysfs, name), "up", 0, "addresses");
	if (!o || json_object_set_new(byname, name, o))
		return NULL;
	return o;
}

static int add_address(json_t *nic, const struct ifaddrs *a)
{
	char buf[INET6_ADDRSTRLEN];
	const char *family;
	int plen = 0;

	if (a->ifa_addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)a->ifa_addr;
		const struct sockaddr_in *m = (const struct sockaddr_in *)(const void *)a->ifa_netmask;

		inet_ntop(AF_INET, &s->sin_addr, buf, sizeof(buf));
		if (m)
			plen = prefix_len((const unsigned char *)&m->sin_addr, 4);
		family = "inet";
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)a->ifa_addr;
		const struct sockaddr_in6 *m =
			(const struct sockaddr_in6 *)(const void *)a->ifa_netmask;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof(buf));
		if (m)
			plen = prefix_len(m->sin6_addr.s6_addr, 16);
		family = "inet6";
	}
	return json_array_append_new(json_object_get(nic, "addresses"),
				     json_pack("{s:s, s:s, s:i}", "family", family, "address", buf,
					       "prefixlen", plen)) ?
		       -ENOMEM :
		       0;
}

static int nic_cmp(const void *a, const void *b)
{
	return strverscmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
			  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int inv_nics(json_t *doc, json_t *warnings, const char *sysfs)
{
	json_t *byname = json_object(), *nics = json_array(), *o;
	struct ifaddrs *ifa = NULL;
	const char *name;
	json_t **v = NULL;
	size_t n = 0;
	int rc = -ENOMEM;

	if (!byname || !nics)
		goto out;
	if (getifaddrs(&ifa)) {
		inv_warn(warnings, "nics: getifaddrs: %s", strerror(errno));
		rc = json_object_set(doc, "nics", nics) ? -ENOMEM : 0;
		goto out;
	}
	for (const struct ifaddrs *a = ifa; a; a = a->ifa_next) {
		json_t *nic;

		if ((a->ifa_flags & IFF_LOOPBACK) || !a->ifa_addr)
			continue;
		nic = nic_get(byname, a->ifa_name, sysfs);
		if (!nic)
			goto out;
		if (a->ifa_flags & IFF_UP)
			json_object_set_new(nic, "up", json_true());
		if (a->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)(const void *)a->ifa_addr;
			char mac[MAC_STR_LEN];
			enum perm_mac_how how;

			if (ll->sll_halen == 6) {
				mac_format(ll->sll_addr, mac);
				json_object_set_new(nic, "mac", json_string(mac));
			}
			if (netdev_perm_mac(sysfs, a->ifa_name, mac, &how) == 0)
				json_object_set_new(nic, "permanent_mac", json_string(mac));
		} else if (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6) {
			if (add_address(nic, a))
				goto out;
		}
	}
	v = calloc(json_object_size(byname) + 1, sizeof(*v));
	if (!v)
		goto out;
	json_object_foreach(byname, name, o)
		v[n++] = o;
	qsort(v, n, sizeof(*v), nic_cmp);
	for (size_t i = 0; i < n; i++)
		if (json_array_append(nics, v[i]))
			goto out;
	rc = json_object_set(doc, "nics", nics) ? -ENOMEM : 0;
out:
	free(v);
	if (ifa)
		freeifaddrs(ifa);
	json_decref(byname);
	json_decref(nics);
	return rc;
}
