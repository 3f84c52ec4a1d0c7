// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The schema and its migrations. PRAGMA user_version holds the number of
 * migrations applied; migration i takes the schema from version i to i+1.
 * Never edit a migration that has shipped: append a new one.
 *
 * One schema and one history for both engines: the SQL is kept to what
 * SQLite and PostgreSQL both accept (integer keys, BIGINT unix-second
 * timestamps, TEXT for JSON documents, NULL meaning "none": no expiry, no
 * use limit, not revoked, not deregistered). The few words that differ
 * (INTEGER PRIMARY KEY, 64-bit INTEGER) are translated by the PostgreSQL
 * engine as it applies a migration (db_pg.c); where the version is kept is
 * the engine's business too (docs/console-database.md).
 */
#include "db.h"
#include "db_engine.h"

#include <errno.h>
#include <stdio.h>

static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  licenses INTEGER NOT NULL DEFAULT 0 CHECK (licenses >= 0),"
	"  created_at BIGINT NOT NULL"
	");"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts (id),"
	"  name TEXT NOT NULL,"
	"  pw_algo TEXT NOT NULL,"           /* 'pbkdf2-sha256' */
	"  pw_iterations INTEGER NOT NULL,"
	"  pw_salt TEXT NOT NULL,"           /* hex */
	"  pw_hash TEXT NOT NULL,"           /* hex; never the password */
	"  created_at BIGINT NOT NULL,"
	"  UNIQUE (account_id, name)"
	");"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts (id),"
	"  secret_hash TEXT NOT NULL UNIQUE," /* SHA-256 hex of the secret; never the secret */
	"  label TEXT NOT NULL DEFAULT '',"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT,"
	"  max_uses INTEGER,"
	"  uses INTEGER NOT NULL DEFAULT 0,"
	"  revoked_at BIGINT"
	");"
	"CREATE INDEX tokens_account ON tokens (account_id);"
	/* machine_id is unique across accounts, not only within one: it is the
	 * agent certificate's CN, which names the machine's volumes on staging. */
	"CREATE TABLE machines ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts (id),"
	"  machine_id TEXT NOT NULL UNIQUE,"
	"  identity_source TEXT NOT NULL,"
	"  identity_value TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  inventory TEXT NOT NULL,"
	"  cert_serial TEXT NOT NULL,"
	"  cert_fingerprint TEXT NOT NULL,"   /* SHA-256 of the certificate (DER), hex */
	"  agent_secret_hash TEXT UNIQUE,"    /* SHA-256 hex of the agent's bearer secret */
	"  registered_at BIGINT NOT NULL,"
	"  last_seen BIGINT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  deregistered_at BIGINT"            /* NULL: holds a license */
	");"
	"CREATE INDEX machines_account ON machines (account_id);"
	"CREATE TABLE status ("
	"  machine_ref INTEGER PRIMARY KEY REFERENCES machines (id),"
	"  received_at BIGINT NOT NULL,"
	"  doc TEXT NOT NULL"
	");"
	"CREATE TABLE status_history ("
	"  id INTEGER PRIMARY KEY,"
	"  machine_ref INTEGER NOT NULL REFERENCES machines (id),"
	"  received_at BIGINT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  doc TEXT NOT NULL"
	");"
	"CREATE INDEX status_history_machine ON status_history (machine_ref, id);",
	/* 1 -> 2: the web page's sign-in sessions, and the replication state
	 * an operator asked for in the page (handed to the agent with the
	 * heartbeat's answer) */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  secret_hash TEXT NOT NULL UNIQUE," /* SHA-256 hex of the cookie; never the cookie */
	"  account_id INTEGER NOT NULL REFERENCES accounts (id),"
	"  user_name TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL"
	");"
	"CREATE INDEX sessions_expiry ON sessions (expires_at);"
	"ALTER TABLE machines ADD COLUMN replication_request TEXT;" /* 'paused', 'running' or NULL */
	"ALTER TABLE machines ADD COLUMN replication_requested_at BIGINT;"
	"ALTER TABLE machines ADD COLUMN replication_requested_by TEXT;",
	/* 2 -> 3: staging servers (docs/staging-console.md): their
	 * credentials, which machines each stores, the recovery points they
	 * report, and the jobs the console hands them */
	"CREATE TABLE staging_servers ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  secret_hash TEXT NOT NULL UNIQUE," /* SHA-256 hex of its bearer secret */
	"  created_at BIGINT NOT NULL,"
	"  last_sync_at BIGINT,"
	"  version TEXT,"
	"  free_bytes BIGINT,"
	"  total_bytes BIGINT,"
	"  removed_at BIGINT"                 /* NULL: may sync */
	");"
	"CREATE TABLE staging_machines ("
	"  staging_ref INTEGER NOT NULL REFERENCES staging_servers (id),"
	"  machine_ref INTEGER NOT NULL REFERENCES machines (id),"
	"  reported_at BIGINT NOT NULL,"
	"  points_digest TEXT,"               /* staging's SHA-256 of the list stored */
	"  PRIMARY KEY (staging_ref, machine_ref)"
	");"
	"CREATE INDEX staging_machines_machine ON staging_machines (machine_ref);"
	"CREATE TABLE recovery_points ("
	"  id INTEGER PRIMARY KEY,"
	"  staging_ref INTEGER NOT NULL REFERENCES staging_servers (id),"
	"  machine_ref INTEGER NOT NULL REFERENCES machines (id),"
	"  point_id BIGINT NOT NULL,"
	"  time_ns BIGINT NOT NULL,"
	"  doc TEXT NOT NULL,"                /* the point as staging describes it (JSON) */
	"  UNIQUE (staging_ref, machine_ref, point_id)"
	");"
	"CREATE INDEX recovery_points_machine ON recovery_points (machine_ref, time_ns);"
	"CREATE TABLE staging_jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  machine_ref INTEGER NOT NULL REFERENCES machines (id),"
	"  staging_ref INTEGER REFERENCES staging_servers (id)," /* NULL until delivered */
	"  kind TEXT NOT NULL,"
	"  params TEXT NOT NULL,"             /* JSON object */
	"  owner TEXT NOT NULL,"              /* USER@ACCOUNT who asked */
	"  state TEXT NOT NULL,"              /* queued delivered running succeeded failed */
	"  created_at BIGINT NOT NULL,"
	"  delivered_at BIGINT,"
	"  started_at BIGINT,"
	"  ended_at BIGINT,"
	"  result TEXT,"                      /* JSON, when succeeded */
	"  error TEXT"                        /* one line, when failed */
	");"
	"CREATE INDEX staging_jobs_machine ON staging_jobs (machine_ref, id);"
	"CREATE INDEX staging_jobs_state ON staging_jobs (state, staging_ref);"
	"CREATE TABLE staging_job_log ("
	"  job_ref INTEGER NOT NULL REFERENCES staging_jobs (id),"
	"  seq INTEGER NOT NULL,"             /* staging's line number, from 1 */
	"  at BIGINT NOT NULL,"
	"  line TEXT NOT NULL,"
	"  PRIMARY KEY (job_ref, seq)"
	");",
	/* 3 -> 4: the launch lifecycle (docs/launch.md, "Lifecycle"): users'
	 * roles (those made before roles existed could do everything, and keep
	 * it), each machine's lifecycle state with its launched instance and
	 * its pending cutover, and jobs the console runs itself (the cutover
	 * point's wait), which are never delivered to staging */
	"ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';" /* admin operator viewer */
	"CREATE TABLE machine_lifecycle ("
	"  machine_ref INTEGER PRIMARY KEY REFERENCES machines (id),"
	"  state TEXT NOT NULL,"              /* READY_FOR_TEST ... FINALIZED; no row: READY_FOR_TEST */
	"  since BIGINT NOT NULL,"
	"  instance_name TEXT,"               /* NULL: no launched instance */
	"  instance_purpose TEXT,"            /* test cutover */
	"  instance_point BIGINT,"            /* staging's point id */
	"  instance_staging_ref INTEGER REFERENCES staging_servers (id),"
	"  instance_job BIGINT,"              /* the launch job */
	"  instance_state TEXT,"              /* launching up exported destroying */
	"  instance_address TEXT,"
	"  cutover_requested_at BIGINT,"      /* NULL: no cutover pending */
	"  cutover_requested_by TEXT,"
	"  cutover_job BIGINT,"               /* the console's wait for the cutover point */
	"  cutover_agent_state TEXT,"         /* the agent's last reported step, logged once each */
	"  finalized_at BIGINT,"
	"  finalized_by TEXT"
	");"
	"ALTER TABLE staging_jobs ADD COLUMN console_side INTEGER NOT NULL DEFAULT 0;",
	/* 4 -> 5: the audit log (audit.h): who did what, when, from where */
	"CREATE TABLE audit_log ("
	"  id INTEGER PRIMARY KEY,"
	"  at BIGINT NOT NULL,"
	"  account_id INTEGER REFERENCES accounts (id),"  /* NULL: console-wide (staging) */
	"  machine_ref INTEGER REFERENCES machines (id)," /* NULL: not about one machine */
	"  actor TEXT NOT NULL,"              /* alice@acme, livemig-console admin (root), agent ID */
	"  actor_role TEXT,"                  /* the user's role then; NULL for non-users */
	"  source TEXT NOT NULL,"             /* the client's address, or 'local' */
	"  action TEXT NOT NULL,"             /* token.create, machine.remove, ... */
	"  target TEXT,"                      /* e.g. 'token 4'; NULL: the machine, if any */
	"  detail TEXT NOT NULL"              /* JSON object */
	");"
	"CREATE INDEX audit_log_account ON audit_log (account_id, id);"
	"CREATE INDEX audit_log_machine ON audit_log (machine_ref, id);"
	"CREATE INDEX audit_log_at ON audit_log (at);",
	/* 5 -> 6: the brakes on password guessing and on heartbeat floods,
	 * shared by every console instance (login_limit.h, hb_limit.h) */
	"CREATE TABLE login_failures ("
	"  key TEXT PRIMARY KEY,"             /* u:USER@ACCOUNT or a:ADDRESS */
	"  failures BIGINT NOT NULL,"
	"  last_failure_ms BIGINT NOT NULL"   /* wall clock */
	");"
	"CREATE INDEX login_failures_last ON login_failures (last_failure_ms);"
	"CREATE TABLE hb_buckets ("
	"  machine_ref BIGINT PRIMARY KEY,"   /* machines.id; no reference: a removed
					       * machine's row is harmless */
	"  tokens_ms BIGINT NOT NULL,"        /* HB_REFILL_MS per heartbeat */
	"  last_ms BIGINT NOT NULL,"          /* wall clock */
	"  taken BIGINT NOT NULL"             /* the last heartbeat passed: 1 */
	");",
	/* 6 -> 7: jobs claimed under a lease, so that several console
	 * instances hand each out once and a dead server's are taken over
	 * (jobs.h, docs/console-database.md) */
	"ALTER TABLE staging_jobs ADD COLUMN lease_until BIGINT;"  /* NULL: not delivered yet */
	"ALTER TABLE staging_jobs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;" /* deliveries */
	"ALTER TABLE staging_jobs ADD COLUMN pinned BIGINT NOT NULL DEFAULT 0;" /* 1: only staging_ref */
	"UPDATE staging_jobs SET pinned = 1 WHERE kind IN ('launch', 'destroy');",
	/* 7 -> 8: several staging servers (docs/staging-placement.md): where
	 * agents reach each server, a drain, and the server each machine is
	 * placed on */
	"ALTER TABLE staging_servers ADD COLUMN advertise TEXT;"  /* HOST:PORT; NULL: never placed on */
	"ALTER TABLE staging_servers ADD COLUMN draining_at BIGINT;" /* NULL: takes placements */
	"ALTER TABLE staging_servers ADD COLUMN draining_by TEXT;"
	"ALTER TABLE machines ADD COLUMN staging_ref INTEGER REFERENCES staging_servers (id);"
	"ALTER TABLE machines ADD COLUMN staging_pinned BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE machines ADD COLUMN staging_placed_at BIGINT;"
	"ALTER TABLE machines ADD COLUMN staging_moved_from INTEGER REFERENCES staging_servers (id);"
	"CREATE INDEX machines_staging ON machines (staging_ref);",
};

