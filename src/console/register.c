// SPDX-License-Identifier: GPL-2.0-or-later
/* One registration, in one transaction (register.h). */
#include "register.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit_http.h"
#include "console.h"
#include "db.h"
#include "lifecycle.h"
#include "log.h"
#include "tokens.h"

static void utc(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Inside the transaction: the token's state cannot change under us. */
static int check_token(struct db *db, const char *secret, int64_t now, struct token *t,
		       struct reply *rp)
{
	char when[32];
	int rc = token_lookup(db, secret, t);

	if (rc == -ENOENT)
		return reply_error(rp, 401, "invalid_token",
				   "invalid installation token: this console issued no such token "
				   "(check for a typing mistake, or ask for a new one)");
	if (rc)
		return reply_internal(rp, rc);
	switch (token_verdict(t, now)) {
	case TOKEN_OK:
		return 0;
	case TOKEN_REVOKED:
		utc(t->revoked_at, when, sizeof(when));
		return reply_error(rp, 403, "token_revoked",
				   "installation token %lld was revoked at %s: ask for a new one",
				   (long long)t->id, when);
	case TOKEN_EXPIRED:
		utc(t->expires_at, when, sizeof(when));
		return reply_error(rp, 403, "token_expired",
				   "installation token %lld expired at %s: ask for a new one",
				   (long long)t->id, when);
	case TOKEN_EXHAUSTED:
		return reply_error(rp, 403, "token_exhausted",
				   "installation token %lld is used up: %lld of %lld uses taken; "
				   "ask for a new one", (long long)t->id, (long long)t->uses,
				   (long long)t->max_uses);
	}
	return reply_internal(rp, -EINVAL);
}

int register_account(struct db *db, const char *token, const struct account *password_acct,
		     struct account *out, struct reply *rp)
{
	struct token t = { .id = 0 };
	int rc;

	if (!token) {
		*out = *password_acct;
		return 0;
	}
	if (check_token(db, token, console_now(), &t, rp))
		return -EPERM;
	rc = account_by_id(db, t.account_id, out);
	return rc ? reply_internal(rp, rc) : 0;
}

int register_machine_id(const struct account *acct, const struct reg_request *r,
			char out[MACHINE_ID_LEN + 1], struct reply *rp)
{
	int rc = machine_id_derive(acct->name, r->id_source, r->id_value, out);

	if (rc)
		return reply_internal(rp, rc);
	/* The agent's id is a check, never a choice: a tenant who could name
	 * the id could take another account's machine id first. Saying which
	 * id is right tells the caller only what its own account derives. */
	if (r->machine_id && strcmp(r->machine_id, out))
		return reply_error(rp, 409, "machine_id_mismatch",
				   "machine id %s is not the one this console derives for identity "
				   "%s:%s in account %s (%s, from the account and the identity): "
				   "leave machine_id out, or compute it with account %s (livemig "
				   "install --account %s)", r->machine_id, r->id_source, r->id_value,
				   acct->name, out, acct->name, acct->name);
	return 0;
}

static int decide(struct db *db, struct machine_reg *m, const char *agent_secret,
		  int64_t *existing, struct reg_outcome *out, struct reply *rp)
{
	struct machine_ref prev;
	int rc = machine_lookup(db, m->machine_id, &prev);

	*existing = 0;
	out->reused = 0;
	if (rc && rc != -ENOENT)
		return reply_internal(rp, rc);
	if (!rc) {
		/* Derived ids of two accounts differ (the account's name is
		 * hashed in), so another account holds this one only if it
		 * chose it when agents still named their ids. The caller
		 * learns nothing of any other account by this: the id is its
		 * own account's, which is where the squatter sits. */
		if (prev.account_id != m->account_id) {
			log_warn("machine id %s of account %s is held by another account's "
				 "registration from before ids were derived", m->machine_id,
				 out->acct.name);
			return reply_error(rp, 409, "machine_id_conflict",
					   "machine id %s (derived from account %s and this "
					   "identity) is held by a registration made before the "
					   "console derived machine ids: ask the console's operator "
					   "to remove it", m->machine_id, out->acct.name);
		}
		*existing = prev.ref;
		out->reused = !prev.deregistered_at;
		/* A token or a password of the account is not enough to take
		 * an active machine over: the attacker would get its staging
		 * certificate and lock the real agent out. */
		if (out->reused) {
			rc = machine_same(db, prev.ref, agent_secret, m->identity_source,
					  m->identity_value);
			if (rc == -EACCES) {
				log_warn("refused re-registration of active machine %s (no proof "
					 "it is the same machine)", m->machine_id);
				return reply_error(rp, 409, "machine_registered",
						   "machine %s is registered and active: re-registering "
						   "it needs its current agent secret and the same "
						   "identity, or an operator deregisters it first to "
						   "replace it", m->machine_id);
			}
			if (rc)
				return reply_internal(rp, rc);
		}
	}
	rc = licenses_in_use(db, m->account_id, &out->in_use);
	if (rc)
		return reply_internal(rp, rc);
	if (out->reused)
		return 0;
	if (out->in_use >= out->acct.licenses)
		return reply_error(rp, 409, "no_license",
				   "account %s has no free license: %lld of %lld in use",
				   out->acct.name, (long long)out->in_use,
				   (long long)out->acct.licenses);
	out->in_use++;
	return 0;
}

/* machine.register: the credential (a token's id, or the user whose
 * password was given), whether the machine kept its license. */
static int audit_register(struct request *rq, const struct machine_reg *m, const char *token,
			  int64_t token_id, const char *user, const struct reg_outcome *out,
			  int64_t now)
{
	char actor[128], cred[USER_NAME_MAX + ACCOUNT_NAME_MAX + 16];
	struct machine_ref ref;
	struct audit_who w;
	json_t *d;
	int rc = machine_lookup(rq->db, m->machine_id, &ref);

	if (rc)
		return rc;
	snprintf(actor, sizeof(actor), "agent %s", m->machine_id);
	audit_who_other(rq, actor, &w);
	if (token)
		snprintf(cred, sizeof(cred), "token %lld", (long long)token_id);
	else
		snprintf(cred, sizeof(cred), "password of %s@%s", user ? user : "?",
			 out->acct.name);
	d = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "hostname", m->hostname, "identity_source",
		      m->identity_source, "identity_value", m->identity_value, "credential", cred,
		      "reused", out->reused, "licenses_in_use", (json_int_t)out->in_use);
	if (!d)
		return -ENOMEM;
	rc = audit_request(rq, &w, &(struct audit_rec){ .account_id = m->account_id,
				.machine_ref = ref.ref, .action = "machine.register", .detail = d },
			   now);
	json_decref(d);
	return rc;
}

