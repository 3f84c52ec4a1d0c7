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

/* [console]: optional. Without it the daemon sends no heartbeats and checks
 * no identity (a daemon configured by hand). livemig install writes it. */
struct console_config {
	int present;
	char url[512];                  /* https://HOST[:PORT][/prefix], no trailing '/' */
	char ca[PATH_MAX];              /* verifies the console's certificate */
	char machine_id[FRAME_NAME_MAX + 1];
	char secret_file[PATH_MAX];     /* the bearer secret, mode 0600 */
	uint64_t heartbeat_interval_ns;
	char identity_source[16];       /* "mac" or "metadata"; "" = no identity check */
	char identity_value[128];
	char metadata_url[256];         /* "" = the library's default */
	char proxy[256];                /* "" = never a proxy, whatever the environment says */
	char waived_checks[256];        /* "id,id": prerequisite failures waived at install */
};

/* `compression`: whether DATA frames are deflated (docs/configuration.md) */
enum compression_mode {
	COMPRESSION_AUTO,    /* deflate while the link or staging is the bottleneck */
	COMPRESSION_DEFLATE, /* always try */
	COMPRESSION_NONE,    /* never */
};

struct agent_config {
	char machine[FRAME_NAME_MAX + 1];
	char state_dir[PATH_MAX];
	char socket_path[PATH_MAX];
	char tracker[16];
	unsigned workers;
	unsigned queue_depth;      /* 1 MiB slots in flight between reader and staging */
	int compression;           /* enum compression_mode */
	uint64_t bandwidth_limit;  /* bytes per second on the wire, 0 = unlimited */
	uint64_t scan_interval_ns; /* pause between change-copy rounds */
	int nice;

	/* recovery points (kmod tracker): docs/configuration.md */
	uint64_t point_interval_ns;   /* 0 = only at final sync */
	uint64_t freeze_max_ns;       /* longest the file systems stay frozen */
	uint64_t freeze_buffer;       /* bytes a point may hold in memory */
	char freeze_hooks_dir[PATH_MAX];
	uint64_t freeze_hook_timeout_ns;

	char staging_host[256];
	char staging_port[16];
	char staging_name[256];    /* name the staging certificate must carry */
	char ca[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];

	struct disk_config disks[FRAME_MAX_DISKS];
	unsigned ndisks;

	struct console_config console;
};

void agent_config_defaults(struct agent_config *c);
/* Parse and validate. 0, or -1 with "file:line: problem" (or what is missing) in err. */
int agent_config_load(const char *path, struct agent_config *c, char *err, size_t errlen);
int agent_config_parse(const char *text, struct agent_config *c, char *err, size_t errlen);
/* Refuse a configuration file that group or others may write (they could
 * point livemigd at any device and any staging) and a TLS private key that
 * group or others may read or write: 0, or -EPERM (or -errno) with the
 * remedy in err. */
int agent_config_files_check(const char *path, const struct agent_config *c, char *err,
			     size_t errlen);

#endif
