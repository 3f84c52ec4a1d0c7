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
#include "auth.h"
#include "ca.h"
#include "console.h"
#include "login_limit.h"
#include "register.h"
#include "util.h"

static json_t *response(struct console *c, const char *machine_id,
			const struct reg_outcome *o, const struct signed_cert *cert,
			const char *secret)
{
	/* placed on a staging server: its address; placed nowhere: --staging */
	const struct placement *p = &o->placed;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o, s:o}, s:i, s:{s:b, s:I, s:I}}",
			 "machine_id", machine_id, "account", o->acct.name,
			 "certificate", cert->pem, "agent_ca", c->agent_ca_pem,
			 "agent_secret", secret,
			 "staging", "address", p->ref ? p->address : c->staging_addr,
			 "server", p->ref ? json_string(p->server) : json_null(), "ca",
			 c->staging_ca_pem ? json_string(c->staging_ca_pem) : json_null(),
			 "heartbeat_interval", (int)c->heartbeat_interval_s,
			 "license", "reused", o->reused, "in_use", (json_int_t)o->in_use,
			 "total", (json_int_t)o->acct.licenses);
}

int register_login(struct request *rq, struct reply *rp, const struct reg_request *r,
		   struct account *pw_acct)
{
	int rc;

	if (!r->user)
		return 0;
	rc = login_check(rq, rp, r->account, r->user, r->password, pw_acct);
	if (rc == -EAGAIN) /* limited: login_check replied */
		return -1;
	if (rc == -EACCES) {
		reply_error(rp, 401, "bad_credentials", "wrong user name or password for account %s",
			    r->account);
		return -1;
	}
	if (rc) {
		reply_internal(rp, rc);
		return -1;
	}
	return 0;
}

void api_register(struct request *rq, struct reply *rp)
{
	struct reg_request r = { .inventory = NULL };
	struct account pw_acct = { .id = 0 }, acct;
	struct signed_cert cert = { .pem = NULL };
	struct machine_reg m = { .account_id = 0 };
	struct reg_outcome o;
	char secret[SECRET_STR_MAX], secret_h[SECRET_HASH_HEX], why[300];
	char mid[MACHINE_ID_LEN + 1];
	json_t *j = NULL;
	int rc;

	if (request_json(rq, rp, &j) || register_parse(j, &r, rp))
		goto out;
	if (register_login(rq, rp, &r, &pw_acct))
		goto out;
	/* the credential first: nothing is signed for a caller without one */
	if (register_account(rq->db, r.token, &pw_acct, &acct, rp) ||
	    register_machine_id(&acct, &r, mid, rp))
		goto out;
	snprintf(rp->who, sizeof(rp->who), "machine=%s account=%s", mid, acct.name);
	rc = agent_ca_sign(rq->c->ca, r.csr, mid, &cert, why, sizeof(why));
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
	m.machine_id = mid;
	m.identity_source = r.id_source;
	m.identity_value = r.id_value;
	m.hostname = r.hostname;
	m.inventory = r.inventory;
	m.cert_serial = cert.serial_hex;
	m.cert_fingerprint = cert.fingerprint_hex;
	m.agent_secret_hash = secret_h;
	if (register_commit(rq, r.token, r.user, &acct, r.agent_secret, &m, &o, rp))
		goto out;
	reply_json(rp, o.reused ? 200 : 201, response(rq->c, mid, &o, &cert, secret));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	signed_cert_clear(&cert);
	free(r.inventory);
	json_decref(j);
}
