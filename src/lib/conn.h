/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TLS 1.3 connection with mutual authentication. One thread may write while
 * another reads: OpenSSL forbids concurrent calls on one SSL, so every call is
 * made under a mutex on a non-blocking socket and the waiting happens in
 * poll() outside it.
 */
#ifndef LIVEMIG_CONN_H
#define LIVEMIG_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "frame.h"

struct conn {
	int fd;
	SSL *ssl;
	pthread_mutex_t mu;
	atomic_int closing;
	uint64_t bytes_out; /* TLS payload bytes written, for throughput figures */
	/* OpenSSL's reason for the last failed read or write ("" if none): the
	 * peer's alert, for a message that says why it hung up */
	char tls_reason[96];
};

/* "what: <OpenSSL's first queued error>" into err, clearing OpenSSL's queue. */
void tls_error(char *err, size_t errlen, const char *what);

/* server: verify clients against ca; client: verify the server against ca. */
SSL_CTX *tls_ctx_new(int server, const char *ca, const char *cert, const char *key,
		     char *err, size_t errlen);

/* TCP connect to host:port, then handshake, checking the server certificate
 * names `expect_name` (a DNS name or an IP address). 0 or -errno. */
int conn_connect(struct conn *c, SSL_CTX *ctx, const char *host, const char *port,
		 const char *expect_name, int timeout_ms, char *err, size_t errlen);
/* Server side handshake on an accepted socket; takes ownership of fd. */
int conn_accept(struct conn *c, SSL_CTX *ctx, int fd, int timeout_ms, char *err, size_t errlen);

/* Common name of the verified peer certificate; -EACCES if absent or not a
 * valid machine name. */
int conn_peer_name(struct conn *c, char *out, size_t n);
/* SHA-256 of the verified peer certificate (DER) as 64 lowercase hex
 * digits, the form the console lists; -EACCES if there is none. */
#define CONN_FINGERPRINT_HEX 65
int conn_peer_fingerprint(struct conn *c, char out[CONN_FINGERPRINT_HEX]);

/* conn_write, conn_read, conn_read_frame: 0 or -errno; -EKEYREJECTED when
 * the peer refused our certificate with a TLS alert (TLS 1.3 clients learn
 * it only at their first read or write after the handshake), -EPIPE for
 * other TLS failures; c->tls_reason says which. */
int conn_write(struct conn *c, const void *buf, size_t len);
/* Read exactly len bytes; -ECONNRESET on EOF, -ETIMEDOUT after timeout_ms
 * without progress (negative timeout: wait forever). */
int conn_read(struct conn *c, void *buf, size_t len, int timeout_ms);
/* Read one frame into buf (FRAME_HDR_LEN + FRAME_MAX_BODY bytes) and parse it.
 * -EPROTO/-EPROTONOSUPPORT with *why set for a bad frame. */
int conn_read_frame(struct conn *c, uint8_t *buf, struct frame *f, int timeout_ms,
		    const char **why);
/* Let at most `bytes` already written wait unsent in the kernel
 * (TCP_NOTSENT_LOWAT; 0: the kernel's default, no such limit): a write
 * then waits, and what is written next leaves after little more than what
 * is in flight. 0 or -errno. */
int conn_set_unsent_limit(struct conn *c, size_t bytes);
/* Whether a read would return data without waiting. */
int conn_input_pending(struct conn *c);
/* -EKEYREJECTED (c->tls_reason set) if the peer's alert refusing our
 * certificate has already arrived, else 0; consumes no application data.
 * A TLS 1.3 client checks before its first write: once the peer has sent
 * the alert and closed, that write fails with EPIPE and the alert can no
 * longer be read. */
int conn_peer_refused(struct conn *c);

/* Wake any thread blocked on c and make further I/O fail; safe from any thread. */
void conn_shutdown(struct conn *c);
void conn_close(struct conn *c);

/* Listening socket on host:port (numeric or name). fd or -errno. */
int tcp_listen(const char *host, const char *port, char *err, size_t errlen);
/* Split "host:port" / "[v6]:port". 0 or -EINVAL. */
int split_host_port(const char *s, char *host, size_t hn, char *port, size_t pn);

#endif
