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
	json_t *r, *kernels, *mounts;
	char marker[128];
	int i;

	kernels = json_array();
	for (i = 0; i < c->n_kernels; i++)
		json_array_append_new(kernels, json_pack("{s:s, s:s, s:b}", "version", c->kernels[i].version,
							 "initramfs", c->kernels[i].initrd, "rebuilt",
							 c->kernels[i].rebuilt));
	mounts = json_array();
	for (i = 0; i < c->n_mounts; i++)
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:I, s:I}", "mountpoint",
							c->mounts[i].mountpoint, "fstype", c->mounts[i].fstype,
							"uuid", c->mounts[i].uuid, "offset",
							(json_int_t)c->mounts[i].start, "size",
							(json_int_t)c->mounts[i].size));
	snprintf(marker, sizeof(marker), FIRSTBOOT_MARKER " token=%s", c->token);
	r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:i, s:i}, s:s, s:s, s:s, s:o, s:o,"
		      " s:s, s:s, s:O, s:O}",
		      "result", rc ? "failed" : "converted", "input", c->opt->input, "input_format",
		      c->opt->input_format, "output", c->opt->output, "purpose",
		      c->opt->purpose == PURPOSE_TEST ? "test" : "cutover", "os", "type", c->os_type,
		      "distro", c->distro, "product", c->product, "major", c->major, "minor", c->minor,
		      "firmware", conv_firmware_name(c->firmware), "boot_loader", loader_name(c->loader),
		      "initramfs_tool", initramfs_name(c->initramfs), "kernels", kernels, "mounts", mounts,
		      "hostname", c->hostname, "marker", marker, "changes", c->changes, "timings_ms",
		      c->timings);
	if (r && rc)
		json_object_set_new(r, "error", json_string(c->error));
	return r;
}
