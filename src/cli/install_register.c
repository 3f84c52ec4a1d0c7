// SPDX-License-Identifier: GPL-2.0-or-later
/* The registration request, its answer, and the console's errors as exit statuses. */
#include "install_register.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "install.h"

static const struct {
	const char *code;
	int status;
	const char *remedy;
} codes[] = {
	{ "invalid_token", INSTALL_INVALID_TOKEN,
	  "check that the token was copied whole, or ask the console's operator for a new one" },
	{ "token_expired", INSTALL_TOKEN_EXPIRED, "ask the console's operator for a new token" },
	{ "token_revoked", INSTALL_TOKEN_REVOKED, "ask the console's operator for a new token" },
	{ "token_exhausted", INSTALL_TOKEN_EXHAUSTED,
	  "ask the console's operator for a new token (or one with more uses)" },
	{ "bad_credentials", INSTALL_BAD_CREDENTIALS,
	  "check the user name, the account and the password" },
	{ "no_license", INSTALL_NO_LICENSE,
	  "uninstall the agent from a machine that no longer needs it, or ask for more licenses" },
	{ "machine_id_conflict", INSTALL_MACHINE_ID_TAKEN,
	  "an old registration (from before the console derived machine ids) holds this "
	  "machine's id: ask the console's operator to remove it, then install again" },
	/* from consoles that let agents choose their machine id */
	{ "machine_id_taken", INSTALL_MACHINE_ID_TAKEN,
	  "this machine is registered to another account: uninstall it there first" },
	{ "machine_registered", INSTALL_MACHINE_ID_TAKEN,
	  "this machine is still registered (an earlier install was not uninstalled): ask the "
	  "console's operator to deregister it, then install again" },
	{ "bad_csr", INSTALL_BAD_CSR, "this is a bug in livemig install: please report it" },
};

int reg_failure(int rc, const struct console_answer *a, const struct console_client *c,
		const char *what, char *msg, size_t msglen)
{
	switch (rc) {
	case 0:
		break;
	case -EHOSTUNREACH:
		if (a->status) { /* it answered, but only ever 500 or 503 */
			snprintf(msg, msglen, "the console at %s kept failing (%u attempt%s): %s; "
					      "try again later, or ask its operator to look at its log",
				 c->url, c->retries + 1, c->retries ? "s" : "", a->error);
			return INSTALL_UNREACHABLE;
		}
		snprintf(msg, msglen, "cannot reach the console at %s (%u attempt%s): %s; check "
				      "the URL and that the console runs, then try again",
			 c->url, c->retries + 1, c->retries ? "s" : "",
			 a->error[0] ? a->error : "no answer");
		return INSTALL_UNREACHABLE;
	case -EKEYREJECTED:
		snprintf(msg, msglen, "the console's certificate at %s does not verify against %s: "
				      "%s; give the CA that signed the console's certificate",
			 c->url, c->ca, a->error);
		return INSTALL_TLS;
	case -ENOENT:
		snprintf(msg, msglen, "cannot use the console CA %s: %s", c->ca, a->error);
		return INSTALL_LOCAL;
	default:
		snprintf(msg, msglen, "%s at %s failed: %s", what, c->url,
			 a->error[0] ? a->error : strerror(-rc));
		return INSTALL_REFUSED;
	}
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(a->code, codes[i].code)) {
			snprintf(msg, msglen, "the console refused the %s: %s (%s): %s", what,
				 a->error, a->code, codes[i].remedy);
			return codes[i].status;
		}
	snprintf(msg, msglen, "the console refused the %s: %s%s%s%s", what,
		 a->error[0] ? a->error : "unexpected answer", a->code[0] ? " (" : "", a->code,
		 a->code[0] ? ")" : "");
	return INSTALL_REFUSED;
}

/* REQ as compact JSON, then jansson's copies of the secrets (token,
 * password) wiped before REQ is freed; NULL when out of memory. */
static char *dump_cleansed(json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);

	for (const char *const *k = (const char *const[]){ "token", "password", NULL }; *k; k++) {
		json_t *v = json_object_get(req, *k);

		if (v)
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(req);
	return text;
}

/* The request text. It holds the token or the password: the caller wipes it. */
static char *request_text(const struct reg_credentials *cred, const struct identity *id,
			  json_t *inventory, const char *csr)
{
	const char *host = json_string_value(json_object_get(inventory, "hostname"));
	char hostname[256] = "localhost";
	json_t *req;

	if (host && *host)
		snprintf(hostname, sizeof(hostname), "%s", host);
	else
		gethostname(hostname, sizeof(hostname) - 1);
	/* no machine_id: the console derives it, install checks the answer */
	req = json_pack("{s:{s:s, s:s}, s:s, s:O, s:s}", "identity", "source", id->source,
			"value", id->value, "hostname", hostname, "inventory", inventory, "csr",
			csr);
	if (!req)
		return NULL;
	if (cred->token)
		json_object_set_new(req, "token", json_string(cred->token));
	else {
		json_object_set_new(req, "user", json_string(cred->user));
		json_object_set_new(req, "account", json_string(cred->account));
		json_object_set_new(req, "password", json_string(cred->password));
	}
	return dump_cleansed(req);
}

void reg_result_clear(struct reg_result *r)
{
	json_t *secret = json_object_get(r->answer, "agent_secret");

	if (secret)
		OPENSSL_cleanse((char *)json_string_value(secret), json_string_length(secret));
	json_decref(r->answer);
	memset(r, 0, sizeof(*r));
}

