/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recovery points made while the workload runs (kmod tracker only): every
 * point_interval, or when `livemig point` asks, between change-copy rounds,
 * the agent freezes the file systems on the replicated disks (freeze.c,
 * owned by the kernel module), SNAPSHOTs the tracker and reads the frozen
 * generation's blocks into memory, thaws, then sends them; once staging made
 * them durable it sends a MARK (origin periodic or requested, consistency
 * filesystem or application) and staging answers with the point's id
 * (POINT). docs/recovery-points-agent.md.
 */
#ifndef LIVEMIG_POINT_H
#define LIVEMIG_POINT_H

#include <stdint.h>

#include <jansson.h>

struct engine;

/* Under engine.mu. */
struct point_state {
	uint64_t requests;        /* `livemig point` calls */
	uint64_t served;          /* requests the last point made covers */
	uint64_t next_due_ns;     /* monotonic: next periodic point */
	uint64_t retry_at_ns;     /* monotonic: no attempt before (after a put-off) */
	uint64_t made, put_off;
	char put_off_why[320];    /* why the last attempt was put off; "" after a point */
	uint64_t last_id;         /* staging's id for the last point, 0 if none */
	uint64_t last_ns;         /* its time: when the file systems were frozen */
	int last_origin, last_consistency;
	char last_note[320];      /* why it is crash-consistent, when it is */
	uint64_t last_freeze_ns, max_freeze_ns;
	unsigned last_fs;         /* file systems frozen for the last point */
	/* POINT frames (acker thread) */
	uint64_t wait_seq;        /* the MARK whose POINT is awaited */
	uint64_t got_seq, got_id; /* the last POINT frame */
	uint64_t freeze_samples;  /* how many freezes ended well */
};

/* Replicate thread, between change-copy rounds (nothing in flight): make a
 * point if one is due or asked for. 0, or -ECANCELED / -ESTALE from the
 * pipeline; anything else is a put-off, shown in the status and retried. */
int point_maybe(struct engine *e);
/* True when a requested point is waiting (ends the wait between rounds). */
int point_asked_locked(const struct engine *e);
/* Acker: staging made the point of MARK mark_seq durable as point_id. */
void point_received(struct engine *e, uint64_t mark_seq, uint64_t point_id);
/* Control handler: ask for a point now and wait until it is durable. */
int engine_point(struct engine *e, uint64_t *point_id, uint64_t *point_ns, char *err,
		 size_t errlen);
/* The status document's "points" object. */
json_t *point_status_json(struct engine *e);

#endif
