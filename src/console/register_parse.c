// SPDX-License-Identifier: GPL-2.0-or-later
/* The body of POST /api/v1/register, checked member by member (register.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "ca.h"
#include "machine_id.h"
#include "register.h"
#include "util.h"

#define INVENTORY_MAX (256u * 1024)

static int malformed(struct reply *rp, const char *what)
{
	return reply_error(rp, 400, "malformed", "malformed request: %s", what);
}

/* A string member: NULL if absent; -EINVAL (reply set) if present but not
 * a string of 1..max bytes. */
static int get_str(const json_t *obj, const char *key, size_t max, const char **out,
		   struct reply *rp)
{
	const json_t *v = json_object_get(obj, key);
	char msg[128];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a string of 1 to %zu characters", key, max);
		return malformed(rp, msg);
	}
	*out = json_string_value(v);
	return 0;
}

static int need(const char *v, const char *key, struct reply *rp)
{
	char msg[96];

	if (v)
		return 0;
	snprintf(msg, sizeof(msg), "\"%s\" is required", key);
	return malformed(rp, msg);
}

int register_parse_credential(const json_t *j, struct reg_request *r, struct reply *rp)
{
	int rc;

	if ((rc = get_str(j, "token", 256, &r->token, rp)) ||
	    (rc = get_str(j, "user", USER_NAME_MAX, &r->user, rp)) ||
	    (rc = get_str(j, "password", PW_MAX_LEN, &r->password, rp)) ||
	    (rc = get_str(j, "account", ACCOUNT_NAME_MAX, &r->account, rp)))
		return rc;
	if (r->token && (r->user || r->password || r->account))
		return malformed(rp, "give either \"token\" or \"user\", \"password\" and "
				     "\"account\", not both");
	if (!r->token && !(r->user && r->password && r->account))
		return malformed(rp, "\"token\", or \"user\", \"password\" and \"account\", "
				     "are required");
	return 0;
}

int register_parse(const json_t *j, struct reg_request *r, struct reply *rp)
{
	const json_t *id = json_object_get(j, "identity"), *inv = json_object_get(j, "inventory");
	const char *why;
	int rc;

	if ((rc = register_parse_credential(j, r, rp)) ||
	    (rc = get_str(j, "machine_id", 63, &r->machine_id, rp)) ||
	    (rc = get_str(j, "hostname", 255, &r->hostname, rp)) ||
	    (rc = get_str(j, "csr", CSR_PEM_MAX, &r->csr, rp)) ||
	    (rc = get_str(j, "agent_secret", SECRET_STR_MAX, &r->agent_secret, rp)))
		return rc;
	if ((rc = need(r->hostname, "hostname", rp)) || (rc = need(r->csr, "csr", rp)))
		return rc;
	if (r->machine_id && !name_valid(r->machine_id))
		return malformed(rp, "\"machine_id\" must be 1 to 63 characters of A-Z a-z 0-9 "
				     "_ - . (not starting with a dot)");
	if (!json_is_object(id))
		return malformed(rp, "\"identity\" must be an object {\"source\", \"value\"}");
	if ((rc = get_str(id, "source", 32, &r->id_source, rp)) ||
	    (rc = get_str(id, "value", 256, &r->id_value, rp)) ||
	    (rc = need(r->id_source, "identity.source", rp)) ||
	    (rc = need(r->id_value, "identity.value", rp)))
		return rc;
	/* the machine id is derived from it: one machine, one spelling */
	if ((why = machine_identity_invalid(r->id_source, r->id_value)))
		return malformed(rp, why);
	if (inv && !json_is_object(inv))
		return malformed(rp, "\"inventory\" must be an object");
	r->inventory = inv ? json_dumps(inv, JSON_COMPACT) : strdup("{}");
	if (!r->inventory)
		return reply_internal(rp, -ENOMEM);
	if (strlen(r->inventory) > INVENTORY_MAX)
		return malformed(rp, "\"inventory\" is larger than 256 KiB");
	return 0;
}
