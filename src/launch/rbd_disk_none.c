// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig-launch built without librbd (make RBD=0): RBD disks are refused
 * with a reason rather than failing somewhere inside QEMU. */
#include <errno.h>
#include <stdio.h>

#include "rbd_disk.h"

static int not_built(char *err, size_t len)
{
	snprintf(err, len, "this livemig-launch is built without Ceph RBD (make RBD=1, librbd-dev)");
	return -ENOTSUP;
}

int ceph_open(const char *conf, const char *id, struct ceph_conn **out, char *err, size_t len)
{
	(void)conf;
	(void)id;
	*out = NULL;
	return not_built(err, len);
}

void ceph_close(struct ceph_conn *c)
{
	(void)c;
}

int ceph_monitors(struct ceph_conn *c, struct ceph_mon *mons, int max, char *err, size_t len)
{
	(void)c;
	(void)mons;
	(void)max;
	return not_built(err, len);
}

int rbd_clone_point(struct ceph_conn *c, const struct rbd_name *parent, const struct rbd_name *clone,
		    int *protected_now, char *err, size_t len)
{
	(void)c;
	(void)parent;
	(void)clone;
	*protected_now = 0;
	return not_built(err, len);
}

int rbd_release_clone(struct ceph_conn *c, const struct rbd_name *clone, const struct rbd_name *parent,
		      int *removed, int *unprotected, char *err, size_t len)
{
	(void)c;
	(void)clone;
	(void)parent;
	*removed = *unprotected = 0;
	return not_built(err, len);
}
