// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POST /api/v1/register: an agent presents a token (or a user's password),
 * its identity, inventory and a CSR, and leaves with a certificate from the
 * agent CA, a bearer secret for later calls and where staging is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "accounts.h"
#include "api.h"
#include "login_limit.h"
#include "auth.h"
#include "ca.h"
#include "console.h"
#include "register.h"
#include "util.h"

#define INVENTORY_MAX (256u * 1024)

struct reg_request {
	const char *token, *user, *password, *account;
	const char *machine_id, *id_source, *id_value, *hostname, *csr;
	const char *agent_secret; /* proof for re-registering an active machine */
	char *inventory; /* JSON text, malloc'd */
};

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

static int parse(const json_t *j, struct reg_request *r, struct reply *rp)
{
	const json_t *id = json_object_get(j, "identity"), *inv = json_object_get(j, "inventory");
	int rc;

	if ((rc = get_str(j, "token", 256, &r->token, rp)) ||
	    (rc = get_str(j, "user", USER_NAME_MAX, &r->user, rp)) ||
	    (rc = get_str(j, "password", PW_MAX_LEN, &r->password, rp)) ||
	    (rc = get_str(j, "account", ACCOUNT_NAME_MAX, &r->account, rp)) ||
	    (rc = get_str(j, "machine_id", 63, &r->machine_id, rp)) ||
	    (rc = get_str(j, "hostname", 255, &r->hostname, rp)) ||
	    (rc = get_str(j, "csr", CSR_PEM_MAX, &r->csr, rp)) ||
	    (rc = get_str(j, "agent_secret", SECRET_STR_MAX, &r->agent_secret, rp)))
		return rc;
	if (r->token && (r->user || r->password || r->account))
		return malformed(rp, "give either \"token\" or \"user\", \"password\" and "
				     "\"account\", not both");
	if (!r->token && !(r->user && r->password && r->account))
		return malformed(rp, "\"token\", or \"user\", \"password\" and \"account\", "
				     "are required");
	if ((rc = need(r->machine_id, "machine_id", rp)) ||
	    (rc = need(r->hostname, "hostname", rp)) || (rc = need(r->csr, "csr", rp)))
		return rc;
	if (!name_valid(r->machine_id))
		return malformed(rp, "\"machine_id\" must be 1 to 63 characters of A-Z a-z 0-9 "
				     "_ - . (not starting with a dot)");
	if (!json_is_object(id))
		return malformed(rp, "\"identity\" must be an object {\"source\", \"value\"}");
	if ((rc = get_str(id, "source", 32, &r->id_source, rp)) ||
	    (rc = get_str(id, "value", 256, &r->id_value, rp)) ||
	    (rc = need(r->id_source, "identity.source", rp)) ||
	    (rc = need(r->id_value, "identity.value", rp)))
		return rc;
	if (inv && !json_is_object(inv))
		return malformed(rp, "\"inventory\" must be an object");
	r->inventory = inv ? json_dumps(inv, JSON_COMPACT) : strdup("{}");
	if (!r->inventory)
		return reply_internal(rp, -ENOMEM);
	if (strlen(r->inventory) > INVENTORY_MAX)
		return malformed(rp, "\"inventory\" is larger than 256 KiB");
	return 0;
}

static json_t *response(struct console *c, const struct reg_request *r,
			const struct reg_outcome *o, const struct signed_cert *cert,
			const char *secret)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:i, s:{s:b, s:I, s:I}}",
			 "machine_id", r->machine_id, "account", o->acct.name,
			 "certificate", cert->pem, "agent_ca", c->agent_ca_pem,
			 "agent_secret", secret,
			 "staging", "address", c->staging_addr, "ca",
			 c->staging_ca_pem ? json_string(c->staging_ca_pem) : json_null(),
			 "heartbeat_interval", (int)c->heartbeat_interval_s,
			 "license", "reused", o->reused, "in_use", (json_int_t)o->in_use,
			 "total", (json_int_t)o->acct.licenses);
}

void api_register(struct request *rq, struct reply *rp)
{
	struct reg_request r = { .inventory = NULL };
	struct account pw_acct = { .id = 0 };
	struct signed_cert cert = { .pem = NULL };
	struct machine_reg m = { .account_id = 0 };
	struct reg_outcome o;
	char secret[SECRET_STR_MAX], secret_h[SECRET_HASH_HEX], why[300];
	json_t *j = NULL;
	int rc;

	if (request_json(rq, rp, &j) || parse(j, &r, rp))
		goto out;
	snprintf(rp->who, sizeof(rp->who), "machine=%s", r.machine_id);
	if (r.user) {
		/* The slow KDF runs before the transaction, never inside it. */
		rc = login_check(rq, rp, r.account, r.user, r.password, &pw_acct);
		if (rc == -EAGAIN)
			goto out;
		if (rc == -EACCES) {
			reply_error(rp, 401, "bad_credentials",
				    "wrong user name or password for account %s", r.account);
			goto out;
		}
		if (rc) {
			reply_internal(rp, rc);
			goto out;
		}
	}
	/* the credential first: nothing is signed for a caller without one */
	if (r.token && register_token_precheck(rq->db, r.token, rp))
		goto out;
	rc = agent_ca_sign(rq->c->ca, r.csr, r.machine_id, &cert, why, sizeof(why));
	if (rc == -EINVAL) {
		reply_error(rp, 400, "bad_csr", "bad CSR: %s", why);
		goto out;
	}
	if (rc) {
		reply_internal(rp, rc);
		goto out;
	}
	rc = secret_new(AGENT_PREFIX, secret, sizeof(secret));
	if (rc) {
		reply_internal(rp, rc);
		goto out;
	}
	secret_hash(secret, secret_h);
	m.machine_id = r.machine_id;
	m.identity_source = r.id_source;
	m.identity_value = r.id_value;
	m.hostname = r.hostname;
	m.inventory = r.inventory;
	m.cert_serial = cert.serial_hex;
	m.cert_fingerprint = cert.fingerprint_hex;
	m.agent_secret_hash = secret_h;
	if (register_commit(rq->db, r.token, &pw_acct, r.agent_secret, &m, &o, rp))
		goto out;
	snprintf(rp->who, sizeof(rp->who), "machine=%s account=%s", r.machine_id, o.acct.name);
	reply_json(rp, o.reused ? 200 : 201, response(rq->c, &r, &o, &cert, secret));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	signed_cert_clear(&cert);
	free(r.inventory);
	json_decref(j);
}
