// SPDX-License-Identifier: GPL-2.0-or-later
/* The conversion's order: overlay, inspection, edits, native rebuilds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "log.h"
#include "util.h"

static void timing(struct conv *c, const char *step, uint64_t since_ns)
{
	json_object_set_new(c->timings, step, json_integer((json_int_t)((now_mono_ns() - since_ns) / 1000000)));
}

/* An RBD disk's copy: its snapshot protected (so that staging cannot
 * remove the point under the clone) and cloned; nothing is copied. */
static int make_clone(struct conv *c, int i)
{
	const struct conv_disk *d = &c->opt->disks[i];
	struct rbd_name parent, clone;
	char err[400];
	int protected_now, rc;

	if (rbd_name_parse(d->input, 1, &parent) || rbd_name_parse(d->output, 0, &clone))
		return conv_fail(c, -EINVAL, "disk %d: RBD names are rbd:POOL/IMAGE@SNAP (input) and "
				 "rbd:POOL/IMAGE (output)", i);
	rc = rbd_clone_point(c->ceph, &parent, &clone, &protected_now, err, sizeof(err));
	if (rc)
		return conv_fail(c, rc, "%s", err);
	c->n_created = i + 1;
	/* said at once: a conversion cut short leaves its clones, and whoever
	 * cleans up (destroy with the same names) can see which were made */
	log_info("disk %d: cloned %s as %s", i, d->input, d->output);
	conv_change(c, "copy", d->output, "disk %d%s: RBD clone of snapshot %s/%s@%s (%s)", i, i ? "" : " (boot)",
		    parent.pool, parent.image, parent.snap,
		    protected_now ? "protected now" : "already protected");
	return 0;
}

/* what the clones of a failed conversion leave: nothing */
static void remove_clones(struct conv *c)
{
	for (int i = 0; i < c->n_created; i++) {
		const struct conv_disk *d = &c->opt->disks[i];
		struct rbd_name parent, clone;
		char err[400];
		int removed, unprotected;

		if (!d->rbd || rbd_name_parse(d->input, 1, &parent) || rbd_name_parse(d->output, 0, &clone))
			continue;
		if (rbd_release_clone(c->ceph, &clone, &parent, &removed, &unprotected, err, sizeof(err)))
			log_error("%s", err);
	}
}

static int ceph_connect(struct conv *c)
{
	const struct conv_options *o = c->opt;
	char err[400];
	int rc, any = 0;

	for (int i = 0; i < o->n_disks; i++)
		any |= o->disks[i].rbd;
	if (!any)
		return 0;
	/* the appliance's QEMU reads the keyring through the configuration:
	 * it inherits the environment, not our librados handle */
	if (o->ceph_conf)
		setenv("CEPH_CONF", o->ceph_conf, 1);
	rc = ceph_open(o->ceph_conf, o->ceph_id, &c->ceph, err, sizeof(err));
	if (!rc) {
		rc = ceph_monitors(c->ceph, c->mons, CEPH_MAX_MONS, err, sizeof(err));
		c->n_mons = rc > 0 ? rc : 0;
	}
	return rc < 0 ? conv_fail(c, rc, "%s", err) : 0;
}

/* The copy: per disk a qcow2 overlay on its input (which is opened
 * read-only by qemu from then on and never written), or an RBD clone. */
static int make_overlays(struct conv *c)
{
	const struct conv_options *o = c->opt;

	for (int i = 0; i < o->n_disks; i++) {
		const struct conv_disk *d = &o->disks[i];
		int rc;

		if (d->rbd) {
			rc = make_clone(c, i);
			if (rc)
				return rc;
			continue;
		}
		if (access(d->output, F_OK) == 0)
			return conv_fail(c, -EEXIST, "the output %s exists: remove it or choose another path",
					 d->output);
		if (guestfs_disk_create(c->g, d->output, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE,
					d->input, GUESTFS_DISK_CREATE_BACKINGFORMAT, d->input_format, -1) < 0)
			return conv_fail(c, -EIO, "cannot create the overlay %s: %s", d->output,
					 guestfs_last_error(c->g));
		c->n_created = i + 1;
		conv_change(c, "copy", d->output, "disk %d%s: qcow2 overlay, backing file %s (%s, read-only)",
			    i, i ? "" : " (boot)", d->input, d->input_format);
	}
	return 0;
}

/* QEMU's rbd driver in the appliance: the monitors and the user; the key
 * comes from the keyring the configuration names */
