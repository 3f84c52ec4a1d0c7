// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "ini.h"
#include "util.h"

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/livemig");
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/livemig/livemigd.sock");
	snprintf(c->tracker, sizeof(c->tracker), "scan");
	c->workers = 2;
	c->queue_depth = 16;
	c->scan_interval_ns = 5000000000ull;
	c->nice = 10;
}

static int copy_str(char *dst, size_t n, const char *v, const char *key, char *err, size_t errlen)
{
	if (!*v || strlen(v) >= n) {
		snprintf(err, errlen, "%s: value empty or too long", key);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int on_section(void *ctx, const char *section, char *err, size_t errlen)
{
	struct agent_config *c = ctx;

	if (!strcmp(section, "disk")) {
		if (c->ndisks == FRAME_MAX_DISKS) {
			snprintf(err, errlen, "more than %d [disk] sections", FRAME_MAX_DISKS);
			return -1;
		}
		c->ndisks++;
		return 0;
	}
	if (strcmp(section, "agent") && strcmp(section, "staging")) {
		snprintf(err, errlen, "unknown section [%s] (expected [agent], [staging] or [disk])",
			 section);
		return -1;
	}
	return 0;
}

static int agent_key(struct agent_config *c, const char *k, const char *v, char *err, size_t n)
{
	if (!strcmp(k, "machine")) {
		if (!name_valid(v)) {
			snprintf(err, n, "machine: '%s' is not a valid name (letters, digits, '-', '_', '.', at most 63)", v);
			return -1;
		}
		return copy_str(c->machine, sizeof(c->machine), v, k, err, n);
	}
	if (!strcmp(k, "state_dir"))
		return copy_str(c->state_dir, sizeof(c->state_dir), v, k, err, n);
	if (!strcmp(k, "socket"))
		return copy_str(c->socket_path, sizeof(c->socket_path), v, k, err, n);
	if (!strcmp(k, "tracker")) {
		if (strcmp(v, "scan") && strcmp(v, "kmod") && strcmp(v, "auto")) {
			snprintf(err, n, "tracker: '%s' unknown (scan, kmod or auto)", v);
			return -1;
		}
		return copy_str(c->tracker, sizeof(c->tracker), v, k, err, n);
	}
	if (!strcmp(k, "workers")) {
		if (parse_uint(v, 1, 64, &c->workers)) {
			snprintf(err, n, "workers: expected 1..64, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "queue_depth")) {
		if (parse_uint(v, 2, 48, &c->queue_depth)) {
			snprintf(err, n, "queue_depth: expected 2..48 (MiB in flight), got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "bandwidth_limit")) {
		if (parse_size(v, &c->bandwidth_limit)) {
			snprintf(err, n, "bandwidth_limit: expected bytes per second like 50M, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "scan_interval")) {
		if (parse_duration(v, &c->scan_interval_ns)) {
			snprintf(err, n, "scan_interval: expected a duration like 5s or 500ms, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "nice")) {
		char *end;
		long x = strtol(v, &end, 10);

		if (end == v || *end || x < -20 || x > 19) {
			snprintf(err, n, "nice: expected -20..19, got '%s'", v);
			return -1;
		}
		c->nice = (int)x;
		return 0;
	}
	snprintf(err, n, "unknown key '%s' in [agent]", k);
	return -1;
}

static int staging_key(struct agent_config *c, const char *k, const char *v, char *err, size_t n)
{
	if (!strcmp(k, "address")) {
		if (split_host_port(v, c->staging_host, sizeof(c->staging_host), c->staging_port,
				    sizeof(c->staging_port))) {
			snprintf(err, n, "address: expected HOST:PORT, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "server_name"))
		return copy_str(c->staging_name, sizeof(c->staging_name), v, k, err, n);
	if (!strcmp(k, "ca"))
		return copy_str(c->ca, sizeof(c->ca), v, k, err, n);
	if (!strcmp(k, "cert"))
		return copy_str(c->cert, sizeof(c->cert), v, k, err, n);
	if (!strcmp(k, "key"))
		return copy_str(c->key, sizeof(c->key), v, k, err, n);
	snprintf(err, n, "unknown key '%s' in [staging]", k);
	return -1;
}

static int on_key(void *ctx, const char *section, const char *k, const char *v, char *err,
		  size_t n)
{
	struct agent_config *c = ctx;

	if (!strcmp(section, "agent"))
		return agent_key(c, k, v, err, n);
	if (!strcmp(section, "staging"))
		return staging_key(c, k, v, err, n);
	if (!strcmp(section, "disk")) {
		struct disk_config *d = &c->disks[c->ndisks - 1];

		if (!strcmp(k, "name")) {
			if (!name_valid(v)) {
				snprintf(err, n, "name: '%s' is not a valid disk name", v);
				return -1;
			}
			return copy_str(d->name, sizeof(d->name), v, k, err, n);
		}
		if (!strcmp(k, "path"))
			return copy_str(d->path, sizeof(d->path), v, k, err, n);
		snprintf(err, n, "unknown key '%s' in [disk]", k);
		return -1;
	}
	snprintf(err, n, "key '%s' outside any section", k);
	return -1;
}

static int validate(struct agent_config *c, char *err, size_t n)
{
	if (!c->machine[0]) {
		snprintf(err, n, "[agent] machine is not set");
		return -1;
	}
	if (!c->staging_host[0] || !c->ca[0] || !c->cert[0] || !c->key[0]) {
		snprintf(err, n, "[staging] needs address, ca, cert and key");
		return -1;
	}
	if (!c->staging_name[0])
		snprintf(c->staging_name, sizeof(c->staging_name), "%s", c->staging_host);
	if (c->ndisks == 0) {
		snprintf(err, n, "no [disk] section: nothing to replicate");
		return -1;
	}
	for (unsigned i = 0; i < c->ndisks; i++) {
		if (!c->disks[i].name[0] || !c->disks[i].path[0]) {
			snprintf(err, n, "[disk] number %u needs both name and path", i + 1);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->disks[i].name, c->disks[j].name)) {
				snprintf(err, n, "disk name '%s' used twice", c->disks[i].name);
				return -1;
			}
	}
	return 0;
}

int agent_config_parse(const char *text, struct agent_config *c, char *err, size_t errlen)
{
	if (ini_parse_string(text, on_section, on_key, c, err, errlen))
		return -1;
	return validate(c, err, errlen);
}

int agent_config_load(const char *path, struct agent_config *c, char *err, size_t errlen)
{
	char inner[400];

	if (ini_parse_file(path, on_section, on_key, c, err, errlen))
		return -1;
	if (validate(c, inner, sizeof(inner))) {
		snprintf(err, errlen, "%s: %s", path, inner);
		return -1;
	}
	return 0;
}
