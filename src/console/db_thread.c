// SPDX-License-Identifier: GPL-2.0-or-later
/* The request connection of an HTTP thread (db.h, db_open_request). */
#include <pthread.h>

#include "db_engine.h"

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static int kept_ok;

/* the thread's kept connection goes with the thread */
static void kept_free(void *db)
{
	db_close(db);
}

static void kept_init(void)
{
	kept_ok = !pthread_key_create(&kept_key, kept_free);
}

static int version_current(struct db *db)
{
	int v = -1;

	return !db_version_get(db, &v) && v == db_schema_version;
}

int db_open_request(const char *target, struct db **out, char *err, size_t errlen)
{
	struct db *db;
	int rc;

	pthread_once(&kept_once, kept_init);
	db = kept_ok ? pthread_getspecific(kept_key) : NULL;
	if (db) {
		/* the server may have restarted, or a newer program migrated
		 * the schema: then a connection of today */
		if (version_current(db)) {
			*out = db;
			return 0;
		}
		pthread_setspecific(kept_key, NULL);
		db_close(db);
	}
	rc = db_open_ready(target, &db, err, errlen);
	if (rc)
		return rc;
	/* kept when it can be (db_release closes what is not) */
	if (kept_ok && db->ops->kept_per_thread)
		pthread_setspecific(kept_key, db);
	*out = db;
	return 0;
}

void db_release(struct db *db)
{
	if (!db)
		return;
	/* A handler that returned with a transaction open has a bug; do not
	 * let it commit by accident when the connection closes or serves
	 * the next request. */
	db_rollback(db);
	pthread_once(&kept_once, kept_init);
	if (!kept_ok || pthread_getspecific(kept_key) != db)
		db_close(db);
}
