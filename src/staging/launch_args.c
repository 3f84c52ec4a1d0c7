// SPDX-License-Identifier: GPL-2.0-or-later
/* The launcher's command lines (launch_args.h). */
#include "launch_args.h"
#include "rbd_names.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int launch_secret_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	return i == 36;
}

int launch_from_clones(const struct launch_config *c)
{
	return c->rbd_pool && c->driver && !strcmp(c->driver, "libvirt");
}

static int fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len;
}

/* Disk i's snapshot of the point as the store names it, and its clone
 * after the instance, which is unique on this server, and the disk. */
static int clone_names(struct launch_argv *a, int i, const struct launch_config *c, const char *machine,
		       const char *name, uint64_t point, const char *disk)
{
	return fits(snprintf(a->input[i], sizeof(a->input[i]), "rbd:%s/" RBD_IMAGE_FMT "@" RBD_SNAP_PREFIX "%" PRIu64,
			     c->rbd_pool, machine, disk, point), sizeof(a->input[i])) &&
	       fits(snprintf(a->output[i], sizeof(a->output[i]), "rbd:%s/%s-%s", c->rbd_pool, name, disk),
		    sizeof(a->output[i]));
}

int launch_convert_argv(struct launch_argv *a, const struct launch_config *c, const char *machine,
			const struct launch_params *lp, const struct point_disks *pd, const char *dir)
{
	int clones = launch_from_clones(c), n = 0, ok = 1;

	ok &= fits(snprintf(a->report, sizeof(a->report), "%s/conversion.json", dir), sizeof(a->report));
	a->argv[n++] = c->launcher;
	a->argv[n++] = "convert";
	/* the point's order: livemig-launch boots the first */
	for (int i = 0; i < pd->n; i++) {
		if (clones) {
			ok &= clone_names(a, i, c, machine, lp->name, lp->point, pd->name[i]);
		} else {
			ok &= fits(snprintf(a->input[i], sizeof(a->input[i]), "%s/disk-%s.qcow2", dir, pd->name[i]),
				   sizeof(a->input[i]));
			ok &= fits(snprintf(a->output[i], sizeof(a->output[i]), "%s/copy-%s.qcow2", dir, pd->name[i]),
				   sizeof(a->output[i]));
		}
		a->argv[n++] = "--input";
		a->argv[n++] = a->input[i];
		a->argv[n++] = "--output";
		a->argv[n++] = a->output[i];
	}
	a->argv[n++] = "--input-format";
	a->argv[n++] = clones ? "raw" : "qcow2";
	if (clones && c->ceph_conf) {
		a->argv[n++] = "--ceph-conf";
		a->argv[n++] = c->ceph_conf;
	}
	if (clones && c->ceph_id) {
		a->argv[n++] = "--ceph-id";
		a->argv[n++] = c->ceph_id;
	}
	a->argv[n++] = "--purpose";
	a->argv[n++] = lp->purpose;
	if (lp->hostname_suffix && !strcmp(lp->purpose, "test")) {
		a->argv[n++] = "--hostname-suffix";
		a->argv[n++] = lp->hostname_suffix;
	}
	a->argv[n++] = "--workdir";
	a->argv[n++] = dir;
	a->argv[n++] = "--report";
	a->argv[n++] = a->report;
	a->argv[n] = NULL;
	a->argc = n;
	return ok ? 0 : -ENAMETOOLONG;
}

int launch_launch_argv(struct launch_argv *a, const struct launch_config *c, const struct launch_params *lp,
		       const char *dir)
{
	int n = 0, ok = 1;

	ok &= fits(snprintf(a->report, sizeof(a->report), "%s/conversion.json", dir), sizeof(a->report));
	ok &= fits(snprintf(a->image, sizeof(a->image), "%s/%s.qcow2", dir, lp->name), sizeof(a->image));
	snprintf(a->cpus, sizeof(a->cpus), "%lld", (long long)lp->cpus);
	snprintf(a->memory, sizeof(a->memory), "%lld", (long long)lp->memory_mib);
	snprintf(a->timeout, sizeof(a->timeout), "%u", c->timeout_s);
	a->argv[n++] = c->launcher;
	a->argv[n++] = "launch";
	a->argv[n++] = "--driver";
	a->argv[n++] = c->driver;
	a->argv[n++] = "--conversion";
	a->argv[n++] = a->report;
	a->argv[n++] = "--name";
	a->argv[n++] = lp->name;
	if (lp->cpus) {
		a->argv[n++] = "--vcpus";
		a->argv[n++] = a->cpus;
	}
	if (lp->memory_mib) {
		a->argv[n++] = "--memory";
		a->argv[n++] = a->memory;
	}
	if (!strcmp(c->driver, "export")) {
		a->argv[n++] = "--output";
		a->argv[n++] = a->image;
		a->argv[n++] = "--format";
		a->argv[n++] = "qcow2";
	} else {
		a->argv[n++] = "--state-dir";
		a->argv[n++] = dir;
		if (c->uri) {
			a->argv[n++] = "--uri";
			a->argv[n++] = c->uri;
		}
		if (c->nic) {
			a->argv[n++] = "--nic";
			a->argv[n++] = c->nic;
		}
		if (c->timeout_s) {
			a->argv[n++] = "--timeout";
			a->argv[n++] = a->timeout;
		}
		if (launch_from_clones(c) && c->ceph_secret) {
			a->argv[n++] = "--ceph-secret";
			a->argv[n++] = c->ceph_secret;
		}
	}
	a->argv[n++] = "--json";
	a->argv[n] = NULL;
	a->argc = n;
	return ok ? 0 : -ENAMETOOLONG;
}

int launch_destroy_argv(struct launch_argv *a, const struct launch_config *c, const char *name,
			const char *dir, const char *report, const struct launch_clones *lc)
{
	int n = 0, ok = 1;

	a->argv[n++] = c->launcher;
	a->argv[n++] = "destroy";
	a->argv[n++] = "--driver";
	a->argv[n++] = c->driver;
	a->argv[n++] = "--name";
	a->argv[n++] = name;
	if (!strcmp(c->driver, "export")) {
		ok &= fits(snprintf(a->image, sizeof(a->image), "%s/%s.qcow2", dir, name), sizeof(a->image));
		a->argv[n++] = "--output";
		a->argv[n++] = a->image;
	} else if (c->uri) {
		a->argv[n++] = "--uri";
		a->argv[n++] = c->uri;
	}
	if (report) {
		ok &= fits(snprintf(a->report, sizeof(a->report), "%s", report), sizeof(a->report));
		a->argv[n++] = "--conversion";
		a->argv[n++] = a->report;
	}
	/* every clone a conversion of the point for this instance makes,
	 * whether or not it made them and wrote its report */
	for (int i = 0; lc && launch_from_clones(c) && i < lc->disks->n; i++) {
		ok &= clone_names(a, i, c, lc->machine, name, lc->point, lc->disks->name[i]);
		a->argv[n++] = "--snapshot";
		a->argv[n++] = a->input[i];
		a->argv[n++] = "--clone";
		a->argv[n++] = a->output[i];
	}
	if (lc && launch_from_clones(c) && c->ceph_conf) {
		a->argv[n++] = "--ceph-conf";
		a->argv[n++] = c->ceph_conf;
	}
	if (lc && launch_from_clones(c) && c->ceph_id) {
		a->argv[n++] = "--ceph-id";
		a->argv[n++] = c->ceph_id;
	}
	a->argv[n] = NULL;
	a->argc = n;
	return ok ? 0 : -ENAMETOOLONG;
}