/* Which staging server it replicates to, in the registration's
 * transaction so that registrations at once are placed one after another. */
static int place_machine(struct db *db, const char *machine_id, int64_t now,
			 struct placement *out)
{
	struct machine_ref mr;
	int rc = machine_lookup(db, machine_id, &mr);

	return rc ? rc : placement_assign(db, mr.ref, now, out);
}

int register_commit(struct request *rq, const char *token, const char *user,
		    const struct account *acct,
		    const char *agent_secret, struct machine_reg *m, struct reg_outcome *out,
		    struct reply *rp)
{
	struct db *db = rq->db;
	int64_t now = console_now(), existing = 0;
	struct token t = { .id = 0 };
	int rc;

	rc = db_begin(db);
	if (rc)
		return reply_internal(rp, rc);
	if (token) {
		if ((rc = check_token(db, token, now, &t, rp)))
			goto fail;
		/* the machine id was derived from this account's name: a
		 * token never changes account, but say so if it ever did */
		if (t.account_id != acct->id) {
			rc = reply_internal(rp, -ESTALE);
			goto fail;
		}
	}
	m->account_id = acct->id;
	/* Read the account inside the transaction: its license total is
	 * what an admin's set-licenses last committed. */
	rc = account_by_id(db, m->account_id, &out->acct);
	if (rc) {
		reply_internal(rp, rc);
		goto fail;
	}
	if ((rc = decide(db, m, agent_secret, &existing, out, rp)))
		goto fail;
	rc = machine_save(db, m, existing, now);
	/* a finalized machine installed again starts a new migration */
	if (!rc && existing)
		rc = lifecycle_registered(db, existing);
	if (!rc && existing)
		rc = machine_event(db, existing, MACHINE_STATE_REGISTERED,
				   out->reused ? "re-registered by the same machine: new key and "
						 "certificate"
					       : "registered again after deregistration: new key "
						 "and certificate", now);
	if (!rc)
		rc = place_machine(db, m->machine_id, now, &out->placed);
	if (!rc && token)
		rc = token_count_use(db, t.id);
	if (!rc)
		rc = audit_register(rq, m, token, t.id, user, out, now);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		reply_internal(rp, rc);
		goto fail;
	}
	log_info("registered machine %s for account %s (%s license, %lld of %lld in use)%s%s",
		 m->machine_id, out->acct.name, out->reused ? "same" : "new",
		 (long long)out->in_use, (long long)out->acct.licenses,
		 out->placed.ref ? ", placed on staging server " : "", out->placed.server);
	return 0;
fail:
	db_rollback(db);
	return rc < 0 ? rc : -EPERM;
}
