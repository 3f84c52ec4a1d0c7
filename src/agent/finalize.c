// SPDX-License-Identifier: GPL-2.0-or-later
/* livemigd removes what install wrote when the console finalizes (finalize.h). */
#include "finalize.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "install_files.h"

/* Whether config_path is install's livemigd.conf; its paths into p. */
static int installed_here(const char *config_path, const struct agent_config *cfg,
			  struct install_paths *p)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(config_path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == config_path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - config_path), config_path);
	if (strcmp(slash ? slash + 1 : config_path, INSTALL_CONF_NAME) ||
	    install_paths_init(p, dir))
		return 0;
	return !strcmp(cfg->console.secret_file, p->secret);
}

/* The first installed file still there after install_remove, and why. */
static int left_behind(const struct install_paths *p, char *msg, size_t n)
{
	const char *files[] = { p->conf, p->key, p->cert, p->staging_ca, p->console_ca, p->secret };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int rc;

		if (access(files[i], F_OK))
			continue;
		rc = unlink(files[i]) ? -errno : 0;
		if (!rc)
			continue;
		snprintf(msg, n, "cannot remove %s: %s", files[i], strerror(-rc));
		return rc;
	}
	return 0;
}

int finalize_remove(const char *config_path, const struct agent_config *cfg, char *msg,
		    size_t n)
{
	struct install_paths p;
	char left[512], why[PATH_MAX + 128] = "";
	int installed = installed_here(config_path, cfg, &p), rc = 0, src;

	if (installed) {
		install_remove(&p);
		rc = left_behind(&p, why, sizeof(why));
	}
	src = install_state_clear(cfg->state_dir, left, sizeof(left));
	if (src && !rc) {
		rc = src;
		snprintf(why, sizeof(why), "cannot remove livemigd's files in %s: %s", cfg->state_dir,
			 strerror(-src));
	}
	if (rc) {
		if (installed)
			snprintf(msg, n, "%s; remove what is left with `livemig uninstall "
				 "--config-dir %s` (the console already freed the license)", why,
				 p.dir);
		else
			snprintf(msg, n, "%s; remove what is left by hand", why);
		return rc;
	}
	if (installed)
		snprintf(msg, n, "removed %s, the agent's key, certificate, CAs and secret beside it, "
			 "and livemigd's state in %s%s%s%s", p.conf, cfg->state_dir,
			 left[0] ? " (left there, not livemigd's: " : "", left, left[0] ? ")" : "");
	else
		snprintf(msg, n, "removed livemigd's state in %s; %s was not written by `livemig "
			 "install` (not %s with the secret_file beside it): it and the files it names "
			 "are left for you to remove", cfg->state_dir, config_path, INSTALL_CONF_NAME);
	return 0;
}
