/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent's configuration file (docs/configuration.md). */
#ifndef LIVEMIG_AGENT_CONFIG_H
#define LIVEMIG_AGENT_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "frame.h"

struct disk_config {
	char name[FRAME_NAME_MAX + 1];
	char path[PATH_MAX];
};

struct agent_config {
	char machine[FRAME_NAME_MAX + 1];
	char state_dir[PATH_MAX];
	char socket_path[PATH_MAX];
	char tracker[16];
	unsigned workers;
	unsigned queue_depth;      /* 1 MiB slots in flight between reader and staging */
	uint64_t bandwidth_limit;  /* bytes per second on the wire, 0 = unlimited */
	uint64_t scan_interval_ns; /* pause between change-copy rounds */
	int nice;

	char staging_host[256];
	char staging_port[16];
	char staging_name[256];    /* name the staging certificate must carry */
	char ca[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];

	struct disk_config disks[FRAME_MAX_DISKS];
	unsigned ndisks;
};

void agent_config_defaults(struct agent_config *c);
/* Parse and validate. 0, or -1 with "file:line: problem" (or what is missing) in err. */
int agent_config_load(const char *path, struct agent_config *c, char *err, size_t errlen);
int agent_config_parse(const char *text, struct agent_config *c, char *err, size_t errlen);

#endif
