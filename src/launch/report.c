// SPDX-License-Identifier: GPL-2.0-or-later
/* The conversion's JSON report: what the guest is and every change made. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "convert.h"
#include "log.h"

void conv_change(struct conv *c, const char *what, const char *path, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_info("%s: %s: %s", what, path, detail);
	json_array_append_new(c->changes, json_pack("{s:s, s:s, s:s}", "what", what, "path", path,
						    "detail", detail));
}

int conv_fail(struct conv *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0]) /* the first, innermost reason wins */
		return err;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return err;
}

const char *conv_firmware_name(enum conv_firmware f)
{
	switch (f) {
	case FW_BIOS:
		return "bios";
	case FW_UEFI:
		return "uefi";
	default:
		return "unknown";
	}
}

static const char *loader_name(enum conv_loader l)
{
	return l == LOADER_GRUB2 ? "grub2" : l == LOADER_GRUB1 ? "grub1" : "none";
}

static const char *initramfs_name(enum conv_initramfs t)
{
	return t == INITRAMFS_TOOLS ? "initramfs-tools" : t == INITRAMFS_DRACUT ? "dracut" : "none";
}

json_t *conv_report(const struct conv *c, int rc)
{
	const struct conv_options *o = c->opt;
	json_t *r, *kernels, *mounts, *disks, *mons, *ceph = NULL;
	char marker[128];
	int i;

	kernels = json_array();
	for (i = 0; i < c->n_kernels; i++)
		json_array_append_new(kernels, json_pack("{s:s, s:s, s:b}", "version", c->kernels[i].version,
							 "initramfs", c->kernels[i].initrd, "rebuilt",
							 c->kernels[i].rebuilt));
	mounts = json_array();
	for (i = 0; i < c->n_mounts; i++) {
		const struct conv_mount *m = &c->mounts[i];

		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "mountpoint",
							m->mountpoint, "fstype", m->fstype, "uuid", m->uuid,
							"disk", m->disk >= 0 ? json_integer(m->disk) : json_null(),
							"offset", (json_int_t)m->start, "size", (json_int_t)m->size));
	}
	/* input and output (the boot disk's) stay for readers of one disk */
	disks = json_array();
	for (i = 0; i < o->n_disks; i++)
		json_array_append_new(disks, json_pack("{s:s, s:s, s:s}", "input", o->disks[i].input,
						       "input_format", o->disks[i].input_format, "output",
						       o->disks[i].output));
	snprintf(marker, sizeof(marker), FIRSTBOOT_MARKER " token=%s", c->token);
	/* what the launch tells QEMU, which reads no Ceph configuration, and
	 * what destroy connects with */
	if (c->ceph) {
		mons = json_array();
		for (i = 0; i < c->n_mons; i++)
			json_array_append_new(mons, json_pack("{s:s, s:i}", "host", c->mons[i].host, "port",
							      (int)c->mons[i].port));
		ceph = json_pack("{s:o, s:s, s:o}", "conf", o->ceph_conf ? json_string(o->ceph_conf) : json_null(),
				 "id", o->ceph_id ? o->ceph_id : "admin", "monitors", mons);
	}
	r = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s, s:i, s:i}, s:s, s:s, s:s, s:o, s:o,"
		      " s:s, s:s, s:O, s:O}",
		      "result", rc ? "failed" : "converted", "input", o->disks[0].input, "input_format",
		      o->disks[0].input_format, "output", o->disks[0].output, "disks", disks, "purpose",
		      o->purpose == PURPOSE_TEST ? "test" : "cutover", "os", "type", c->os_type,
		      "distro", c->distro, "product", c->product, "major", c->major, "minor", c->minor,
		      "firmware", conv_firmware_name(c->firmware), "boot_loader", loader_name(c->loader),
		      "initramfs_tool", initramfs_name(c->initramfs), "kernels", kernels, "mounts", mounts,
		      "hostname", c->hostname, "marker", marker, "changes", c->changes, "timings_ms",
		      c->timings);
	if (r && ceph)
		json_object_set_new(r, "ceph", ceph);
	else
		json_decref(ceph);
	if (r && rc)
		json_object_set_new(r, "error", json_string(c->error));
	return r;
}
