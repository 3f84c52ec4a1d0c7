/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What defines a source machine (seed: "The unique ID defines the Source
 * machine"): the cloud metadata service's instance id when one answers,
 * otherwise the permanent MAC address of the first physical NIC; either one
 * together with the livemig account. docs/identity.md has the rules.
 */
#ifndef LIVEMIG_IDENTITY_H
#define LIVEMIG_IDENTITY_H

#include <stddef.h>

#define IDENTITY_DEFAULT_METADATA_URL "http://169.254.169.254"
#define IDENTITY_DEFAULT_TIMEOUT_MS 1000

struct identity {
	char source[16]; /* "metadata" or "mac" */
	char value[128]; /* the instance id, or the MAC as "aa:bb:cc:dd:ee:ff" */
	char nic[32];    /* for "mac": the interface it belongs to */
	/* how the value was obtained: "IMDSv2", "IMDSv1", "ETHTOOL_GPERMADDR"
	 * or "sysfs address (addr_assign_type 0)" */
	char method[48];
	/* why this source and not a better one, for operators: the metadata
	 * service's failure, or that the MAC is locally administered */
	char note[512];
};

struct identity_options {
	const char *metadata_url; /* base URL; NULL = IDENTITY_DEFAULT_METADATA_URL */
	long timeout_ms;          /* the whole metadata attempt; <= 0 = 1000 */
	const char *sysfs;        /* NULL = "/sys"; a fake tree in tests */
};

/*
 * Ask the metadata service (IMDSv2, then IMDSv1) within timeout_ms in all;
 * when it gives no valid instance id, take the MAC. 0 with *out filled, or
 * -ENODEV with a message in err when there is neither (other -errno for
 * failures such as memory).
 */
int identity_detect(const struct identity_options *o, struct identity *out, char *err,
		    size_t errlen);

/*
 * Whether this machine still has the identity stored at registration
 * (docs/identity.md, "When the MAC changes"). 0: it does. -ESTALE: it does
 * not, and msg says what changed and what the seed requires: reinstalling
 * the agent, with replication restarting from scratch. -EAGAIN: cannot tell
 * now (a metadata identity whose service does not answer); msg says why.
 * A MAC identity holds while any physical NIC still has that permanent
 * address, even if a NIC added since would now come first.
 */
int identity_verify(const struct identity_options *o, const struct identity *stored, char *msg,
		    size_t msglen);

/* Lowercase hex SHA-256 of account "\n" source ":" value, first 32 digits. */
void identity_machine_id(const struct identity *id, const char *account, char out[33]);

/*
 * The two sources identity_detect() chooses between, public so that the
 * agent can check a stored identity against each and tests can reach each.
 */

/* Instance ids are short tokens such as i-0123456789abcdef0. */
#define INSTANCE_ID_MAX 64 /* MACHINE_INSTANCE_ID_MAX */

/*
 * EC2-style instance id from the metadata service at base within timeout_ms
 * (connect and transfer, all requests together). 0 with id (NUL-terminated)
 * and method ("IMDSv2"/"IMDSv1") set; -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH
 * when nothing answered, -EPROTO for an answer that is not a valid id,
 * -ENOMEM; err says what happened in either case.
 */
int identity_metadata_id(const char *base, long timeout_ms, char id[INSTANCE_ID_MAX + 1],
			 char *method, size_t methodlen, char *err, size_t errlen);

/* 1 when s is a plausible instance id: 1..64 printable, non-space ASCII. */
int identity_instance_id_valid(const char *s);

/*
 * The MAC identity from sysfs: among NICs with a device link and a permanent
 * unicast MAC, a universally administered address wins over a locally
 * administered one; ties go to the first name in natural order (eth2 before
 * eth10). 0 with out->source "mac", value, nic, method (and note for a
 * locally administered address) set; -ENODEV with err naming what was seen.
 */
int identity_mac_pick(const char *sysfs, struct identity *out, char *err, size_t errlen);

/*
 * Whether mac is the permanent address of one of the physical NICs that
 * identity_mac_pick() considers (first or not). 0 with nic set; -ENOENT with
 * err listing the NICs there are; -ENODEV (no NIC at all) or -ENOMEM.
 */
int identity_mac_find(const char *sysfs, const char *mac, char nic[32], char *err, size_t errlen);

#endif
