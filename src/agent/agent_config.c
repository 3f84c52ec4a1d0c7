// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conn.h"
#include "identity.h"
#include "ini.h"
#include "netdev_mac.h"
#include "util.h"

#define HEARTBEAT_DEFAULT_NS (10ull * 1000000000ull)
#define HEARTBEAT_MIN_NS     (1ull * 1000000000ull)
#define HEARTBEAT_MAX_NS     (86400ull * 1000000000ull)

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/livemig");
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/livemig/livemigd.sock");
	snprintf(c->tracker, sizeof(c->tracker), "scan");
	c->workers = 2;
	c->queue_depth = 16;
	c->compression = COMPRESSION_AUTO;
	c->scan_interval_ns = 5000000000ull;
	c->point_interval_ns = 600000000000ull;
	c->freeze_max_ns = 200000000ull;
	c->freeze_buffer = 256ull << 20;
	snprintf(c->freeze_hooks_dir, sizeof(c->freeze_hooks_dir), "/etc/livemig/freeze-hooks.d");
	c->freeze_hook_timeout_ns = 30000000000ull;
	c->nice = 10;
	c->console.heartbeat_interval_ns = HEARTBEAT_DEFAULT_NS;
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
	if (!strcmp(section, "console")) {
		/* a second one would silently mix two consoles' keys */
		if (c->console.present) {
			snprintf(err, errlen, "[console] given twice");
			return -1;
		}
		c->console.present = 1;
		return 0;
	}
	if (strcmp(section, "agent") && strcmp(section, "staging")) {
		snprintf(err, errlen,
			 "unknown section [%s] (expected [agent], [staging], [console] or [disk])",
			 section);
		return -1;
	}
	return 0;
}

/* The console's identity of this machine is its machine name on staging too:
 * checked wherever the second of the two keys appears, so the message has
 * that line. */
