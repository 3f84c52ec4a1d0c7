// SPDX-License-Identifier: GPL-2.0-or-later
#include "machines.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "frame.h"

struct machine {
	struct machine *next;
	char name[FRAME_NAME_MAX + 1];
	unsigned refs;           /* under registry_mu */
	pthread_mutex_t mu;
	uint64_t owner;          /* token of the owning connection, 0 = none */
	int owner_wake_fd;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct machine *registry;
/* Tokens are unique across machines and never reused, so a stale token can
 * never match a later owner. */
static _Atomic uint64_t next_token = 1;

struct machine *machine_get(const char *name)
{
	struct machine *m;

	pthread_mutex_lock(&registry_mu);
	for (m = registry; m; m = m->next)
		if (!strcmp(m->name, name))
			break;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			goto out;
		strncpy(m->name, name, FRAME_NAME_MAX);
		pthread_mutex_init(&m->mu, NULL);
		m->owner_wake_fd = -1;
		m->next = registry;
		registry = m;
	}
	m->refs++;
out:
	pthread_mutex_unlock(&registry_mu);
	return m;
}

void machine_put(struct machine *m)
{
	struct machine **pp;

	if (!m)
		return;
	pthread_mutex_lock(&registry_mu);
	if (--m->refs) {
		pthread_mutex_unlock(&registry_mu);
		return;
	}
	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_mu);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void machine_lock(struct machine *m) { pthread_mutex_lock(&m->mu); }
void machine_unlock(struct machine *m) { pthread_mutex_unlock(&m->mu); }

uint64_t machine_take_over(struct machine *m, int wake_fd, int *replaced)
{
	uint64_t token;

	token = atomic_fetch_add(&next_token, 1);
	/* The old owner cannot close its eventfd before it has taken this lock
	 * to leave, so the descriptor is still its own here. */
	*replaced = m->owner != 0;
	if (m->owner && m->owner_wake_fd >= 0)
		eventfd_write(m->owner_wake_fd, 1);
	m->owner = token;
	m->owner_wake_fd = wake_fd;
	return token;
}

int machine_owned_by(const struct machine *m, uint64_t token)
{
	return token && m->owner == token;
}

void machine_leave(struct machine *m, uint64_t token)
{
	if (machine_owned_by(m, token)) {
		m->owner = 0;
		m->owner_wake_fd = -1;
	}
}

int machine_still_owner(struct machine *m, uint64_t token)
{
	int owned;

	pthread_mutex_lock(&m->mu);
	owned = machine_owned_by(m, token);
	pthread_mutex_unlock(&m->mu);
	return owned;
}
