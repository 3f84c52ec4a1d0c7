// SPDX-License-Identifier: GPL-2.0-or-later
/* livemigd.conf and the key, certificate, CA and secret files beside it. */
#include "install_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "conn.h"
#include "ini.h"

int mkdir_p(const char *path, unsigned mode)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	for (char *p = dir + 1;; p++) {
		char saved = *p;

		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			return 0;
	}
}

/* The configuration text; malloc'd, or NULL. */
static char *conf_text(const struct install_paths *p, const struct install_settings *s)
{
	char host[256], port[16], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (split_host_port(s->staging_address, host, sizeof(host), port, sizeof(port)))
		snprintf(host, sizeof(host), "%s", s->staging_address);
	fprintf(f, "# Written by `livemig install`; `livemig uninstall` deregisters this machine\n"
		   "# and removes it. docs/configuration.md describes every key.\n"
		   "[agent]\n"
		   "machine = %s\n"
		   /* the kernel module when it loads, else scan, saying why */
		   "tracker = auto\n"
		   "state_dir = %s\n"
		   "socket = %s\n\n",
		s->machine_id, s->state_dir, s->socket);
	fprintf(f, "[staging]\n"
		   "address = %s\n"
		   "server_name = %s\n"
		   "ca = %s\n"
		   "cert = %s\n"
		   "key = %s\n\n",
		s->staging_address, host, s->staging_ca_pem ? p->staging_ca : SYSTEM_CA_BUNDLE,
		p->cert, p->key);
	fprintf(f, "[console]\n"
		   "url = %s\n"
		   "ca = %s\n"
		   "machine_id = %s\n"
		   "secret_file = %s\n"
		   "heartbeat_interval = %lds\n"
		   "identity = %s\n",
		s->console_url, p->console_ca, s->machine_id, p->secret, s->heartbeat_interval_s,
		s->identity);
	if (s->metadata_url)
		fprintf(f, "metadata_url = %s\n", s->metadata_url);
	if (s->proxy)
		fprintf(f, "proxy = %s\n", s->proxy);
	/* reported with each heartbeat: the console sees what was overlooked */
	for (size_t i = 0; s->waived && s->waived[i]; i++)
		fprintf(f, "%s%s%s", i ? "," : "waived_checks = ", s->waived[i],
			s->waived[i + 1] ? "" : "\n");
	for (size_t i = 0; i < s->disks->n; i++)
		if (s->disks->d[i].chosen)
			fprintf(f, "\n[disk]\nname = %s\npath = %s\n", s->disks->d[i].name,
				s->disks->d[i].device);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int put(const char *path, const char *text, unsigned mode, char *err, size_t errlen)
{
	int rc = atomic_write_file(path, text, strlen(text), mode);

	if (rc)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

int install_write(const struct install_paths *p, const struct install_settings *s, char *err,
		  size_t errlen)
{
	char *conf = conf_text(p, s);
	int rc;

	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = mkdir_p(p->dir, 0755))) {
		snprintf(err, errlen, "cannot create %s: %s", p->dir, strerror(-rc));
		goto out;
	}
	/* livemigd runs as root and nothing else needs the secrets: 0600 */
	if ((rc = put(p->key, s->key_pem, 0600, err, errlen)) ||
	    (rc = put(p->cert, s->cert_pem, 0644, err, errlen)) ||
	    (s->staging_ca_pem && (rc = put(p->staging_ca, s->staging_ca_pem, 0644, err, errlen))) ||
	    (rc = put(p->console_ca, s->console_ca_pem, 0644, err, errlen)) ||
	    (rc = put(p->secret, s->secret, 0600, err, errlen)))
		goto out;
	if ((rc = mkdir_p(s->state_dir, 0700)) || (rc = chmod(s->state_dir, 0700) ? -errno : 0)) {
		snprintf(err, errlen, "cannot create the state directory %s: %s", s->state_dir,
			 strerror(-rc));
		goto out;
	}
	rc = put(p->conf, conf, 0600, err, errlen);
out:
	if (rc)
		install_remove(p);
	free(conf);
	return rc;
}

static int on_key(void *ctx, const char *section, const char *k, const char *v, char *err,
		  size_t errlen)
{
	struct installed *in = ctx;
	struct { const char *section, *key; char *dst; size_t len; } keys[] = {
		{ "agent", "state_dir", in->state_dir, sizeof(in->state_dir) },
		{ "agent", "socket", in->socket, sizeof(in->socket) },
		{ "console", "url", in->console_url, sizeof(in->console_url) },
		{ "console", "ca", in->console_ca, sizeof(in->console_ca) },
		{ "console", "machine_id", in->machine_id, sizeof(in->machine_id) },
		{ "console", "secret_file", in->secret_file, sizeof(in->secret_file) },
		{ "console", "proxy", in->proxy, sizeof(in->proxy) },
	};

	/* everything else is livemigd's business, whatever it is */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(section, keys[i].section) || strcmp(k, keys[i].key))
			continue;
		if (strlen(v) >= keys[i].len) {
			snprintf(err, errlen, "[%s] %s is too long", section, k);
			return -1;
		}
		memcpy(keys[i].dst, v, strlen(v) + 1);
	}
	return 0;
}

int installed_load(const struct install_paths *p, struct installed *out, char *err,
		   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->state_dir, sizeof(out->state_dir), "%s", INSTALL_DEFAULT_STATE_DIR);
	snprintf(out->socket, sizeof(out->socket), "%s", INSTALL_DEFAULT_SOCKET);
	if (access(p->conf, F_OK) && errno == ENOENT)
		return -ENOENT;
	if (ini_parse_file(p->conf, NULL, on_key, out, err, errlen))
		return -EINVAL;
	if (!out->console_url[0] || !out->console_ca[0] || !out->machine_id[0] ||
	    !out->secret_file[0]) {
		snprintf(err, errlen, "%s has no complete [console] section (url, ca, machine_id, "
				      "secret_file): it was not written by `livemig install`", p->conf);
		return -EINVAL;
	}
	return 0;
}
