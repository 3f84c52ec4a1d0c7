// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The MAC half of the identity: the permanent address of the first physical
 * NIC. Physical means sysfs links the interface to a device, which leaves
 * out loopback, bridges, bonds, veth, tun and ifb. "First" is by interface
 * name in natural order (strverscmp: eth2 before eth10), with universally
 * administered addresses (vendor OUIs) ahead of locally administered ones:
 * clouds and hypervisors hand out locally administered but stable addresses
 * (AWS 02:..., 0a:..., GCP 42:01:..., Firecracker 02:fc:...), so such an
 * address is accepted when it is all there is, and the note says so. Random
 * and software-set addresses are never used: they change with a reboot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity.h"
#include "netdev_mac.h"

struct cand {
	char name[32];
	char mac[MAC_STR_LEN];
	enum perm_mac_how how;
	int local;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->local != y->local)
		return x->local - y->local;
	return strverscmp(x->name, y->name);
}

/* "eth0 (random address), br0 (virtual)" for the error message */
static void seen_add(char *seen, size_t len, const char *name, const char *why)
{
	size_t n = strlen(seen);

	if (n + 1 < len)
		snprintf(seen + n, len - n, "%s%s (%s)", n ? ", " : "", name, why);
}

/* Every physical NIC with a permanent unicast MAC, best first. 0 with *out
 * (to free) holding *n >= 1; -ENODEV with err naming what was seen; -ENOMEM. */
static int candidates(const char *sysfs, struct cand **out, size_t *n, char *err, size_t errlen)
{
	char dir[4096], seen[512] = "";
	struct cand *c = NULL;
	size_t nc = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/net", sysfs);
	d = opendir(dir);
	if (!d) {
		int e = errno;

		snprintf(err, errlen, "cannot list network interfaces in %s: %s", dir, strerror(e));
		return -ENODEV;
	}
	while ((de = readdir(d))) {
		struct cand k = { 0 };
		uint8_t mac[6];
		int rc;

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= sizeof(k.name)) {
			seen_add(seen, sizeof(seen), de->d_name, "name too long");
			continue;
		}
		if (!netdev_is_physical(sysfs, de->d_name)) {
			seen_add(seen, sizeof(seen), de->d_name, "virtual");
			continue;
		}
		rc = netdev_perm_mac(sysfs, de->d_name, k.mac, &k.how);
		if (rc) {
			seen_add(seen, sizeof(seen), de->d_name,
				 rc == -ENOENT ? "no permanent MAC address" : strerror(-rc));
			continue;
		}
		strcpy(k.name, de->d_name);
		mac_parse(k.mac, mac);
		k.local = mac_locally_administered(mac);
		if (nc == cap) {
			struct cand *grown = realloc(c, (cap = cap ? 2 * cap : 8) * sizeof(*c));

			if (!grown) {
				free(c);
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			c = grown;
		}
		c[nc++] = k;
	}
	closedir(d);
	if (nc == 0) {
		snprintf(err, errlen, "no physical network interface with a permanent MAC address%s%s%s",
			 seen[0] ? " (seen: " : "", seen, seen[0] ? ")" : "");
		free(c);
		return -ENODEV;
	}
	qsort(c, nc, sizeof(*c), cand_cmp);
	*out = c;
	*n = nc;
	return 0;
}

int identity_mac_pick(const char *sysfs, struct identity *out, char *err, size_t errlen)
{
	struct cand *c;
	size_t n;
	int rc = candidates(sysfs, &c, &n, err, errlen);

	if (rc)
		return rc;
	snprintf(out->source, sizeof(out->source), "mac");
	snprintf(out->value, sizeof(out->value), "%s", c[0].mac);
	snprintf(out->nic, sizeof(out->nic), "%s", c[0].name);
	snprintf(out->method, sizeof(out->method), "%s", perm_mac_how_name(c[0].how));
	if (c[0].local)
		snprintf(out->note, sizeof(out->note),
			 "%s is locally administered (set by a hypervisor or cloud); no NIC has a "
			 "vendor-assigned address",
			 c[0].mac);
	free(c);
	return 0;
}

int identity_mac_find(const char *sysfs, const char *mac, char nic[32], char *err, size_t errlen)
{
	struct cand *c;
	size_t n;
	int rc = candidates(sysfs, &c, &n, err, errlen);

	if (rc)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n && rc; i++) {
		if (strcasecmp(c[i].mac, mac))
			continue;
		snprintf(nic, 32, "%s", c[i].name);
		rc = 0;
	}
	if (rc) {
		/* name what is there instead, for the operator's message */
		size_t len = 0;

		len += (size_t)snprintf(err, errlen, "physical NICs now:");
		for (size_t i = 0; i < n && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, " %s %s", c[i].name, c[i].mac);
	}
	free(c);
	return rc;
}
