// SPDX-License-Identifier: GPL-2.0-or-later
/* The export launcher: the converted copy flattened into one image
 * (qemu-img convert) and OUTPUT.json describing the machine it needs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "run.h"

static int export_launch(const struct launch_request *rq, json_t **result)
{
	const char *conv[] = { "qemu-img", "convert", "-p", "-O", rq->format, rq->disk, rq->output, NULL };
	const char *info[] = { "qemu-img", "info", "--output=json", rq->output, NULL };
	char desc_path[1100], line[300], err[1400] = "";
	char *out = NULL;
	json_t *inf = NULL, *desc = NULL;
	int rc;

	*result = json_pack("{s:s, s:s}", "driver", "export", "name", rq->name);
	if (strcmp(rq->format, "qcow2") && strcmp(rq->format, "raw")) {
		snprintf(err, sizeof(err), "unknown --format %s: use qcow2 or raw", rq->format);
		rc = -EINVAL;
		goto out;
	}
	if (access(rq->output, F_OK) == 0) {
		snprintf(err, sizeof(err), "%s exists: remove it or choose another --output", rq->output);
		rc = -EEXIST;
		goto out;
	}
	rc = run_capture(conv, &out);
	if (rc) {
		snprintf(err, sizeof(err), "qemu-img convert failed: %s", last_line(out, line, sizeof(line)));
		rc = -EIO;
		goto out;
	}
	free(out);
	rc = run_capture(info, &out);
	inf = rc ? NULL : json_loads(out, 0, NULL);
	if (!inf) {
		snprintf(err, sizeof(err), "qemu-img info cannot read %s", rq->output);
		rc = -EIO;
		goto out;
	}
	desc = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:O}], s:[{s:s, s:s}], s:{s:i}, s:i, s:s, s:s}",
			 "name", rq->name, "firmware", rq->firmware, "machine", "q35", "disks", "file",
			 rq->output, "format", rq->format, "bus", "virtio", "size",
			 json_object_get(inf, "virtual-size"), "nics", "model", "virtio", "config", "dhcp",
			 "cpu", "vcpus", rq->vcpus, "memory_mib", rq->memory_mib, "serial_console", "ttyS0",
			 "boot_marker", rq->marker);
	snprintf(desc_path, sizeof(desc_path), "%s.json", rq->output);
	if (!desc || json_dump_file(desc, desc_path, JSON_INDENT(2)) < 0) {
		snprintf(err, sizeof(err), "cannot write %s", desc_path);
		unlink(rq->output);
		rc = -EIO;
		goto out;
	}
	json_object_set_new(*result, "image", json_string(rq->output));
	json_object_set_new(*result, "description", json_string(desc_path));
out:
	json_object_set_new(*result, "state", json_string(rc ? "failed" : "exported"));
	if (rc)
		json_object_set_new(*result, "error", json_string(err));
	free(out);
	json_decref(inf);
	json_decref(desc);
	return rc;
}

static int export_destroy(const struct launch_request *rq, json_t **result)
{
	char desc_path[1100];

	snprintf(desc_path, sizeof(desc_path), "%s.json", rq->output);
	unlink(rq->output);
	unlink(desc_path);
	*result = json_pack("{s:s, s:s, s:s}", "driver", "export", "name", rq->name, "state", "destroyed");
	return 0;
}

const struct launcher launcher_export = {
	.name = "export",
	.launch = export_launch,
	.destroy = export_destroy,
};
