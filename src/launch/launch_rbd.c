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
	/* every clone, past one that cannot go: what can be cleaned is; the
	 * first failure is the one said */
	for (int i = 0; c && i < rq->n_disks; i++) {
		struct rbd_name clone, parent;
		char why[500];
		int gone, freed, r;

		if (!rq->rbd_parents[i])
			continue;
		if (rbd_name_parse(rq->disks[i], 0, &clone) || rbd_name_parse(rq->rbd_parents[i], 1, &parent)) {
			snprintf(why, sizeof(why), "bad RBD names %s, %s", rq->disks[i], rq->rbd_parents[i]);
			r = -EINVAL;
		} else {
			r = rbd_release_clone(c, &clone, &parent, &gone, &freed, why, sizeof(why));
			if (gone)
				json_array_append_new(removed, json_string(rq->disks[i]));
			if (freed)
				json_array_append_new(unprotected, json_string(rq->rbd_parents[i]));
		}
		if (r && !rc) {
			rc = r;
			snprintf(err, len, "%s", why);
		}
	}
	ceph_close(c);
out:
	json_object_set_new(result, "clones_removed", removed);
	json_object_set_new(result, "snapshots_unprotected", unprotected);
	return rc;
}
