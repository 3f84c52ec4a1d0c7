// SPDX-License-Identifier: GPL-2.0-or-later
/* The ticker thread: samples acknowledged and sent bytes twice a second into
 * the smoothed rates the status document shows. */
#include "engine.h"

#include "util.h"

#define TICK_NS 500000000ull

/* Exponentially weighted rate with a ~5 s memory: steady enough for an ETA,
 * quick enough to show a pause. */
static double ewma(double old, double sample)
{
	const double alpha = 0.1;

	return old + alpha * (sample - old);
}

void *ticker_main(void *arg)
{
	struct engine *e = arg;
	uint64_t last_total = atomic_load(&e->acked_bytes), last_ns = now_mono_ns();
	uint64_t last_wire = atomic_load(&e->wire_bytes);
	uint64_t last_disk[FRAME_MAX_DISKS];

	for (unsigned i = 0; i < e->ndisks; i++)
		last_disk[i] = atomic_load(&e->disks[i].sent_bytes);
	while (!atomic_load(&e->stop)) {
		uint64_t now, total, wire;
		double dt;

		sleep_ns(TICK_NS);
		now = now_mono_ns();
		dt = (double)(now - last_ns) / 1e9;
		total = atomic_load(&e->acked_bytes);
		wire = atomic_load(&e->wire_bytes);
		pthread_mutex_lock(&e->mu);
		e->rate = ewma(e->rate, (double)(total - last_total) / dt);
		e->wire_rate = ewma(e->wire_rate, (double)(wire - last_wire) / dt);
		/* the smoothed rate falls while little is sent; the link can still
		 * do what it once did (refine.c weighs bytes against round trips,
		 * worker.c deflating's gain against it: compress_choice.c) */
		if ((double)(wire - last_wire) / dt > e->wire_peak)
			e->wire_peak = (double)(wire - last_wire) / dt;
		for (unsigned i = 0; i < e->ndisks; i++) {
			uint64_t b = atomic_load(&e->disks[i].sent_bytes);
			struct engine_disk *d = &e->disks[i];

			/* a mirror pass also moves over zero and unchanged blocks: count position */
			if (atomic_load(&d->in_pass))
				b = atomic_load(&d->pass_pos);
			d->rate = ewma(d->rate, b >= last_disk[i] ? (double)(b - last_disk[i]) / dt : 0);
			last_disk[i] = b;
		}
		pthread_mutex_unlock(&e->mu);
		last_total = total;
		last_wire = wire;
		last_ns = now;
	}
	return NULL;
}
