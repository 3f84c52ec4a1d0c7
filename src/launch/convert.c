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

/* The copy: per disk a qcow2 overlay on its input (which is opened
 * read-only by qemu from then on and never written). */
static int make_overlays(struct conv *c)
{
	const struct conv_options *o = c->opt;

	for (int i = 0; i < o->n_disks; i++) {
		const struct conv_disk *d = &o->disks[i];

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

/* Every disk, in the machine's order: the appliance names them sda, sdb...
 * as the source did, so inspection resolves fstab's /dev/sdb1 and finds a
 * volume group that spans disks. */
static int launch_appliance(struct conv *c)
{
	for (int i = 0; i < c->opt->n_disks; i++)
		if (guestfs_add_drive_opts(c->g, c->opt->disks[i].output, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
					   -1) < 0)
			return conv_fail(c, -EIO, "libguestfs cannot add %s: %s", c->opt->disks[i].output,
					 guestfs_last_error(c->g));
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
		unlink(opt->disks[i].output);
	*report = conv_report(&c, rc);
	free(c.root);
	json_decref(c.changes);
	json_decref(c.timings);
	if (rc)
		log_error("conversion failed: %s", c.error);
	return rc;
}