const int db_schema_version = (int)(sizeof(migrations) / sizeof(migrations[0]));

int db_migrate(struct db *db, char *err, size_t errlen)
{
	int rc, version = 0;

	if (errlen)
		err[0] = '\0';
	rc = db->ops->migrate_prepare(db, err, errlen);
	if (rc)
		return rc;
	for (;;) {
		/* Read the version inside the write transaction: two programs
		 * starting together (serve and admin, or two console instances
		 * on one PostgreSQL database) must not both apply the same
		 * migration. */
		rc = db_begin(db);
		if (rc) {
			snprintf(err, errlen, "cannot lock the database to migrate it: %s",
				 db_errmsg(db));
			return rc;
		}
		rc = db_version_get(db, &version);
		if (rc)
			goto fail;
		if (version > db_schema_version) {
			snprintf(err, errlen,
				 "database schema version %d is newer than this program's (%d): "
				 "use the livemig-console that created it, or a newer one",
				 version, db_schema_version);
			rc = -EPROTO;
			goto fail;
		}
		if (version == db_schema_version)
			return db_commit(db);
		rc = db->ops->migrate_exec(db, migrations[version]);
		if (rc)
			goto fail;
		rc = db_version_set(db, version + 1);
		if (rc)
			goto fail;
		rc = db_commit(db);
		if (rc) {
			snprintf(err, errlen, "cannot commit migration %d: %s", version + 1,
				 db_errmsg(db));
			db_rollback(db);
			return rc;
		}
	}
fail:
	if (!err[0])
		snprintf(err, errlen, "migration to schema version %d failed: %s", version + 1,
			 db_errmsg(db));
	db_rollback(db);
	return rc;
}
