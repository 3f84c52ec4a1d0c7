/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The identity check at start (docs/agent-console.md): is this still the
 * machine that was registered ([console] identity)? The seed: if the MAC
 * changed after installation, the agent must be reinstalled.
 */
#ifndef LIVEMIG_IDENTITY_CHECK_H
#define LIVEMIG_IDENTITY_CHECK_H

#include <stddef.h>

#include <jansson.h>

#include "agent_config.h"

struct identity_report {
	char source[16];  /* as registered: "mac" or "metadata" */
	char value[128];
	char verdict[16]; /* "holds", "changed" or "unknown" (cannot tell now) */
	char detail[512]; /* identity_verify()'s words */
	char now[160];    /* for "changed": "mac:..." or "metadata:..." as the machine is now */
};

/*
 * Run identity_verify() for [console] identity (metadata_url from the same
 * section). 0 when it holds or cannot be told now (logged as a warning),
 * -ESTALE when it changed, with reason set to the NOT_READY reason. Any
 * other failure to look counts as "cannot tell".
 */
int identity_check_run(const struct console_config *cc, struct identity_report *r, char *reason,
		       size_t reasonlen);

/* {"source", "value", "check", "detail"[, "now"]} for status documents. */
json_t *identity_check_report_json(const struct identity_report *r);

#endif
