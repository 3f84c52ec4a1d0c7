/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token bucket for the bandwidth limit: bursts stay short so the average
 * over any second is within a few percent of the limit. */
#ifndef LIVEMIG_RATELIMIT_H
#define LIVEMIG_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	uint64_t rate;     /* bytes per second, 0 = unlimited */
	double tokens;     /* may go negative: a debt paid by sleeping */
	double capacity;
	uint64_t last_ns;
};

void ratelimit_init(struct ratelimit *r, uint64_t rate);
/* Account for n bytes about to be sent; sleeps as long as the limit requires. */
void ratelimit_take(struct ratelimit *r, uint64_t n);

#endif
