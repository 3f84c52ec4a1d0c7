/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which connection owns each machine's volumes. A new connection for a
 * machine takes over from an old one (the agent reconnected after a reset the
 * old socket has not noticed yet); the old one must stop writing at once.
 *
 * Lock rule: everything that changes a machine's store (image writes,
 * manifest, checkpoint) runs under machine_lock() and first checks
 * machine_owned_by(); so the writes of an old and a new connection never
 * interleave. Image syncs and reads need no lock. A machine lock is never
 * taken while the registry's lock is held.
 */
#ifndef LIVEMIG_STAGING_MACHINES_H
#define LIVEMIG_STAGING_MACHINES_H

#include <stdint.h>

struct machine;

/* Find or create the entry for name (a valid machine name) and take a
 * reference. NULL only when out of memory. */
struct machine *machine_get(const char *name);
void machine_put(struct machine *m);

void machine_lock(struct machine *m);
void machine_unlock(struct machine *m);

/* Under the lock: make the caller the owner and return its ownership token;
 * *replaced tells whether another connection owned it. The previous owner's
 * wake_fd (an eventfd) is signalled so it notices without waiting for its
 * next frame. */
uint64_t machine_take_over(struct machine *m, int wake_fd, int *replaced);
/* Under the lock: whether token is still the owner's. */
int machine_owned_by(const struct machine *m, uint64_t token);
/* Under the lock: the owner leaves (no-op if it was already superseded). */
void machine_leave(struct machine *m, uint64_t token);

/* Takes the lock itself: whether token still owns m. */
int machine_still_owner(struct machine *m, uint64_t token);

#endif
