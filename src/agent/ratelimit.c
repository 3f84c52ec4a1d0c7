// SPDX-License-Identifier: GPL-2.0-or-later
#include "ratelimit.h"

#include "util.h"

void ratelimit_init(struct ratelimit *r, uint64_t rate)
{
	r->rate = rate;
	/* a tenth of a second of credit, at least one frame's worth */
	r->capacity = rate / 10.0 < 65536 ? 65536 : rate / 10.0;
	r->tokens = 0;
	r->last_ns = now_mono_ns();
}

void ratelimit_take(struct ratelimit *r, uint64_t n)
{
	uint64_t now;

	if (!r->rate)
		return;
	now = now_mono_ns();
	r->tokens += (double)(now - r->last_ns) * 1e-9 * (double)r->rate;
	if (r->tokens > r->capacity)
		r->tokens = r->capacity;
	r->last_ns = now;
	r->tokens -= (double)n;
	if (r->tokens < 0)
		sleep_ns((uint64_t)(-r->tokens / (double)r->rate * 1e9));
}
