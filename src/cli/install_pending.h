/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A deregistration the console could not take when the machine was
 * uninstalled: kept in STATE_DIR/pending-deregistration.json (0600, with the
 * agent secret it needs) and a copy of the console's CA beside it, until a
 * later `livemig uninstall` (or install) delivers it and the license is free.
 */
#ifndef LIVEMIG_INSTALL_PENDING_H
#define LIVEMIG_INSTALL_PENDING_H

#include <stddef.h>

#define PENDING_FILE "pending-deregistration.json"
#define PENDING_CA_FILE "pending-console-ca.pem"

struct pending {
	const char *machine_id;
	const char *console_url;
	const char *console_ca; /* path of the CA to copy */
	const char *secret;
	const char *proxy;      /* or NULL */
};

/* Write the queue entry (replacing an older one). 0 or -errno with err set. */
int pending_queue(const char *state_dir, const struct pending *p, char *err, size_t errlen);

/*
 * Deliver a queued deregistration. 0 when the console took it (or no longer
 * knows the secret: a newer registration replaced it) and the entry is
 * gone, with what happened in msg; -ENOENT when nothing is queued;
 * otherwise -errno as console_call() with the entry kept and the reason in
 * msg.
 */
int pending_send(const char *state_dir, unsigned retries, char *msg, size_t msglen);

/* 1 if a deregistration is queued in state_dir. */
int pending_exists(const char *state_dir);

#endif
