// SPDX-License-Identifier: GPL-2.0-or-later
/* What destroy does for a launch from RBD clones: the clones removed, their
 * snapshots unprotected once no clone of them is left (rbd_disk.h). */
#include <errno.h>
#include <stdio.h>

#include "launcher.h"
#include "rbd_disk.h"

int launch_release_clones(const struct launch_request *rq, json_t *result, char *err, size_t len)
{
	json_t *removed = json_array(), *unprotected = json_array();
	struct ceph_conn *c = NULL;
	int rc = 0;

	if (!rq->n_rbd)
		goto out;
	rc = ceph_open(rq->ceph_conf, rq->ceph_id, &c, err, len);
	for (int i = 0; !rc && i < rq->n_disks; i++) {
		struct rbd_name clone, parent;
		int gone, freed;

		if (!rq->rbd_parents[i])
			continue;
		if (rbd_name_parse(rq->disks[i], 0, &clone) || rbd_name_parse(rq->rbd_parents[i], 1, &parent)) {
			snprintf(err, len, "bad RBD names %s, %s", rq->disks[i], rq->rbd_parents[i]);
			rc = -EINVAL;
			break;
		}
		rc = rbd_release_clone(c, &clone, &parent, &gone, &freed, err, len);
		if (gone)
			json_array_append_new(removed, json_string(rq->disks[i]));
		if (freed)
			json_array_append_new(unprotected, json_string(rq->rbd_parents[i]));
	}
	ceph_close(c);
out:
	json_object_set_new(result, "clones_removed", removed);
	json_object_set_new(result, "snapshots_unprotected", unprotected);
	return rc;
}
