// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Checking a stored identity against the machine as it is now. Re-running
 * identity_detect() and comparing would be wrong twice over: a metadata
 * service that does not answer for a moment would look like a new machine,
 * and a NIC added with a lower name would replace an identity whose NIC is
 * still there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"

#define REINSTALL "the agent must be reinstalled (registered again) and replication restarts from scratch"

static int verify_metadata(const struct identity_options *o, const struct identity *stored,
			   char *msg, size_t msglen)
{
	const char *url = o && o->metadata_url ? o->metadata_url : IDENTITY_DEFAULT_METADATA_URL;
	long timeout = o && o->timeout_ms > 0 ? o->timeout_ms : IDENTITY_DEFAULT_TIMEOUT_MS;
	char id[INSTANCE_ID_MAX + 1], method[16], why[192] = "";
	int rc = identity_metadata_id(url, timeout, id, method, sizeof(method), why, sizeof(why));

	if (rc == -ENOMEM) {
		snprintf(msg, msglen, "%s", why);
		return rc;
	}
	if (rc) {
		snprintf(msg, msglen, "cannot check instance id %.64s now: %s", stored->value, why);
		return -EAGAIN;
	}
	if (strcmp(id, stored->value)) {
		snprintf(msg, msglen,
			 "this is not the registered source machine: the instance id is %s, "
			 "registered as %.64s; %s",
			 id, stored->value, REINSTALL);
		return -ESTALE;
	}
	return 0;
}

static int verify_mac(const struct identity_options *o, const struct identity *stored, char *msg,
		      size_t msglen)
{
	const char *sysfs = o && o->sysfs ? o->sysfs : "/sys";
	char nic[32], now[400] = "";
	int rc = identity_mac_find(sysfs, stored->value, nic, now, sizeof(now));

	if (rc == 0)
		return 0;
	if (rc == -ENOMEM) {
		snprintf(msg, msglen, "out of memory");
		return rc;
	}
	snprintf(msg, msglen,
		 "the MAC address changed: %.64s%s%.31s%s is no longer on any physical NIC "
		 "(%s); %s",
		 stored->value, stored->nic[0] ? " (registered on " : "", stored->nic,
		 stored->nic[0] ? ")" : "", now, REINSTALL);
	return -ESTALE;
}

int identity_verify(const struct identity_options *o, const struct identity *stored, char *msg,
		    size_t msglen)
{
	if (!strcmp(stored->source, "metadata"))
		return verify_metadata(o, stored, msg, msglen);
	if (!strcmp(stored->source, "mac"))
		return verify_mac(o, stored, msg, msglen);
	snprintf(msg, msglen, "stored identity has unknown source '%.15s'", stored->source);
	return -EINVAL;
}
