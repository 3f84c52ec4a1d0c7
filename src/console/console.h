/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * livemig-console: what the running server knows, shared by its request
 * handlers. Filled once by `serve` before the HTTP daemon starts and never
 * written afterwards, so handler threads read it without locking.
 */
#ifndef LIVEMIG_CONSOLE_H
#define LIVEMIG_CONSOLE_H

#include <stdint.h>

struct agent_ca;
struct login_limiter;
struct hb_limiter;

struct console {
	const char *db_path;
	struct agent_ca *ca;        /* signs agent certificates */
	char *agent_ca_pem;         /* returned to agents for reference */
	char staging_addr[256];     /* HOST:PORT agents replicate to */
	char *staging_ca_pem;       /* CA that signed staging's cert; NULL if not given */
	char *console_ca_pem;       /* what installers trust for this server (web_ca.c) */
	unsigned heartbeat_interval_s;
	unsigned heartbeat_timeout_s; /* silent longer than this: DISCONNECTED */
	unsigned history_max;       /* status_history rows kept per machine */
	unsigned cutover_timeout_s; /* the wait for the agent's cutover point (lifecycle.h) */
	unsigned job_lease_s;       /* a delivered job's lease (jobs.h) */
	int64_t audit_keep;         /* audit records kept per account (audit.h) */
	int64_t audit_max_age_s;    /* and for at most this long */
	struct login_limiter *login_limiter; /* password guessing (login_limit.h) */
	struct hb_limiter *hb_limiter;       /* heartbeat floods (hb_limit.h) */
};

/* Unix time in seconds: every timestamp in the database and the API. */
int64_t console_now(void);

#endif
