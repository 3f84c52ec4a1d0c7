// SPDX-License-Identifier: GPL-2.0-or-later
/* The status document served on the control socket and sent with each
 * heartbeat (schema in docs/control.md). */
#include "engine.h"

#include <math.h>
#include <string.h>

#include "util.h"


#define BACKLOG_LEVEL  (64ull << 20) /* more changed data than this waiting: BACKLOG */

static const char *state_name(enum repl_state s)
{
	static const char *const names[] = {
		[ST_NOT_READY] = "NOT_READY", [ST_REGISTERED] = "REGISTERED",
		[ST_INITIAL_MIRROR] = "INITIAL_MIRROR", [ST_CHANGE_COPY] = "CHANGE_COPY",
		[ST_BACKLOG] = "BACKLOG", [ST_RESCAN] = "RESCAN", [ST_PAUSED] = "PAUSED",
		[ST_STALLED] = "STALLED", [ST_DISCONNECTED] = "DISCONNECTED",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "NOT_READY";
}

static json_t *num_or_null(double v, int known)
{
	return known && isfinite(v) ? json_real(v) : json_null();
}

static enum repl_state disk_state(struct engine *e, struct engine_disk *d)
{
	enum repl_state st = (enum repl_state)atomic_load(&d->state);

	if (e->not_ready[0]) /* held: nothing else matters until a reinstall */
		return ST_NOT_READY;
	if (atomic_load(&e->paused))
		return ST_PAUSED;
	if (e->stalled)
		return ST_STALLED;
	if (st == ST_CHANGE_COPY && atomic_load(&d->backlog) > BACKLOG_LEVEL)
		return ST_BACKLOG;
	return st;
}

/* The machine shows its least advanced disk. */
static enum repl_state machine_state(const enum repl_state *ds, unsigned n)
{
	static const enum repl_state order[] = {
		ST_PAUSED, ST_STALLED, ST_DISCONNECTED, ST_NOT_READY, ST_REGISTERED,
		ST_INITIAL_MIRROR, ST_RESCAN, ST_BACKLOG, ST_CHANGE_COPY,
	};

	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (unsigned i = 0; i < n; i++)
			if (ds[i] == order[k])
				return order[k];
	return ST_NOT_READY;
}

static json_t *disk_json(struct engine *e, struct engine_disk *d, enum repl_state st)
{
	json_t *o = json_object();
	uint64_t size = d->src.size, backlog = atomic_load(&d->backlog), done;
	double remaining;

	if (atomic_load(&d->in_pass)) {
		done = atomic_load(&d->pass_pos);
		remaining = (double)(size - done);
	} else if (atomic_load(&d->state) == ST_CHANGE_COPY) {
		done = backlog < size ? size - backlog : 0;
		remaining = (double)backlog;
	} else {
		done = d->mirror_watermark;
		remaining = (double)(size - done);
	}
	json_object_set_new(o, "name", json_string(d->cfg->name));
	json_object_set_new(o, "path", json_string(d->cfg->path));
	json_object_set_new(o, "size", json_integer((json_int_t)size));
	json_object_set_new(o, "state", json_string(state_name(st)));
	json_object_set_new(o, "bytes_done", json_integer((json_int_t)done));
	json_object_set_new(o, "bytes_total", json_integer((json_int_t)size));
	json_object_set_new(o, "percent", json_real(size ? 100.0 * (double)done / (double)size : 0));
	json_object_set_new(o, "backlog_bytes", json_integer((json_int_t)backlog));
	json_object_set_new(o, "throughput_bps", json_real(d->rate));
	json_object_set_new(o, "eta_seconds", num_or_null(remaining / d->rate,
							   d->rate > 1 && st != ST_PAUSED));
	(void)e;
	return o;
}

json_t *status_json(struct engine *e)
{
	json_t *root = json_object(), *disks = json_array(), *staging = json_object();
	enum repl_state ds[FRAME_MAX_DISKS], ms;
	char addr[300];
	double lag = 0;
	int lag_known;

	pthread_mutex_lock(&e->mu);
	for (unsigned i = 0; i < e->ndisks; i++) {
		ds[i] = disk_state(e, &e->disks[i]);
		json_array_append_new(disks, disk_json(e, &e->disks[i], ds[i]));
	}
	lag_known = e->in_change_copy && e->last_complete_round_start_ns;
	if (lag_known)
		lag = (double)(now_real_ns() - e->last_complete_round_start_ns) / 1e9;
	snprintf(addr, sizeof(addr), "%s:%s", e->stg_host, e->stg_port);
	json_object_set_new(staging, "address", json_string(addr));
	json_object_set_new(staging, "connected", json_boolean(e->connected));
	json_object_set_new(staging, "last_error", json_string(e->last_error));

	json_object_set_new(root, "version", json_string(LIVEMIG_VERSION));
	json_object_set_new(root, "machine", json_string(e->cfg->machine));
	ms = machine_state(ds, e->ndisks);
	json_object_set_new(root, "state", json_string(state_name(ms)));
	json_object_set_new(root, "reason", json_string(e->not_ready[0] ? e->not_ready :
						       e->stalled ? e->last_error :
						       ms == ST_RESCAN ? e->rescan_reason : ""));
	json_object_set_new(root, "tracker", json_string(e->tracker->name));
	json_object_set_new(root, "tracker_reason", json_string(e->tracker_reason));
	/* an operator's pause; a hold pauses the reader too but is not one */
	json_object_set_new(root, "paused", json_boolean(atomic_load(&e->paused) && !e->not_ready[0]));
	json_object_set_new(root, "staging", staging);
	json_object_set_new(root, "throughput_bps", json_real(e->rate));
	json_object_set_new(root, "wire_bps", json_real(e->wire_rate));
	json_object_set_new(root, "sent_bytes", json_integer((json_int_t)atomic_load(&e->acked_bytes)));
	json_object_set_new(root, "wire_bytes", json_integer((json_int_t)atomic_load(&e->wire_bytes)));
	json_object_set_new(root, "rounds", json_integer((json_int_t)e->rounds));
	json_object_set_new(root, "last_consistent_ns", json_integer((json_int_t)e->last_consistent_ns));
	json_object_set_new(root, "lag_seconds", num_or_null(lag, lag_known));
	json_object_set_new(root, "disks", disks);
	pthread_mutex_unlock(&e->mu);
	json_object_set_new(root, "points", point_status_json(e));
	return root;
}
