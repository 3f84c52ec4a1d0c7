// SPDX-License-Identifier: GPL-2.0-or-later
/* Opening a session with staging (HELLO/WELCOME) and hash requests for rescans. */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "staging_target.h"
#include "util.h"

int session_open(struct engine *e, char *err, size_t errlen)
{
	struct hello_disk hd[FRAME_MAX_DISKS];
	uint8_t *buf;
	struct frame *f;
	const char *why;
	struct staging_target t;
	size_t n;
	int rc;

	staging_target_get(e, &t);
	rc = conn_connect(&e->conn, e->tls, t.host, t.port, t.name, 10000, err, errlen);
	if (rc)
		return rc;
	buf = malloc(FRAME_HDR_LEN + FRAME_MAX_BODY);
	f = malloc(sizeof(*f));
	if (!buf || !f) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < e->ndisks; i++) {
		hd[i].id = i;
		hd[i].size = e->disks[i].src.size;
		snprintf(hd[i].name, sizeof(hd[i].name), "%s", e->disks[i].cfg->name);
	}
	n = frame_encode_hello(buf, FRAME_HDR_LEN + FRAME_MAX_BODY, e->cfg->machine,
			       LIVEMIG_VERSION, CODEC_MASK_ALL | HELLO_CAP_POINT, BLOCK_SIZE, hd,
			       (uint16_t)e->ndisks);
	rc = conn_peer_refused(&e->conn);
	if (!rc)
		rc = conn_write(&e->conn, buf, n);
	if (rc && rc != -EKEYREJECTED) {
		snprintf(err, errlen, "staging closed the connection during HELLO: %s", strerror(-rc));
		goto fail;
	}
	if (!rc)
		rc = conn_read_frame(&e->conn, buf, f, 15000, &why);
	if (rc == -EKEYREJECTED) {
		/* TLS 1.3: the server judges our certificate after our handshake ended */
		snprintf(err, errlen,
			 "staging rejected this agent's certificate (%s): the staging server must "
			 "trust the CA that issued %s, the console's agent CA (livemig-staging --ca)",
			 e->conn.tls_reason, e->cfg->cert);
		goto fail;
	}
	if (rc) {
		snprintf(err, errlen, "no WELCOME from staging: %s", why ? why : strerror(-rc));
		goto fail;
	}
	if (f->type == FT_ERROR) {
		snprintf(err, errlen, "staging refused the session: %s: %s",
			 frame_error_name(f->error.code), f->error.msg);
		rc = f->error.code == ERR_NOSPACE ? -ENOSPC : -EACCES;
		goto fail;
	}
	if (f->type != FT_WELCOME) {
		snprintf(err, errlen, "staging answered HELLO with %s", frame_type_name(f->type));
		rc = -EPROTO;
		goto fail;
	}
	pthread_mutex_lock(&e->mu);
	/* the console moved the machine while this session opened: not this
	 * server's store, or the move's broken connection would be undone */
	if (e->stg_gen != t.gen) {
		pthread_mutex_unlock(&e->mu);
		snprintf(err, errlen, "the console moved this machine to another staging server");
		rc = STAGING_MOVED;
		goto fail;
	}
	if (e->have_welcome && memcmp(e->store_id, f->welcome.store_id, FRAME_EPOCH_LEN)) {
		log_warn("staging's store for this machine was replaced: rescanning");
		atomic_store(&e->store_changed, 1);
	}
	memcpy(e->store_id, f->welcome.store_id, FRAME_EPOCH_LEN);
	if (!e->have_welcome)
		e->store_was_new = f->welcome.store_was_new;
	e->staging_consistent_ns = f->welcome.consistent_ns;
	/* it answers a point's MARK with its id (POINT) */
	e->staging_points = !!(f->welcome.codecs & HELLO_CAP_POINT);
	e->have_welcome = 1;
	e->connected = 1;
	e->conn_gen++;
	atomic_store(&e->conn_broken, 0);
	e->stalled = 0;
	e->last_error[0] = '\0';
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	free(buf);
	free(f);
	return 0;
fail:
	free(buf);
	free(f);
	conn_close(&e->conn);
	return rc;
}

/* One request: returns 0, -EAGAIN if the connection went away (retry), -ECANCELED. */
static int fetch_once(struct engine *e, uint32_t disk_id, uint64_t first, uint32_t count,
		      uint8_t *out)
{
	uint8_t req[64];
	uint64_t gen;
	size_t n;
	int rc;

	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && !e->connected)
		pthread_cond_wait(&e->cv, &e->mu);
	if (atomic_load(&e->stop)) {
		pthread_mutex_unlock(&e->mu);
		return -ECANCELED;
	}
	gen = e->conn_gen;
	e->hash_req_id++;
	e->hash_req_count = count;
	e->hash_req_out = out;
	e->hash_req_done = 0;
	n = frame_encode_hash_req(req, sizeof(req), e->hash_req_id, disk_id, first * BLOCK_SIZE,
				  BLOCK_SIZE, count);
	pthread_mutex_unlock(&e->mu);

	pthread_mutex_lock(&e->send_mu);
	rc = conn_write(&e->conn, req, n);
	pthread_mutex_unlock(&e->send_mu);

	pthread_mutex_lock(&e->mu);
	while (!rc && !atomic_load(&e->stop) && !e->hash_req_done && e->connected &&
	       e->conn_gen == gen)
		pthread_cond_wait(&e->cv, &e->mu);
	if (atomic_load(&e->stop))
		rc = -ECANCELED;
	else if (rc || e->hash_req_done != 1)
		rc = -EAGAIN;
	e->hash_req_out = NULL;
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int session_fetch_hashes(struct engine *e, unsigned disk, uint64_t first, uint32_t count,
			 uint8_t *out)
{
	for (;;) {
		int rc = fetch_once(e, disk, first, count, out);

		if (rc != -EAGAIN)
			return rc;
		sleep_ns(100000000); /* the sender is reconnecting */
	}
}
