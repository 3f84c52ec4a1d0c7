/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cutover point (docs/agent-console.md, "Cutover"): while the console
 * cuts the machine over, every heartbeat answer asks for it with
 * {"requested_at", "requested_by"}. The agent makes one consistent point per
 * requested_at, in a thread of its own so heartbeats go on meanwhile: a
 * recovery point with the file systems frozen when the tracker can
 * (engine_point, kmod), else a final sync, whose MARK staging also turns into
 * a point (engine_sync). The outcome is reported in every status document
 * afterwards and kept in state_dir/cutover.json, so that neither a repeated
 * request (the console asks until it sees the point) nor a restart makes a
 * second point for the same request.
 */
#ifndef LIVEMIG_CUTOVER_H
#define LIVEMIG_CUTOVER_H

#include <stdint.h>

#include <jansson.h>

struct engine;
struct cutover;

#define CUTOVER_FILE "cutover.json"

/* Load what an earlier run did (state_dir/CUTOVER_FILE, if any). 0 or
 * -ENOMEM. */
int cutover_init(struct cutover **out, struct engine *e, const char *state_dir);

/*
 * The console's request from a heartbeat answer (its "cutover" object).
 * Starts the point unless this requested_at was already acted on, or
 * another request's point is still being made (the console repeats it).
 * Never blocks on the engine. Malformed requests are ignored (logged once).
 */
void cutover_request(struct cutover *c, const json_t *request);

/* The status document's "cutover" object, or NULL when none was ever
 * asked for. */
json_t *cutover_status_json(struct cutover *c);

/* Waits for a point in progress: call after engine_stop, which ends it
 * (without it, a point in progress is left to the process's exit). */
void cutover_free(struct cutover *c);

#endif
