// SPDX-License-Identifier: GPL-2.0-or-later
/* Where the sender connects, and moving there (staging_target.h). */
#include "staging_target.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "atomic_file.h"
#include "engine.h"
#include "log.h"

#define TARGET_FILE "console-staging.json"

static void target_path(const struct engine *e, char *path, size_t n)
{
	snprintf(path, n, "%.*s/" TARGET_FILE, PATH_MAX - 200, e->cfg->state_dir);
}

/* The configuration's address, as the file records it. */
static void configured_address(const struct engine *e, char *out, size_t n)
{
	snprintf(out, n, strchr(e->cfg->staging_host, ':') ? "[%s]:%s" : "%s:%s",
		 e->cfg->staging_host, e->cfg->staging_port);
}

static int split(const char *address, char *host, size_t hn, char *port, size_t pn)
{
	char *end;
	unsigned long p;

	if (!address || split_host_port(address, host, hn, port, pn))
		return -EINVAL;
	p = strtoul(port, &end, 10);
	return *end || p < 1 || p > 65535 ? -EINVAL : 0;
}

/* The file holds the address the console named while the configuration
 * named `configured`: a reinstall that writes another address wins. */
void staging_target_init(struct engine *e)
{
	char path[PATH_MAX], configured[300], host[256], port[16], *text = NULL;
	const char *addr, *conf;
	json_t *doc;

	snprintf(e->stg_host, sizeof(e->stg_host), "%s", e->cfg->staging_host);
	snprintf(e->stg_port, sizeof(e->stg_port), "%s", e->cfg->staging_port);
	snprintf(e->stg_name, sizeof(e->stg_name), "%s", e->cfg->staging_name);
	target_path(e, path, sizeof(path));
	if (read_small_file(path, &text, NULL, 4096))
		return; /* none: the configured address */
	doc = json_loads(text, 0, NULL);
	free(text);
	addr = json_string_value(json_object_get(doc, "address"));
	conf = json_string_value(json_object_get(doc, "configured"));
	configured_address(e, configured, sizeof(configured));
	if (!doc || !conf || split(addr, host, sizeof(host), port, sizeof(port))) {
		log_warn("%s does not hold a staging address the console named: ignored (the "
			 "console's next answer names it again)", path);
		json_decref(doc);
		return;
	}
	if (strcmp(conf, configured)) {
		log_info("%s was written while the configuration named %s: ignored", path, conf);
		json_decref(doc);
		return;
	}
	snprintf(e->stg_host, sizeof(e->stg_host), "%s", host);
	snprintf(e->stg_port, sizeof(e->stg_port), "%s", port);
	snprintf(e->stg_name, sizeof(e->stg_name), "%s", host);
	log_info("staging server %s at %s:%s, as the console placed this machine",
		 json_string_value(json_object_get(doc, "server")) ?: "?", host, port);
	json_decref(doc);
}

void staging_target_get(struct engine *e, struct staging_target *out)
{
	pthread_mutex_lock(&e->mu);
	snprintf(out->host, sizeof(out->host), "%s", e->stg_host);
	snprintf(out->port, sizeof(out->port), "%s", e->stg_port);
	snprintf(out->name, sizeof(out->name), "%s", e->stg_name);
	out->gen = e->stg_gen;
	pthread_mutex_unlock(&e->mu);
}

static void remember(struct engine *e, const char *server, const char *address)
{
	char path[PATH_MAX], configured[300], *text;
	json_t *doc;
	int rc = -ENOMEM;

	configured_address(e, configured, sizeof(configured));
	doc = json_pack("{s:s, s:s, s:s}", "server", server, "address", address, "configured",
			configured);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	target_path(e, path, sizeof(path));
	if (text)
		rc = atomic_write_file(path, text, strlen(text), 0600);
	if (rc)
		log_warn("cannot write %s (%s): a restart connects to the configured staging "
			 "address first, and the console moves it again", path, strerror(-rc));
	free(text);
	json_decref(doc);
}

int staging_target_move(struct engine *e, const char *server, const char *address)
{
	char host[256], port[16], was[300];

	if (split(address, host, sizeof(host), port, sizeof(port)))
		return -EINVAL;
	pthread_mutex_lock(&e->mu);
	if (!strcmp(host, e->stg_host) && !strcmp(port, e->stg_port)) {
		pthread_mutex_unlock(&e->mu);
		return 0;
	}
	snprintf(was, sizeof(was), strchr(e->stg_host, ':') ? "[%s]:%s" : "%s:%s", e->stg_host,
		 e->stg_port);
	snprintf(e->stg_host, sizeof(e->stg_host), "%s", host);
	snprintf(e->stg_port, sizeof(e->stg_port), "%s", port);
	snprintf(e->stg_name, sizeof(e->stg_name), "%s", host);
	e->stg_gen++;
	pthread_mutex_unlock(&e->mu);
	log_info("the console places this machine on staging server %s (%s; was %s): "
		 "reconnecting there", server, address, was);
	remember(e, server, address);
	/* end the session as a lost connection would: the sender rewinds,
	 * connects to the new address, and the new store's id rescans */
	atomic_store(&e->conn_broken, 1);
	ring_wake(&e->ring);
	pthread_mutex_lock(&e->mu);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return 1;
}
