// SPDX-License-Identifier: GPL-2.0-or-later
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "util.h"

void tls_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

SSL_CTX *tls_ctx_new(int server, const char *ca, const char *cert, const char *key,
		     char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		tls_error(err, errlen, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_error(err, errlen, "cannot load certificate");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "cannot load private key (or it does not match the certificate)");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_error(err, errlen, "cannot load CA certificate");
		goto fail;
	}
	if (server) {
		/* no session tickets: nothing is sent after the handshake but our frames */
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static void tune_socket(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned user_timeout = 30000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	/* a peer that vanished without a reset is noticed within 30 s of unacked data */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int handshake(struct conn *c, int server, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		int rc = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		int e;
		uint64_t now;

		if (rc == 1)
			return 0;
		e = SSL_get_error(c->ssl, rc);
		now = now_mono_ns();
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || now >= deadline) {
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				snprintf(err, errlen, "TLS handshake timed out");
			else if (!server && SSL_get_verify_result(c->ssl) != X509_V_OK)
				snprintf(err, errlen, "server certificate rejected: %s",
					 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
			else if (server && SSL_get_verify_result(c->ssl) != X509_V_OK)
				/* the usual cause: an agent registered with another console */
				snprintf(err, errlen,
					 "client certificate rejected (certificate verify failed): %s; "
					 "agents need a certificate from the CA this server trusts (--ca)",
					 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
			else
				tls_error(err, errlen, "TLS handshake failed");
			ERR_clear_error();
			return -ECONNREFUSED;
		}
		if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    (int)((deadline - now) / 1000000u) + 1) == -ETIMEDOUT) {
			snprintf(err, errlen, "TLS handshake timed out");
			return -ETIMEDOUT;
		}
	}
}

static int conn_init(struct conn *c, SSL_CTX *ctx, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	pthread_mutex_init(&c->mu, NULL);
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
		return -ENOMEM;
	tune_socket(fd);
	return 0;
}

int conn_connect(struct conn *c, SSL_CTX *ctx, const char *host, const char *port,
		 const char *expect_name, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, timeout_ms) == 0)) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (!soerr)
				break;
			errno = soerr;
		}
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return rc;
	if (conn_init(c, ctx, fd)) {
		conn_close(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	SSL_set_tlsext_host_name(c->ssl, expect_name);
	{
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, expect_name) != 1)
			X509_VERIFY_PARAM_set1_host(vp, expect_name, 0);
	}
	rc = handshake(c, 0, timeout_ms, err, errlen);
	if (rc)
		conn_close(c);
	return rc;
}

int conn_accept(struct conn *c, SSL_CTX *ctx, int fd, int timeout_ms, char *err, size_t errlen)
{
	int rc = conn_init(c, ctx, fd);

	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	return handshake(c, 1, timeout_ms, err, errlen);
}

int conn_peer_name(struct conn *c, char *out, size_t n)
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl);
	X509_NAME *subject;
	char cn[256];
	int len, first;

	if (!peer)
		return -EACCES;
	if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
		X509_free(peer);
		return -EACCES;
	}
	subject = X509_get_subject_name(peer);
	first = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	/* OpenSSL truncates silently and stops at an embedded NUL: a long or
	 * NUL-carrying CN must not pass as a shorter machine name, nor may a
	 * second CN leave it ambiguous */
	len = X509_NAME_get_text_by_NID(subject, NID_commonName, cn, (int)sizeof(cn));
	if (first < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, first) >= 0)
		len = -1;
	X509_free(peer);
	if (len <= 0 || (size_t)len >= n || strlen(cn) != (size_t)len || !name_valid(cn))
		return -EACCES;
	memcpy(out, cn, (size_t)len + 1);
	return 0;
}

int conn_peer_fingerprint(struct conn *c, char out[CONN_FINGERPRINT_HEX])
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int ok;

	if (!peer)
		return -EACCES;
	ok = SSL_get_verify_result(c->ssl) == X509_V_OK &&
	     X509_digest(peer, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32;
	X509_free(peer);
	if (!ok)
		return -EACCES;
	hex_encode(md, mdlen, out);
	return 0;
}

/* Keep the first queued error's reason in c->tls_reason; 1 if it is an alert
 * by which the peer refused our certificate. Under c->mu. */
static int note_tls_reason(struct conn *c)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	int alert = e && ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET : -1;

	snprintf(c->tls_reason, sizeof(c->tls_reason), "%s", r ? r : "");
	switch (alert) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return 1;
	default:
		return 0;
	}
}

