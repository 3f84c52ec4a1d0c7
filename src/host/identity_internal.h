/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two halves of identity_detect(), separate so tests can reach each. */
#ifndef LIVEMIG_IDENTITY_INTERNAL_H
#define LIVEMIG_IDENTITY_INTERNAL_H

#include <stddef.h>

#include "identity.h"

/* Instance ids are short tokens such as i-0123456789abcdef0. */
#define INSTANCE_ID_MAX 64

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
