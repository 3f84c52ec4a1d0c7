// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Is this still the registered machine? identity_verify() decides (a MAC
 * identity holds while any physical NIC keeps that address; a metadata
 * service that does not answer is "cannot tell", not "changed"). For the
 * message only, what the machine is now: what a reinstall would register.
 */
#include "identity_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "identity_internal.h"
#include "log.h"

static void describe_now(const struct console_config *cc, struct identity_report *r)
{
	char why[512] = "";

	if (!strcmp(r->source, "metadata")) {
		const char *url = cc->metadata_url[0] ? cc->metadata_url : IDENTITY_DEFAULT_METADATA_URL;
		char id[INSTANCE_ID_MAX + 1], method[16];

		if (!identity_metadata_id(url, IDENTITY_DEFAULT_TIMEOUT_MS, id, method, sizeof(method),
					  why, sizeof(why)))
			snprintf(r->now, sizeof(r->now), "metadata:%s", id);
		else
			snprintf(r->now, sizeof(r->now), "no instance id");
	} else {
		struct identity id;

		if (!identity_mac_pick("/sys", &id, why, sizeof(why)))
			snprintf(r->now, sizeof(r->now), "mac:%s", id.value);
		else
			snprintf(r->now, sizeof(r->now), "no usable MAC");
	}
}

int identity_check_run(const struct console_config *cc, struct identity_report *r, char *reason,
		       size_t reasonlen)
{
	struct identity_options o = { 0 };
	struct identity stored = { 0 };
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->source, sizeof(r->source), "%s", cc->identity_source);
	snprintf(r->value, sizeof(r->value), "%s", cc->identity_value);
	snprintf(stored.source, sizeof(stored.source), "%s", cc->identity_source);
	snprintf(stored.value, sizeof(stored.value), "%s", cc->identity_value);
	o.metadata_url = cc->metadata_url[0] ? cc->metadata_url : NULL;
	rc = identity_verify(&o, &stored, r->detail, sizeof(r->detail));
	switch (rc) {
	case 0:
		snprintf(r->verdict, sizeof(r->verdict), "holds");
		log_info("identity %s:%s still holds", r->source, r->value);
		return 0;
	case -ESTALE:
		snprintf(r->verdict, sizeof(r->verdict), "changed");
		describe_now(cc, r);
		snprintf(reason, reasonlen,
			 "this machine's identity changed (was %s:%s, now %s): the seed requires "
			 "reinstalling: livemig uninstall && livemig install",
			 r->source, r->value, r->now);
		log_error("%s", r->detail);
		return rc;
	default:
		/* -EAGAIN: a metadata service that blips is not a new machine;
		 * nor is a failure to look: go on */
		snprintf(r->verdict, sizeof(r->verdict), "unknown");
		log_warn("cannot check this machine's identity now (%s); replicating anyway", r->detail);
		return 0;
	}
}

json_t *identity_check_report_json(const struct identity_report *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "source", r->source, "value", r->value,
			      "check", r->verdict, "detail", r->detail);

	if (o && r->now[0])
		json_object_set_new(o, "now", json_string(r->now));
	return o;
}