static int add_rbd_drive(struct conv *c, const struct conv_disk *d)
{
	char servers[CEPH_MAX_MONS][CEPH_ADDR_MAX + 16], *list[CEPH_MAX_MONS + 1];
	struct rbd_name clone;
	char name[300];

	if (rbd_name_parse(d->output, 0, &clone))
		return -EINVAL;
	snprintf(name, sizeof(name), "%s/%s", clone.pool, clone.image);
	for (int i = 0; i < c->n_mons; i++) {
		snprintf(servers[i], sizeof(servers[i]), strchr(c->mons[i].host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u",
			 c->mons[i].host, c->mons[i].port);
		list[i] = servers[i];
	}
	list[c->n_mons] = NULL;
	return guestfs_add_drive_opts(c->g, name, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", GUESTFS_ADD_DRIVE_OPTS_PROTOCOL,
				      "rbd", GUESTFS_ADD_DRIVE_OPTS_SERVER, list, GUESTFS_ADD_DRIVE_OPTS_USERNAME,
				      c->opt->ceph_id ? c->opt->ceph_id : "admin", -1);
}

/* Every disk, in the machine's order: the appliance names them sda, sdb...
 * as the source did, so inspection resolves fstab's /dev/sdb1 and finds a
 * volume group that spans disks. */
static int launch_appliance(struct conv *c)
{
	for (int i = 0; i < c->opt->n_disks; i++) {
		const struct conv_disk *d = &c->opt->disks[i];
		int rc = d->rbd ? add_rbd_drive(c, d)
				: guestfs_add_drive_opts(c->g, d->output, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1);

		if (rc < 0)
			return conv_fail(c, -EIO, "libguestfs cannot add %s: %s", d->output, guestfs_last_error(c->g));
	}
	if (guestfs_launch(c->g) < 0)
		return conv_fail(c, -EIO, "libguestfs could not start its appliance: %s (run "
				 "libguestfs-test-tool to see why)", guestfs_last_error(c->g));
	return 0;
}

static int close_appliance(struct conv *c)
{
	int rc = 0;

	if (!c->g)
		return 0;
	/* writes reach the overlay only when the appliance shuts down cleanly */
	if (guestfs_umount_all(c->g) < 0 || guestfs_shutdown(c->g) < 0)
		rc = conv_fail(c, -EIO, "libguestfs could not close the copy cleanly: %s",
			       guestfs_last_error(c->g));
	guestfs_close(c->g);
	c->g = NULL;
	return rc;
}

int convert_run(const struct conv_options *opt, json_t **report)
{
	struct conv c = { .opt = opt };
	uint8_t tok[16];
	uint64_t t0, t;
	int rc;

	c.changes = json_array();
	c.timings = json_object();
	t0 = now_mono_ns();
	random_bytes(tok, sizeof(tok));
	hex_encode(tok, sizeof(tok), c.token);
	c.g = guestfs_create();
	if (!c.g) {
		rc = conv_fail(&c, -ENOMEM, "cannot create a libguestfs handle");
		goto out;
	}
	/* our own one-line errors, not libguestfs's default stderr printing */
	guestfs_set_error_handler(c.g, NULL, NULL);
	rc = ceph_connect(&c);
	if (!rc)
		rc = make_overlays(&c);
	if (rc)
		goto out;
	t = now_mono_ns();
	rc = launch_appliance(&c);
	timing(&c, "appliance", t);
	if (rc)
		goto out;
	t = now_mono_ns();
	rc = guest_inspect(&c);
	timing(&c, "inspect", t);
	if (rc)
		goto out;
	t = now_mono_ns();
	rc = guest_edit(&c);
	if (!rc)
		rc = close_appliance(&c);
	timing(&c, "edit", t);
	if (rc)
		goto out;
	t = now_mono_ns();
	rc = native_convert(&c);
	timing(&c, "native", t);
out:
	close_appliance(&c);
	timing(&c, "total", t0);
	for (int i = 0; rc && i < c.n_created; i++)
		if (!opt->disks[i].rbd)
			unlink(opt->disks[i].output);
	if (rc)
		remove_clones(&c);
	*report = conv_report(&c, rc);
	ceph_close(c.ceph);
	free(c.root);
	json_decref(c.changes);
	json_decref(c.timings);
	if (rc)
		log_error("conversion failed: %s", c.error);
	return rc;
}