/* One SSL call under the lock; returns bytes moved, or 0 and the poll event to wait for. */
static int ssl_io(struct conn *c, int writing, void *buf, size_t len, size_t *moved, short *wait_for)
{
	int rc, e, cert_rejected = 0;

	pthread_mutex_lock(&c->mu);
	if (writing)
		rc = SSL_write_ex(c->ssl, buf, len, moved);
	else
		rc = SSL_read_ex(c->ssl, buf, len, moved);
	e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_SSL)
		cert_rejected = note_tls_reason(c);
	if (e != SSL_ERROR_NONE)
		ERR_clear_error();
	pthread_mutex_unlock(&c->mu);
	switch (e) {
	case SSL_ERROR_NONE:
		return 0;
	case SSL_ERROR_WANT_READ:
		*moved = 0;
		*wait_for = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*moved = 0;
		*wait_for = POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	default:
		return cert_rejected ? -EKEYREJECTED : -EPIPE;
	}
}

static int conn_io(struct conn *c, int writing, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		size_t moved = 0;
		short wait_for = 0;
		int rc;

		if (atomic_load(&c->closing))
			return -ECONNABORTED;
		rc = ssl_io(c, writing, p, len, &moved, &wait_for);
		if (rc)
			return rc;
		if (moved) {
			p += moved;
			len -= moved;
			if (writing)
				c->bytes_out += moved;
			continue;
		}
		rc = wait_fd(c->fd, wait_for, timeout_ms);
		if (rc)
			return rc;
	}
	return 0;
}

int conn_write(struct conn *c, const void *buf, size_t len)
{
	/* a write stuck for a minute means the peer is gone (TCP_USER_TIMEOUT is shorter) */
	return conn_io(c, 1, (void *)buf, len, 60000);
}

int conn_read(struct conn *c, void *buf, size_t len, int timeout_ms)
{
	return conn_io(c, 0, buf, len, timeout_ms);
}

int conn_read_frame(struct conn *c, uint8_t *buf, struct frame *f, int timeout_ms,
		    const char **why)
{
	struct frame_hdr h;
	/* a peer that stops mid-frame is cut off rather than waited for forever */
	int mid_frame_ms = timeout_ms < 0 ? 60000 : timeout_ms;
	int rc;

	*why = NULL;
	/* The first byte may take timeout_ms (an idle peer); once a frame has
	 * started, the rest of its header is under the mid-frame limit too, and
	 * an end of stream inside it is a truncated frame, not a clean close. */
	rc = conn_read(c, buf, 1, timeout_ms);
	if (rc)
		return rc;
	rc = conn_read(c, buf + 1, FRAME_HDR_LEN - 1, mid_frame_ms);
	if (rc) {
		if (rc == -ECONNRESET || rc == -EPIPE || rc == -ETIMEDOUT)
			*why = "truncated frame header";
		return rc;
	}
	rc = frame_parse_header(buf, &h, why);
	if (rc)
		return rc;
	rc = conn_read(c, buf + FRAME_HDR_LEN, h.len, mid_frame_ms);
	if (rc) {
		if (rc == -ECONNRESET || rc == -EPIPE || rc == -ETIMEDOUT)
			*why = "truncated frame";
		return rc;
	}
	return frame_parse_body(&h, buf + FRAME_HDR_LEN, f, why);
}

int conn_set_unsent_limit(struct conn *c, size_t bytes)
{
	/* the kernel's default is "no limit", ~0u */
	unsigned v = bytes && bytes < ~0u ? (unsigned)bytes : ~0u;

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)))
		return -errno;
	return 0;
}

int conn_input_pending(struct conn *c)
{
	int pending;

	pthread_mutex_lock(&c->mu);
	pending = SSL_pending(c->ssl) > 0;
	pthread_mutex_unlock(&c->mu);
	return pending || wait_fd(c->fd, POLLIN, 0) == 0;
}

int conn_peer_refused(struct conn *c)
{
	unsigned char b;
	size_t n;
	int rc, e, refused = 0;

	if (wait_fd(c->fd, POLLIN, 0))
		return 0;
	pthread_mutex_lock(&c->mu);
	rc = SSL_peek_ex(c->ssl, &b, 1, &n);
	e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_SSL)
		refused = note_tls_reason(c);
	if (e != SSL_ERROR_NONE)
		ERR_clear_error();
	pthread_mutex_unlock(&c->mu);
	return refused ? -EKEYREJECTED : 0;
}

void conn_shutdown(struct conn *c)
{
	atomic_store(&c->closing, 1);
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void conn_close(struct conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pthread_mutex_destroy(&c->mu);
}

int split_host_port(const char *s, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hn || strlen(colon + 1) == 0 || strlen(colon + 1) >= pn)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

int tcp_listen(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res;
	int fd, one = 1, rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(res);
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, SOMAXCONN)) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(-rc));
		close(fd);
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	return fd;
}
