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

/*
 * Ask for the hashes of n ranges on connection `gen` and wait for every
 * answer. Requests are told apart by id, so several threads may wait at once.
 * 0, -EAGAIN (the connection ended: ask again), -ECANCELED or -EPROTO.
 */
static int ask_and_wait(struct engine *e, unsigned disk, const struct hash_range *r, unsigned n,
			uint64_t gen)
{
	uint8_t req[HASH_RANGES_MAX * 64];
	struct hash_wait w[HASH_RANGES_MAX];
	size_t len = 0;
	int rc, all;

	/* mu held on entry */
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct hash_wait){ .id = ++e->hash_req_id, .count = r[i].count,
					   .out = r[i].out, .next = e->hash_waits };
		e->hash_waits = &w[i];
		len += frame_encode_hash_req(req + len, sizeof(req) - len, w[i].id, disk,
					     r[i].offset, r[i].block_size, r[i].count);
	}
	pthread_mutex_unlock(&e->mu);

	/* written only on the connection the waits belong to: the sender closes
	 * a connection (and opens the next) only with send_mu held */
	pthread_mutex_lock(&e->send_mu);
	pthread_mutex_lock(&e->mu);
	rc = e->connected && e->conn_gen == gen ? 0 : -EAGAIN;
	pthread_mutex_unlock(&e->mu);
	if (!rc)
		rc = conn_write(&e->conn, req, len);
	pthread_mutex_unlock(&e->send_mu);

	pthread_mutex_lock(&e->mu);
	for (;;) {
		all = 1;
		for (unsigned i = 0; i < n; i++)
			all &= w[i].done != 0;
		if (rc || all || atomic_load(&e->stop) || !e->connected || e->conn_gen != gen)
			break;
		pthread_cond_wait(&e->cv, &e->mu);
	}
	/* unlinked before returning: the acker writes only into linked waits */
	for (struct hash_wait **p = &e->hash_waits; *p;) {
		if (*p >= w && *p < w + n)
			*p = (*p)->next;
		else
			p = &(*p)->next;
	}
	if (atomic_load(&e->stop))
		rc = -ECANCELED;
	else if (rc || !all)
		rc = -EAGAIN;
	for (unsigned i = 0; !rc && i < n; i++)
		if (w[i].done != 1)
			rc = -EPROTO;
	return rc;
}

int session_hashes_now(struct engine *e, unsigned disk, const struct hash_range *r, unsigned n)
{
	int rc;

	if (!n || n > HASH_RANGES_MAX)
		return -EINVAL;
	pthread_mutex_lock(&e->mu);
	if (atomic_load(&e->stop))
		rc = -ECANCELED;
	else if (!e->connected)
		rc = -EAGAIN;
	else
		rc = ask_and_wait(e, disk, r, n, e->conn_gen);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

/* One request: returns 0, -EAGAIN if the connection went away (retry), -ECANCELED. */
static int fetch_once(struct engine *e, uint32_t disk_id, uint64_t first, uint32_t count,
		      uint8_t *out)
{
	const struct hash_range r = { .offset = first * BLOCK_SIZE, .block_size = BLOCK_SIZE,
				      .count = count, .out = out };
	int rc;

	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && !e->connected)
		pthread_cond_wait(&e->cv, &e->mu);
	if (atomic_load(&e->stop))
		rc = -ECANCELED;
	else
		rc = ask_and_wait(e, disk_id, &r, 1, e->conn_gen);
	pthread_mutex_unlock(&e->mu);
	/* a wrong-sized answer: ask again, as for a lost connection */
	return rc == -EPROTO ? -EAGAIN : rc;
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

void session_hash_answer(struct engine *e, uint32_t id, uint32_t count, const uint8_t *hashes)
{
	pthread_mutex_lock(&e->mu);
	for (struct hash_wait *w = e->hash_waits; w; w = w->next) {
		if (w->id != id)
			continue;
		if (count == w->count) {
			memcpy(w->out, hashes, (size_t)count * FRAME_HASH_LEN);
			w->done = 1;
		} else {
			w->done = -1;
		}
		pthread_cond_broadcast(&e->cv);
		break;
	}
	pthread_mutex_unlock(&e->mu);
}
