/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * livemigd uninstalls itself when the console finalizes the machine's
 * migration (docs/agent-console.md, "Finalize"): what `livemig install`
 * wrote goes, through the code `livemig uninstall` uses (install_files.h),
 * without the deregistration (the console did it) and without stopping
 * livemigd (the caller is livemigd, and exits next).
 */
#ifndef LIVEMIG_FINALIZE_H
#define LIVEMIG_FINALIZE_H

#include <stddef.h>

#include "agent_config.h"

/*
 * After the engine, heartbeats and control socket stopped: remove the
 * installed configuration, key, certificate, CAs and secret beside
 * config_path (only when config_path is the livemigd.conf install wrote,
 * whose secret_file is the one beside it: a configuration written by hand
 * is left alone, and said so) and livemigd's files in cfg->state_dir.
 * 0 with what was removed in msg, or -errno with what is left and why.
 */
int finalize_remove(const char *config_path, const struct agent_config *cfg, char *msg,
		    size_t n);

#endif
