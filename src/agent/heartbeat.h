/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Heartbeats to livemig-console (docs/agent-console.md): one thread posts
 * the status document every heartbeat_interval. The console being away
 * never touches replication; the console saying the machine was
 * deregistered (410) stops it.
 */
#ifndef LIVEMIG_HEARTBEAT_H
#define LIVEMIG_HEARTBEAT_H

#include <stddef.h>

#include <jansson.h>

#include "agent_config.h"
#include "engine.h"
#include "identity_check.h"

#define DEREGISTERED_REASON "deregistered in the console: reinstall to replicate again"
#define REMOVED_REASON      "removed by the console operator"
#define REINSTALL_REMEDY    "reinstall the agent to register again: livemig uninstall && livemig install"

/*
 * The NOT_READY reason for the console's 410 answer (its JSON body, may be
 * NULL): who removed the machine and when when an operator did (code
 * "removed"), else DEREGISTERED_REASON; always with the remedy.
 */
void heartbeat_gone_reason(const json_t *answer, char *out, size_t n);

struct heartbeat;

/*
 * Start the thread for cfg->console with the agent secret. id (may be
 * NULL: no identity configured) is copied. 0 with *out set, or -errno with
 * err set.
 */
int heartbeat_start(struct heartbeat **out, struct engine *e, const struct agent_config *cfg,
		    const char *secret, const struct identity_report *id, char *err, size_t errlen);
/*
 * Whether the console answered 410 "finalized" (the migration is over): the
 * heartbeat thread then stopped and sent the process SIGUSR1. 1 with the
 * line logged (who and when) in why, or 0.
 */
int heartbeat_finalized(struct heartbeat *hb, char *why, size_t n);

/* Stop the thread promptly (a request in progress is abandoned). */
void heartbeat_stop(struct heartbeat *hb);
/* After heartbeat_stop and engine_stop (which ends a cutover point in
 * progress), once nobody calls heartbeat_status_add. */
void heartbeat_free(struct heartbeat *hb);

/* Add "console" (url, connected, last_ok, last_error, ...) and "identity"
 * to a status document. */
void heartbeat_status_add(struct heartbeat *hb, json_t *doc);

/*
 * Whether the console said, while this same secret was in use, that the
 * machine was deregistered or removed (a mark kept in state_dir, so a
 * restart does not replicate while the console cannot be asked); the
 * reason it was given then goes to reason. A mark from an older secret
 * (the machine was reinstalled since) is removed. 1 or 0.
 */
int heartbeat_was_deregistered(const struct agent_config *cfg, const char *secret, char *reason,
			       size_t n);

#endif
