/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launch lifecycle of a machine (docs/launch.md, "Lifecycle"): the one
 * owner of its states and of what moves them.
 *
 *   READY_FOR_TEST -test-> TESTING -mark-ready-> READY_FOR_CUTOVER
 *   -cutover-> CUTTING_OVER -> CUTOVER -finalize-> FINALIZED
 *   revert: TESTING -> READY_FOR_TEST, CUTOVER -> READY_FOR_CUTOVER
 *
 * Every step is a job (jobs.h): `launch` and `destroy` run on the staging
 * server that holds the point; `cutover-point` is the console's own wait
 * for the agent's final point. A failed test launch goes back to
 * READY_FOR_TEST, a failed cutover to READY_FOR_CUTOVER; the failed job
 * stays listed with its reason. Everything is in the database, so a
 * console restart resumes where it was; every wait is bounded.
 *
 * lifecycle_rules.c holds the table and the agent report's parser (no
 * database: unit tested and fuzzed); lifecycle.c the actions and views;
 * lifecycle_steps.c what job ends, heartbeats and syncs move.
 */
#ifndef LIVEMIG_CONSOLE_LIFECYCLE_H
#define LIVEMIG_CONSOLE_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"

enum lc_state {
	LC_READY_FOR_TEST,
	LC_TESTING,
	LC_READY_FOR_CUTOVER,
	LC_CUTTING_OVER,
	LC_CUTOVER,
	LC_FINALIZED,
	LC_NSTATES
};

enum lc_action { LCA_TEST, LCA_MARK_READY, LCA_CUTOVER, LCA_REVERT, LCA_FINALIZE, LCA_NACTIONS };

/* The launched instance's state, as the lifecycle keeps it. */
#define INSTANCE_LAUNCHING  "launching"
#define INSTANCE_UP         "up"
#define INSTANCE_EXPORTED   "exported"
#define INSTANCE_DESTROYING "destroying"

#define CUTOVER_TIMEOUT_DEFAULT_S 3600
/* A launch or destroy job that no staging server ended this long after
 * its creation fails (its server is gone, or never stored the machine). */
#define LC_JOB_MAX_S (4 * 3600)

const char *lc_state_name(enum lc_state s);
int lc_state_parse(const char *name, enum lc_state *out); /* 0 or -EINVAL */
const char *lc_action_name(enum lc_action a);
int lc_action_parse(const char *name, enum lc_action *out); /* 0 or -EINVAL */

/* What the transition table looks at besides the state. */
struct lc_facts {
	enum lc_state state;
	int launching;    /* the instance's launch job has not ended */
	int instance_ok;  /* the instance is up (or exported) */
	int registered;   /* the machine holds a license (its agent runs) */
};

/* The state `a` leads to: 0 with *to, or -EPERM with why (the reason and
 * what is allowed from this state), for a 409. */
int lc_transition(const struct lc_facts *f, enum lc_action a, enum lc_state *to, char *why,
		  size_t whylen);
/* The actions allowed now, as a JSON array of names. */
json_t *lc_allowed_json(const struct lc_facts *f);

/* The agent's report of the cutover point in its status document
 * ("cutover", docs/control.md). */
struct cutover_report {
	int64_t requested_at;
	char state[16];       /* running done failed */
	int64_t consistent_ns;
	int64_t point_id;     /* 0: not known */
	char error[256];
};
/* 0 with *r, -ENOENT when doc has no "cutover", -EINVAL when it is not of
 * the documented shape (then the console ignores it). */
int cutover_report_parse(const json_t *doc, struct cutover_report *r);

/* A launch's size chosen by the operator (test and cutover); a member 0
 * takes the machine's inventory. */
struct lc_size {
	int64_t cpus;        /* LC_CPUS_MIN..LC_CPUS_MAX */
	int64_t memory_mib;  /* LC_MEMORY_MIB_MIN..LC_MEMORY_MIB_MAX */
};
#define LC_CPUS_MIN       1
#define LC_CPUS_MAX       64
#define LC_MEMORY_MIB_MIN 64
#define LC_MEMORY_MIB_MAX 1048576
/* Whether size's members are 0 or in their ranges (staging checks them too). */
int lc_size_valid(const struct lc_size *size);

/* An operator's action (in the caller's transaction). point: the test
 * launch's staging point id (0: the newest); size (NULL: the inventory's)
 * for test and cutover. 0 with *job (the step's job
 * id), or -EPERM / -ENOENT with why for a 409. */
int lifecycle_act(struct db *db, int64_t machine_ref, enum lc_action a, int64_t point,
		  const struct lc_size *size, const char *by, int64_t now, int64_t *job, char *why,
		  size_t whylen);
/* The audit record of an action lifecycle_act just took (lifecycle_audit.c):
 * lifecycle.ACTION with the states before (from) and after, the job, the
 * point and size asked for. out->detail is a new reference for the caller. */
struct lifecycle_audit {
	int64_t account_id;
	int64_t machine_ref;
	enum lc_action action;
	const char *from;
	int64_t point;
	const struct lc_size *size;
	int64_t job;
};
int lifecycle_audit_record(struct db *db, const struct lifecycle_audit *in, struct audit_rec *out);
/* {"state","since","instance","cutover","finalized","allowed","jobs"} */
int lifecycle_json(struct db *db, int64_t machine_ref, unsigned jobs, json_t **out);
/* The machine's state name into state (at least 24 bytes). */
int lifecycle_state(struct db *db, int64_t machine_ref, char *state, size_t n);

/* A lifecycle job ended (jobs.c calls it once per end). */
int lifecycle_job_ended(struct db *db, int64_t job, int64_t now);
/* Bounded waits: the cutover point found, or its wait timed out; launch
 * and destroy jobs past LC_JOB_MAX_S failed. machine_ref 0: every machine. */
int lifecycle_tick(struct db *db, int64_t machine_ref, int64_t now, unsigned cutover_timeout_s);
/* Whether a heartbeat of the machine at now may have lifecycle work
 * (lifecycle_agent_report or lifecycle_tick write): 1 while it is
 * CUTTING_OVER or has a launch or destroy job past LC_JOB_MAX_S, else 0;
 * or -errno. The heartbeat takes the writers' lock for that work only
 * (hb_store.h). */
int lifecycle_heartbeat_due(struct db *db, int64_t machine_ref, int64_t now);
/* The agent's status document: its cutover report goes into the wait's log. */
int lifecycle_agent_report(struct db *db, int64_t machine_ref, const json_t *doc, int64_t now);
/* {"requested_at","requested_by"} while the console waits for the agent's
 * cutover point, else NULL. */
int lifecycle_cutover_request(struct db *db, int64_t machine_ref, json_t **out);
/* The machine registered again: a FINALIZED lifecycle starts over at
 * READY_FOR_TEST (a new migration); any other state is kept. */
int lifecycle_registered(struct db *db, int64_t machine_ref);
/* Who finalized the machine and when: -ENOENT when it is not finalized. */
int lifecycle_finalized(struct db *db, int64_t machine_ref, char *by, size_t n, int64_t *at);

#endif
