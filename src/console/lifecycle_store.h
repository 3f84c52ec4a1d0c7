/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's lifecycle row and the jobs every step makes (inside
 * lifecycle.c and lifecycle_steps.c only; everyone else goes through
 * lifecycle.h).
 */
#ifndef LIVEMIG_CONSOLE_LIFECYCLE_STORE_H
#define LIVEMIG_CONSOLE_LIFECYCLE_STORE_H

#include <stdint.h>

#include "db.h"
#include "lifecycle.h"

#define LC_BY_MAX 200

struct lc_row {
	int64_t machine_ref;
	char machine_id[64];
	int registered;
	enum lc_state state;
	int64_t since;
	/* the launched instance: none when name is "" */
	char inst_name[128];
	char inst_purpose[16];
	int64_t inst_point;
	int64_t inst_staging;
	int64_t inst_job;
	char inst_state[16];
	char inst_address[256];
	/* the pending cutover: none when cut_at is 0 */
	int64_t cut_at;
	char cut_by[LC_BY_MAX];
	int64_t cut_job;
	char cut_agent[16];
	int64_t fin_at;
	char fin_by[LC_BY_MAX];
};

/* The row (defaults when the machine never left READY_FOR_TEST): -ENOENT
 * for no such machine. */
int lc_load(struct db *db, int64_t machine_ref, struct lc_row *r);
int lc_save(struct db *db, const struct lc_row *r);
void lc_facts_of(const struct lc_row *r, struct lc_facts *f);
void lc_move(struct lc_row *r, enum lc_state to, int64_t now);
void lc_instance_clear(struct lc_row *r);

/* A recovery point of the machine: staging_ref, point id, time. want: a
 * point id (0: any); after_ns: its time, on the agent's clock, at or after
 * (0: any); newest or oldest first. -ENOENT when none. */
struct lc_point {
	int64_t staging_ref;
	int64_t id;
	int64_t time_ns;
	char staging[64];
};
int lc_point_find(struct db *db, int64_t machine_ref, int64_t want, int64_t after_ns, int newest,
		  struct lc_point *p);

/* Queue a launch of point p for purpose on p's staging server; the
 * instance (launching) goes into r. */
int lc_launch(struct db *db, struct lc_row *r, const char *purpose, const struct lc_point *p,
	      const struct lc_size *size, const char *owner, int64_t now, int64_t *job);
/* Queue the destroy of instance name (of point, on staging_ref). */
int lc_destroy(struct db *db, int64_t machine_ref, int64_t staging_ref, const char *name,
	       int64_t point, const char *owner, int64_t now, int64_t *job);
/* r's instance is destroyed: state destroying until the job ends; *job 0
 * when r has none. */
int lc_destroy_instance(struct db *db, struct lc_row *r, const char *owner, int64_t now,
			int64_t *job);

#endif
