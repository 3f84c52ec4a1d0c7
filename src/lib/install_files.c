// SPDX-License-Identifier: GPL-2.0-or-later
/* The installed files and their removal (install_files.h). */
#include "install_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int install_paths_init(struct install_paths *p, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n >= sizeof(p->dir))
		return -ENAMETOOLONG;
	snprintf(p->dir, sizeof(p->dir), "%.*s", (int)n, dir);
	snprintf(p->conf, sizeof(p->conf), "%s/" INSTALL_CONF_NAME, p->dir);
	snprintf(p->key, sizeof(p->key), "%s/agent.key", p->dir);
	snprintf(p->cert, sizeof(p->cert), "%s/agent.pem", p->dir);
	snprintf(p->staging_ca, sizeof(p->staging_ca), "%s/staging-ca.pem", p->dir);
	snprintf(p->console_ca, sizeof(p->console_ca), "%s/console-ca.pem", p->dir);
	snprintf(p->secret, sizeof(p->secret), "%s/agent-secret", p->dir);
	return 0;
}

void install_remove(const struct install_paths *p)
{
	const char *files[] = { p->conf, p->key, p->cert, p->staging_ca, p->console_ca, p->secret };

	/* the configuration first: a half-removed install must not look installed */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(p->dir); /* only when empty: the operator may keep other files there */
}

int install_state_file(const char *name)
{
	static const char *const prefixes[] = { "checkpoint.json", "hashes-", "livemigd.",
						"console-", "cutover." };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

int install_state_clear(const char *dir, char *left, size_t leftlen)
{
	char path[PATH_MAX + 256];
	size_t used = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (leftlen)
		left[0] = '\0';
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (install_state_file(e->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) == 0 || errno == ENOENT)
				continue;
			if (!rc)
				rc = -errno;
		}
		/* uninstall's queue is said by uninstall itself */
		if (!strncmp(e->d_name, "pending-", 8) || used + 1 >= leftlen)
			continue;
		used += (size_t)snprintf(left + used, leftlen - used, "%s%s", used ? ", " : "",
					 e->d_name);
		if (used >= leftlen)
			used = leftlen - 1;
	}
	closedir(d);
	rmdir(dir); /* only when empty */
	return rc;
}
