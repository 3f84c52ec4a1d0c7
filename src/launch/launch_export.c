// SPDX-License-Identifier: GPL-2.0-or-later
/* The export launcher: each converted copy flattened into an image of its
 * own (qemu-img convert) and OUTPUT.json describing the machine they need. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "run.h"

int export_disk_path(const char *output, int i, char *out, size_t len)
{
	const char *base = strrchr(output, '/'), *dot;
	int n;

	base = base ? base + 1 : output;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	if (!i)
		n = snprintf(out, len, "%s", output);
	else
		n = snprintf(out, len, "%.*s-disk%d%s", (int)(dot - output), output, i, dot);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* qemu-img convert of one copy into path; its description appended to disks */
static int export_one(const struct launch_request *rq, const char *disk, const char *path, json_t *disks,
		      char *err, size_t errlen)
{
	const char *conv[] = { "qemu-img", "convert", "-p", "-O", rq->format, disk, path, NULL };
	const char *info[] = { "qemu-img", "info", "--output=json", path, NULL };
	char line[300], *out = NULL;
	json_t *inf = NULL;
	int rc;

	if (access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s exists: remove it or choose another --output", path);
		return -EEXIST;
	}
	rc = run_capture(conv, &out);
	if (rc) {
		snprintf(err, errlen, "qemu-img convert failed: %s", last_line(out, line, sizeof(line)));
		unlink(path);
		free(out);
		return -EIO;
	}
	free(out);
	rc = run_capture(info, &out);
	inf = rc ? NULL : json_loads(out, 0, NULL);
	free(out);
	if (!inf) {
		snprintf(err, errlen, "qemu-img info cannot read %s", path);
		unlink(path);
		return -EIO;
	}
	json_array_append_new(disks, json_pack("{s:s, s:s, s:s, s:O}", "file", path, "format", rq->format,
					       "bus", "virtio", "size", json_object_get(inf, "virtual-size")));
	json_decref(inf);
	return 0;
}

static void remove_images(const struct launch_request *rq, int n)
{
	char path[1100];

	for (int i = 0; i < n; i++)
		if (!export_disk_path(rq->output, i, path, sizeof(path)))
			unlink(path);
}

static int export_launch(const struct launch_request *rq, json_t **result)
{
	char desc_path[1100], path[1100], err[1400] = "";
	json_t *desc = NULL, *disks = json_array();
	int rc = 0, i;

	*result = json_pack("{s:s, s:s}", "driver", "export", "name", rq->name);
	if (strcmp(rq->format, "qcow2") && strcmp(rq->format, "raw")) {
		snprintf(err, sizeof(err), "unknown --format %s: use qcow2 or raw", rq->format);
		rc = -EINVAL;
		goto out;
	}
	/* every image, the boot disk's first; none left when one fails */
	for (i = 0; i < rq->n_disks && !rc; i++) {
		rc = export_disk_path(rq->output, i, path, sizeof(path));
		if (rc)
			snprintf(err, sizeof(err), "--output %s: too long a path", rq->output);
		else
			rc = export_one(rq, rq->disks[i], path, disks, err, sizeof(err));
		if (rc) /* the images made before this one (it is not ours when it existed) */
			remove_images(rq, i);
	}
	if (rc)
		goto out;
	desc = json_pack("{s:s, s:s, s:s, s:O, s:[{s:s, s:s}], s:{s:i}, s:i, s:s, s:s}", "name", rq->name,
			 "firmware", rq->firmware, "machine", "q35", "disks", disks, "nics", "model", "virtio",
			 "config", "dhcp", "cpu", "vcpus", rq->vcpus, "memory_mib", rq->memory_mib,
			 "serial_console", "ttyS0", "boot_marker", rq->marker);
	snprintf(desc_path, sizeof(desc_path), "%s.json", rq->output);
	if (!desc || json_dump_file(desc, desc_path, JSON_INDENT(2)) < 0) {
		snprintf(err, sizeof(err), "cannot write %s", desc_path);
		remove_images(rq, rq->n_disks);
		rc = -EIO;
		goto out;
	}
	json_object_set_new(*result, "image", json_string(rq->output));
	json_object_set(*result, "images", json_object_get(desc, "disks"));
	json_object_set_new(*result, "description", json_string(desc_path));
out:
	json_object_set_new(*result, "state", json_string(rc ? "failed" : "exported"));
	if (rc)
		json_object_set_new(*result, "error", json_string(err));
	json_decref(disks);
	json_decref(desc);
	return rc;
}

/* Destroy has no conversion report: every name an export of up to
 * LAUNCH_MAX_DISKS disks can have. */
static int export_destroy(const struct launch_request *rq, json_t **result)
{
	char desc_path[1100];

	snprintf(desc_path, sizeof(desc_path), "%s.json", rq->output);
	remove_images(rq, LAUNCH_MAX_DISKS);
	unlink(desc_path);
	*result = json_pack("{s:s, s:s, s:s}", "driver", "export", "name", rq->name, "state", "destroyed");
	return 0;
}

const struct launcher launcher_export = {
	.name = "export",
	.launch = export_launch,
	.destroy = export_destroy,
};
