// SPDX-License-Identifier: GPL-2.0-or-later
/* The drivers by name, and what a launch takes from a conversion report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "launcher.h"
#include "rbd_disk.h"

const struct launcher *launcher_find(const char *name)
{
	static const struct launcher *const all[] = { &launcher_libvirt, &launcher_export, NULL };

	for (const struct launcher *const *l = all; *l; l++)
		if (!strcmp((*l)->name, name))
			return *l;
	return NULL;
}

int launch_request_from_report(const json_t *report, struct launch_request *rq, char *err, size_t len)
{
	const json_t *disks = json_object_get(report, "disks"), *d;
	size_t i;

	if (strcmp(json_string_value(json_object_get(report, "result")) ?: "", "converted")) {
		snprintf(err, len, "it is the report of a failed conversion: nothing to launch");
		return -EINVAL;
	}
	rq->n_disks = 0;
	rq->n_rbd = 0;
	if (!disks) {
		rq->disks[0] = json_string_value(json_object_get(report, "output"));
		rq->n_disks = rq->disks[0] ? 1 : 0;
	} else if (json_is_array(disks)) {
		json_array_foreach(disks, i, d) {
			const char *out = json_string_value(json_object_get(d, "output"));

			if (!out || i >= LAUNCH_MAX_DISKS) {
				snprintf(err, len, "disks[%zu] %s", i, out ? "is one disk too many" : "has no output");
				return -EINVAL;
			}
			if (rbd_spec(out)) {
				rq->rbd_parents[rq->n_disks] = json_string_value(json_object_get(d, "input"));
				if (!rbd_spec(rq->rbd_parents[rq->n_disks])) {
					snprintf(err, len, "disks[%zu] is an RBD clone without its snapshot (input)", i);
					return -EINVAL;
				}
				rq->n_rbd++;
			}
			rq->disks[rq->n_disks++] = out;
		}
	}
	if (rq->n_rbd) {
		const json_t *ceph = json_object_get(report, "ceph");

		rq->ceph_conf = json_string_value(json_object_get(ceph, "conf"));
		rq->ceph_id = json_string_value(json_object_get(ceph, "id"));
		rq->ceph_monitors = json_object_get(ceph, "monitors");
		if (!rq->ceph_id || !json_array_size(rq->ceph_monitors)) {
			snprintf(err, len, "it has RBD disks but no ceph id and monitors");
			return -EINVAL;
		}
	}
	if (!rq->n_disks) {
		snprintf(err, len, "it names no converted disk (disks[].output)");
		return -EINVAL;
	}
	rq->firmware = json_string_value(json_object_get(report, "firmware"));
	rq->marker = json_string_value(json_object_get(report, "marker"));
	if (!rq->firmware || !rq->marker) {
		snprintf(err, len, "it lacks firmware or marker");
		return -EINVAL;
	}
	return 0;
}

int launch_request_add_clone(struct launch_request *rq, const char *clone, const char *snapshot, char *err,
			     size_t len)
{
	struct rbd_name c, p;

	if (rbd_name_parse(clone, 0, &c) || rbd_name_parse(snapshot, 1, &p)) {
		snprintf(err, len, "a clone is rbd:POOL/IMAGE and its snapshot rbd:POOL/IMAGE@SNAP, not %s and %s",
			 clone, snapshot);
		return -EINVAL;
	}
	for (int i = 0; i < rq->n_disks; i++) {
		if (strcmp(rq->disks[i], clone))
			continue;
		if (rq->rbd_parents[i] && !strcmp(rq->rbd_parents[i], snapshot))
			return 0; /* the report names it too */
		snprintf(err, len, "%s is in the conversion's report as a copy of %s, not of %s", clone,
			 rq->rbd_parents[i] ? rq->rbd_parents[i] : "a file", snapshot);
		return -EINVAL;
	}
	if (rq->n_disks == LAUNCH_MAX_DISKS) {
		snprintf(err, len, "at most %d disks", LAUNCH_MAX_DISKS);
		return -E2BIG;
	}
	rq->disks[rq->n_disks] = clone;
	rq->rbd_parents[rq->n_disks++] = snapshot;
	rq->n_rbd++;
	return 0;
}
