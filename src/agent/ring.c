// SPDX-License-Identifier: GPL-2.0-or-later
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int ring_init(struct ring *r, unsigned depth)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->depth = depth;
	r->slots = calloc(depth, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < depth; i++) {
		struct slot *s = &r->slots[i];

		/* pages are touched only when used, so small disks cost little */
		if (posix_memalign((void **)&s->raw, 4096, CHUNK_SIZE))
			return -ENOMEM;
		s->wire_cap = CHUNK_SIZE + BLOCKS_PER_CHUNK * (FRAME_DATA_PREFIX + 64) + 4096;
		s->wire = malloc(s->wire_cap);
		if (!s->wire)
			return -ENOMEM;
	}
	return 0;
}

void ring_free(struct ring *r)
{
	if (!r->slots)
		return;
	for (unsigned i = 0; i < r->depth; i++) {
		free(r->slots[i].raw);
		free(r->slots[i].wire);
	}
	free(r->slots);
	r->slots = NULL;
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->mu);
}