static int machine_matches(const struct agent_config *c, char *err, size_t n)
{
	if (c->machine[0] && c->console.machine_id[0] && strcmp(c->machine, c->console.machine_id)) {
		snprintf(err, n, "[console] machine_id '%s' differs from [agent] machine '%s': "
			 "the console's machine id names the machine on staging too",
			 c->console.machine_id, c->machine);
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
		if (copy_str(c->machine, sizeof(c->machine), v, k, err, n))
			return -1;
		return machine_matches(c, err, n);
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
	if (!strcmp(k, "compression")) {
		if (!strcmp(v, "auto"))
			c->compression = COMPRESSION_AUTO;
		else if (!strcmp(v, "deflate"))
			c->compression = COMPRESSION_DEFLATE;
		else if (!strcmp(v, "none"))
			c->compression = COMPRESSION_NONE;
		else {
			snprintf(err, n, "compression: '%s' unknown (auto, deflate or none)", v);
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
	if (!strcmp(k, "point_interval") || !strcmp(k, "freeze_max") ||
	    !strcmp(k, "freeze_hook_timeout")) {
		uint64_t *dst = !strcmp(k, "point_interval") ? &c->point_interval_ns :
				!strcmp(k, "freeze_max") ? &c->freeze_max_ns :
							   &c->freeze_hook_timeout_ns;

		if (parse_duration(v, dst) || (dst != &c->point_interval_ns && !*dst)) {
			snprintf(err, n, "%s: expected a duration like 10m or 200ms%s, got '%s'", k,
				 dst == &c->point_interval_ns ? " (0 = only at final sync)" : "", v);
			return -1;
		}
		/* the kernel module's freeze cannot last longer than a minute */
		if (dst == &c->freeze_max_ns && *dst > 30000000000ull) {
			snprintf(err, n, "freeze_max: at most 30s, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "freeze_buffer")) {
		if (parse_size(v, &c->freeze_buffer) || c->freeze_buffer < (1u << 20)) {
			snprintf(err, n, "freeze_buffer: expected bytes like 256M (at least 1M), got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "freeze_hooks_dir"))
		return copy_str(c->freeze_hooks_dir, sizeof(c->freeze_hooks_dir), v, k, err, n);
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

/* https://HOST[:PORT][/prefix]. Only https: the bearer secret must never
 * travel in clear. The copy in out has no trailing '/', so API paths can be
 * appended. */
static int console_url_parse(const char *v, char *out, size_t outlen, char *err, size_t n)
{
	static const char scheme[] = "https://";
	const char *host = v + sizeof(scheme) - 1, *p, *path;
	size_t len;

	if (strncmp(v, scheme, sizeof(scheme) - 1)) {
		snprintf(err, n, "url: '%s' is not an https:// URL (the agent secret must not travel "
			 "in clear; expected https://HOST:PORT)", v);
		return -1;
	}
	path = strchr(host, '/');
	if (!path)
		path = host + strlen(host);
	if (*host == '[') {
		p = memchr(host, ']', (size_t)(path - host));
		if (!p || p == host + 1)
			goto bad;
		for (const char *q = host + 1; q < p; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				goto bad;
		p++;
	} else {
		for (p = host; p < path && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
				goto bad;
		if (p == host)
			goto bad;
	}
	if (p < path) {
		unsigned long port = 0;
		const char *q = p + 1;

		if (*p != ':' || q == path)
			goto bad;
		for (; q < path; q++) {
			if (!isdigit((unsigned char)*q))
				goto bad;
			port = port * 10 + (unsigned long)(*q - '0');
			if (port > 65535)
				goto bad;
		}
		if (port == 0)
			goto bad;
	}
	for (p = path; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '?' || *p == '#')
			goto bad;
	len = strlen(v);
	while (len > (size_t)(path - v) && v[len - 1] == '/')
		len--;
	if (len >= outlen) {
		snprintf(err, n, "url: longer than %zu characters", outlen - 1);
		return -1;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
bad:
	snprintf(err, n, "url: expected https://HOST:PORT (host name, IPv4 or [IPv6], port "
		 "1..65535, optionally a path), got '%s'", v);
	return -1;
}

/* "mac:aa:bb:cc:dd:ee:ff" or "metadata:<instance id>": what install detected
 * and registered (docs/identity.md). The MAC is kept in lower case, as
 * identity_detect() writes it. */
static int console_identity(struct console_config *cc, const char *v, char *err, size_t n)
{
	const char *colon = strchr(v, ':');
	uint8_t mac[6];

	if (colon && (size_t)(colon - v) == 3 && !strncmp(v, "mac", 3)) {
		if (mac_parse(colon + 1, mac) || !mac_usable(mac)) {
			snprintf(err, n, "identity: '%s' is not a unicast MAC address "
				 "(expected mac:aa:bb:cc:dd:ee:ff)", colon + 1);
			return -1;
		}
		snprintf(cc->identity_source, sizeof(cc->identity_source), "mac");
		mac_format(mac, cc->identity_value);
		return 0;
	}
	if (colon && (size_t)(colon - v) == 8 && !strncmp(v, "metadata", 8)) {
		if (!identity_instance_id_valid(colon + 1)) {
			snprintf(err, n, "identity: '%s' is not an instance id (1 to %d printable "
				 "characters without blanks)", colon + 1, INSTANCE_ID_MAX);
			return -1;
		}
		snprintf(cc->identity_source, sizeof(cc->identity_source), "metadata");
		snprintf(cc->identity_value, sizeof(cc->identity_value), "%s", colon + 1);
		return 0;
	}
	snprintf(err, n, "identity: expected mac:aa:bb:cc:dd:ee:ff or metadata:<instance id>, got '%s'",
		 v);
	return -1;
}

/* "kernel-headers, dhclient" -> "kernel-headers,dhclient": the ids of
 * prerequisite checks (livemig check --waive) are lower case words. */
static int console_waived(struct console_config *cc, const char *v, char *err, size_t n)
{
	size_t o = 0;

	for (const char *p = v; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		      *p == '_' || *p == ',') || (*p == ',' && (o == 0 || cc->waived_checks[o - 1] == ','))) {
			snprintf(err, n, "waived_checks: expected check ids separated by commas "
				 "(as livemig check lists them), got '%s'", v);
			return -1;
		}
		if (o + 1 >= sizeof(cc->waived_checks)) {
			snprintf(err, n, "waived_checks: longer than %zu characters",
				 sizeof(cc->waived_checks) - 1);
			return -1;
		}
		cc->waived_checks[o++] = *p;
	}
	if (o && cc->waived_checks[o - 1] == ',')
		o--;
	cc->waived_checks[o] = '\0';
	return 0;
}

static int http_url(const char *k, const char *v, char *dst, size_t dn, char *err, size_t n)
{
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
		snprintf(err, n, "%s: expected an http:// or https:// URL, got '%s'", k, v);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p)) {
			snprintf(err, n, "%s: blanks or control characters in '%s'", k, v);
			return -1;
		}
	return copy_str(dst, dn, v, k, err, n);
}

static int console_key(struct agent_config *c, const char *k, const char *v, char *err, size_t n)
{
	struct console_config *cc = &c->console;

	if (!strcmp(k, "url"))
		return console_url_parse(v, cc->url, sizeof(cc->url), err, n);
	if (!strcmp(k, "ca"))
		return copy_str(cc->ca, sizeof(cc->ca), v, k, err, n);
	if (!strcmp(k, "machine_id")) {
		if (!name_valid(v)) {
			snprintf(err, n, "machine_id: '%s' is not a valid name (letters, digits, '-', '_', '.', at most 63)", v);
			return -1;
		}
		if (copy_str(cc->machine_id, sizeof(cc->machine_id), v, k, err, n))
			return -1;
		return machine_matches(c, err, n);
	}
	if (!strcmp(k, "secret_file"))
		return copy_str(cc->secret_file, sizeof(cc->secret_file), v, k, err, n);
	if (!strcmp(k, "heartbeat_interval")) {
		uint64_t ns;

		if (parse_duration(v, &ns) || ns < HEARTBEAT_MIN_NS || ns > HEARTBEAT_MAX_NS) {
			snprintf(err, n, "heartbeat_interval: expected a duration from 1s to 24h like 10s, got '%s'", v);
			return -1;
		}
		cc->heartbeat_interval_ns = ns;
		return 0;
	}
	if (!strcmp(k, "identity"))
		return console_identity(cc, v, err, n);
	if (!strcmp(k, "metadata_url"))
		return http_url(k, v, cc->metadata_url, sizeof(cc->metadata_url), err, n);
	if (!strcmp(k, "proxy"))
		return http_url(k, v, cc->proxy, sizeof(cc->proxy), err, n);
	if (!strcmp(k, "waived_checks"))
		return console_waived(cc, v, err, n);
	snprintf(err, n, "unknown key '%s' in [console]", k);
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
	if (!strcmp(section, "console"))
		return console_key(c, k, v, err, n);
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

static int validate_console(const struct console_config *cc, char *err, size_t n)
{
	char missing[64] = "";

	if (!cc->present)
		return 0;
	/* all four or nothing works: name every one that is missing at once */
	if (!cc->url[0])
		strcat(missing, ", url");
	if (!cc->ca[0])
		strcat(missing, ", ca");
	if (!cc->machine_id[0])
		strcat(missing, ", machine_id");
	if (!cc->secret_file[0])
		strcat(missing, ", secret_file");
	if (missing[0]) {
		snprintf(err, n, "[console] needs url, ca, machine_id and secret_file (missing: %s)",
			 missing + 2);
		return -1;
	}
	return 0;
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
	return validate_console(&c->console, err, n);
}

int agent_config_parse(const char *text, struct agent_config *c, char *err, size_t errlen)
{
	if (ini_parse_string(text, on_section, on_key, c, err, errlen))
		return -1;
	return validate(c, err, errlen);
}

int agent_config_files_check(const char *path, const struct agent_config *c, char *err,
			     size_t errlen)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & 022) {
		snprintf(err, errlen,
			 "%s has mode %04o: group or others can change livemigd's configuration, so "
			 "it is refused; run chmod go-w %s", path, (unsigned)(st.st_mode & 07777),
			 path);
		return -EPERM;
	}
	/* a key not made yet is no exposure; the connection says it is missing */
	if (stat(c->key, &st)) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: [staging] key %s: %s", path, c->key, strerror(e));
		return -e;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: [staging] key %s has mode %04o: group or others can read the TLS "
			 "private key, so it is refused; run chmod 600 %s (and reinstall to get a new "
			 "key if someone may have read it)", path, c->key,
			 (unsigned)(st.st_mode & 07777), c->key);
		return -EPERM;
	}
	return 0;
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
