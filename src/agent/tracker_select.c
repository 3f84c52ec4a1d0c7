// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which tracker runs: `scan` as configured; `kmod` only if the livemig_cbt
 * module is (or can be) loaded and every disk is a whole-disk block device,
 * else livemigd refuses to start and says why; `auto` takes kmod when it can
 * and otherwise goes on with scan, logging why and showing it in the status
 * document (tracker_reason).
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kmod_probe.h"
#include "log.h"

/* 0 when the module can track every disk, else -1 with why. */
static int disks_trackable(struct engine *e, char *why, size_t n)
{
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];
		char part[96];
		struct stat st;

		if (fstat(d->src.fd, &st) || !S_ISBLK(st.st_mode)) {
			snprintf(why, n, "disk %s (%.100s) is not a block device", d->cfg->name,
				 d->cfg->path);
			return -1;
		}
		snprintf(part, sizeof(part), "/sys/dev/block/%u:%u/partition", major(st.st_rdev),
			 minor(st.st_rdev));
		if (!access(part, F_OK)) {
			snprintf(why, n, "disk %s (%.100s) is a partition; the module tracks whole disks",
				 d->cfg->name, d->cfg->path);
			return -1;
		}
	}
	return 0;
}

void tracker_select_fall_back(struct engine *e, const char *why)
{
	e->tracker = &tracker_scan_ops;
	snprintf(e->tracker_reason, sizeof(e->tracker_reason),
		 "tracker = auto: using scan because %s", why);
	log_warn("%s", e->tracker_reason);
}

int tracker_select(struct engine *e, char *err, size_t errlen)
{
	const char *conf = e->cfg->tracker;
	char why[256], remedy[256] = "", full[560];

	if (!strcmp(conf, "scan")) {
		e->tracker = &tracker_scan_ops;
		snprintf(e->tracker_reason, sizeof(e->tracker_reason), "tracker = scan");
		return 0;
	}
	if (strcmp(conf, "kmod") && strcmp(conf, "auto")) {
		snprintf(err, errlen, "tracker '%s' unknown (scan, kmod or auto)", conf);
		return -EINVAL;
	}
	if (!disks_trackable(e, why, sizeof(why)) &&
	    !kmod_load(why, sizeof(why), remedy, sizeof(remedy))) {
		e->tracker = &tracker_kmod_ops;
		snprintf(e->tracker_reason, sizeof(e->tracker_reason),
			 "tracker = %s: the %s module is loaded", conf, KMOD_NAME);
		return 0;
	}
	snprintf(full, sizeof(full), "%s%s%s", why, remedy[0] ? " (remedy: " : "", remedy);
	if (remedy[0])
		strncat(full, ")", sizeof(full) - strlen(full) - 1);
	if (!strcmp(conf, "kmod")) {
		snprintf(err, errlen, "tracker = kmod cannot be used: %s; or set tracker = auto "
			 "(falls back to scan)", full);
		return -ENOTSUP;
	}
	tracker_select_fall_back(e, full);
	return 0;
}
