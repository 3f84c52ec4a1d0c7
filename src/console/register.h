/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registration transaction: token check, license decision, machine row
 * and token use count, all under one writers' lock (db_begin) so that two agents
 * registering at once cannot both take the last license, and a token with
 * one use left cannot be used twice.
 */
#ifndef LIVEMIG_CONSOLE_REGISTER_H
#define LIVEMIG_CONSOLE_REGISTER_H

#include <stdint.h>

#include "accounts.h"
#include "db.h"
#include "http.h"
#include "machine_id.h"
#include "machines.h"
#include "placement.h"

/* A registration request's members (pointers into its parsed JSON). */
struct reg_request {
	const char *token, *user, *password, *account;
	/* machine_id: optional, the id the agent expects; the console derives
	 * the id itself and only checks this one against it */
	const char *machine_id, *id_source, *id_value, *hostname, *csr;
	const char *agent_secret; /* proof for re-registering an active machine */
	char *inventory; /* JSON text, malloc'd */
};

/* Check the body's members (docs/console-api.md); r->inventory is the
 * inventory as JSON text (malloc'd, the caller frees it even on error).
 * 0, or -EINVAL/-ENOMEM with the reply set. */
int register_parse(const json_t *j, struct reg_request *r, struct reply *rp);
/* Only the credential: "token", or "user", "password" and "account" (the
 * body of POST /api/v1/register/check). 0, or -EINVAL with the reply set. */
int register_parse_credential(const json_t *j, struct reg_request *r, struct reply *rp);

struct reg_outcome {
	struct account acct;
	int reused;          /* the machine already held a license */
	int64_t in_use;      /* licenses in use after this registration */
	struct placement placed; /* its staging server; ref 0: the console's --staging */
};

/* A user's credential (r->user set): the password checked through the login
 * limiter, *pw_acct the user's account. 0 when there is no user or the
 * password is right; -1 with the reply set (refused, limited or failed). The
 * slow KDF runs here, before any transaction. */
int register_login(struct request *rq, struct reply *rp, const struct reg_request *r,
		   struct account *pw_acct);

/* The account the credential registers into, before any work is done for
 * the request (the CA's signature above all): the token's (checked here and
 * again, in the transaction, by register_commit) or password_acct, whose
 * user's password was checked already. 0, or -EPERM with the reply set. */
int register_account(struct db *db, const char *token, const struct account *password_acct,
		     struct account *out, struct reply *rp);

/* The machine's id (docs/identity.md): derived from the account's name and
 * the identity, never taken from the request. A machine_id in the request
 * must be this id: 409 machine_id_mismatch otherwise (an agent computing
 * ids another way, e.g. one that did not know its account). 0, or -EPERM
 * with the reply set. */
int register_machine_id(const struct account *acct, const struct reg_request *r,
			char out[MACHINE_ID_LEN + 1], struct reply *rp);

/* m->machine_id is register_machine_id's, m->account_id acct's. An active
 * machine is re-registered only with proof that the request comes from it:
 * agent_secret, its current agent secret, and the same identity
 * (machine_same); otherwise 409 machine_registered. An operator replaces a
 * machine by deregistering it first. */
/* The registration is in the audit log (machine.register, by "agent ID"
 * with the credential it presented: the token, else user's password), in
 * the same transaction. */
int register_commit(struct request *rq, const char *token, const char *user,
		    const struct account *acct,
		    const char *agent_secret, struct machine_reg *m, struct reg_outcome *out,
		    struct reply *rp);

#endif