/* The credential's members, as the registration request has them. */
static char *check_text(const struct reg_credentials *cred)
{
	json_t *req = cred->token ? json_pack("{s:s}", "token", cred->token)
				  : json_pack("{s:s, s:s, s:s}", "user", cred->user, "account",
					      cred->account, "password", cred->password);

	if (!req)
		return NULL;
	return dump_cleansed(req);
}

int reg_check(const struct console_client *c, const struct reg_credentials *cred, char *msg,
	      size_t msglen)
{
	struct console_answer a;
	char *text = check_text(cred);
	json_t *lic;
	int rc, status = INSTALL_OK;

	if (!text) {
		snprintf(msg, msglen, "out of memory");
		return INSTALL_LOCAL;
	}
	rc = console_call(c, "POST", "/api/v1/register/check", text, &a);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	lic = json_object_get(a.body, "licenses");
	if (!rc && (a.status == 404 || a.status == 405)) {
		msg[0] = '\0'; /* an older console: the registration will tell */
	} else if (rc || a.status != 200) {
		status = reg_failure(rc, &a, c, cred->token ? "token" : "sign-in", msg, msglen);
	} else {
		const char *acct = json_string_value(json_object_get(a.body, "account"));

		snprintf(msg, msglen, "account %s: %lld of %lld licenses in use", acct ? acct : "?",
			 (long long)json_integer_value(json_object_get(lic, "in_use")),
			 (long long)json_integer_value(json_object_get(lic, "total")));
	}
	console_answer_clear(&a);
	return status;
}

/* The members install needs; -EPROTO with msg when one is missing. */
static int read_answer(struct reg_result *r, char *msg, size_t msglen)
{
	json_t *a = r->answer, *st = json_object_get(a, "staging"), *lic = json_object_get(a, "license");
	json_t *hb = json_object_get(a, "heartbeat_interval");

	r->machine_id = json_string_value(json_object_get(a, "machine_id"));
	r->account = json_string_value(json_object_get(a, "account"));
	r->certificate = json_string_value(json_object_get(a, "certificate"));
	r->secret = json_string_value(json_object_get(a, "agent_secret"));
	r->staging_address = json_string_value(json_object_get(st, "address"));
	r->staging_ca = json_string_value(json_object_get(st, "ca"));
	r->staging_server = json_string_value(json_object_get(st, "server"));
	r->heartbeat_interval_s = json_is_integer(hb) ? (long)json_integer_value(hb) : 10;
	r->license_reused = json_is_true(json_object_get(lic, "reused"));
	r->licenses_in_use = (long long)json_integer_value(json_object_get(lic, "in_use"));
	r->licenses_total = (long long)json_integer_value(json_object_get(lic, "total"));
	if (!r->machine_id || !r->account || !r->certificate || !r->secret || !r->staging_address ||
	    r->heartbeat_interval_s <= 0) {
		snprintf(msg, msglen, "the console's answer lacks machine_id, account, certificate, "
				      "agent_secret, staging.address or heartbeat_interval");
		return -EPROTO;
	}
	return 0;
}

/* The answer's machine id must be the one docs/identity.md derives from the
 * answer's account and this identity: 1 (msg set) when it is not. */
static int id_not_derived(const struct reg_result *r, const struct identity *id, char *msg,
			  size_t msglen)
{
	char derived[33];

	identity_machine_id(id, r->account, derived);
	if (!strcmp(r->machine_id, derived))
		return 0;
	snprintf(msg, msglen, "the console registered machine %s, but identity %s:%s in account "
			      "%s is machine %s (docs/identity.md): this console does not derive "
			      "machine ids as livemig %s does", r->machine_id, id->source, id->value,
		 r->account, derived, LIVEMIG_VERSION);
	return 1;
}

int reg_register(const struct console_client *c, const struct reg_credentials *cred,
		 const struct identity *id, json_t *inventory, const char *csr,
		 struct reg_result *r, char *msg, size_t msglen)
{
	struct console_answer a;
	char *text = request_text(cred, id, inventory, csr);
	int rc, status;

	memset(r, 0, sizeof(*r));
	if (!text) {
		snprintf(msg, msglen, "out of memory");
		return INSTALL_LOCAL;
	}
	rc = console_call(c, "POST", "/api/v1/register", text, &a);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (rc || (a.status != 200 && a.status != 201)) {
		status = reg_failure(rc, &a, c, "registration", msg, msglen);
		console_answer_clear(&a);
		return status;
	}
	r->answer = a.body;
	r->http_status = (int)a.status;
	a.body = NULL;
	status = INSTALL_OK;
	if (read_answer(r, msg, msglen)) {
		status = INSTALL_REFUSED;
	} else if (cred->token && cred->account && strcmp(cred->account, r->account)) {
		snprintf(msg, msglen, "the token belongs to account %s, not %s: run again with "
				      "--account %s, or with a token of account %s",
			 r->account, cred->account, r->account, cred->account);
		status = INSTALL_ACCOUNT_MISMATCH;
	} else if (id_not_derived(r, id, msg, msglen)) {
		status = INSTALL_REFUSED;
	}
	if (status != INSTALL_OK) {
		/* registered, but not as asked: leave nothing behind on the console */
		struct console_client dc = *c;

		if (r->secret) {
			dc.bearer = r->secret;
			console_deregister(&dc, r->machine_id, &a);
			console_answer_clear(&a);
		}
		reg_result_clear(r);
	}
	return status;
}
