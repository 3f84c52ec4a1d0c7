// SPDX-License-Identifier: GPL-2.0-or-later
#include "identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine_id.h"
#include "util.h"

int identity_detect(const struct identity_options *o, struct identity *out, char *err,
		    size_t errlen)
{
	const char *url = o && o->metadata_url ? o->metadata_url : IDENTITY_DEFAULT_METADATA_URL;
	const char *sysfs = o && o->sysfs ? o->sysfs : "/sys";
	long timeout = o && o->timeout_ms > 0 ? o->timeout_ms : IDENTITY_DEFAULT_TIMEOUT_MS;
	char id[INSTANCE_ID_MAX + 1], why[192] = "", macerr[512] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	rc = identity_metadata_id(url, timeout, id, out->method, sizeof(out->method), why,
				  sizeof(why));
	if (rc == 0) {
		snprintf(out->source, sizeof(out->source), "metadata");
		snprintf(out->value, sizeof(out->value), "%s", id);
		return 0;
	}
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	rc = identity_mac_pick(sysfs, out, macerr, sizeof(macerr));
	if (rc) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "no machine identity: metadata service: %s; MAC: %s", why,
			 macerr);
		return rc;
	}
	/* a locally administered MAC's note matters more than why the
	 * metadata service was not used, but both fit */
	if (out->note[0]) {
		char local[sizeof(out->note)];

		snprintf(local, sizeof(local), "%s", out->note);
		snprintf(out->note, sizeof(out->note), "metadata service: %.180s; %.250s", why,
			 local);
	} else {
		snprintf(out->note, sizeof(out->note), "metadata service: %s", why);
	}
	return 0;
}

void identity_machine_id(const struct identity *id, const char *account, char out[33])
{
	machine_id_derive(account, id->source, id->value, out);
}
