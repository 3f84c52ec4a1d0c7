// SPDX-License-Identifier: GPL-2.0-or-later

#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "session.h"
#include "stats.h"
#include "util.h"

#define STOP_GRACE_MS 10000 /* sessions finish their frame and leave within this */
#define ABORT_WAIT_MS 5000  /* then their I/O is cut and they get this long */

static atomic_int stopping;

/* The live sessions, so a shutdown can reach them. A session is freed only
 * after leaving its slot, and is only signalled from here under slots_mu. */
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_cv = PTHREAD_COND_INITIALIZER;
static struct session *slots[SERVER_MAX_CONNS + SERVER_PREAUTH_MAX];
static unsigned active;         /* threads, in their handshake or not */
static unsigned authenticated;  /* of those, past the handshake */
/* the address of each connection in its handshake ("" when free) */
static char preauth_addr[SERVER_PREAUTH_MAX][NI_MAXHOST];

unsigned server_sessions(void)
{
	unsigned n;

	pthread_mutex_lock(&slots_mu);
	n = authenticated;
	pthread_mutex_unlock(&slots_mu);
	return n;
}

int server_stopping(void)
{
	return atomic_load(&stopping);
}

#define NSLOTS (SERVER_MAX_CONNS + SERVER_PREAUTH_MAX)

struct worker_arg {
	struct session *s;
	unsigned slot;
	unsigned preauth; /* its place in preauth_addr */
};

/* After the handshake (under slots_mu): leave the unauthenticated places;
 * 0 when an authenticated place was free and is now taken. */
static int authenticate(const struct worker_arg *a, int handshake_ok)
{
	int rc = -EBUSY;

	pthread_mutex_lock(&slots_mu);
	preauth_addr[a->preauth][0] = '\0';
	if (handshake_ok && authenticated < SERVER_MAX_CONNS) {
		authenticated++;
		rc = 0;
	}
	pthread_mutex_unlock(&slots_mu);
	return rc;
}

static void *worker(void *p)
{
	struct worker_arg a = *(struct worker_arg *)p;

	int hs, authed;

	free(p);
	hs = session_handshake(a.s);
	authed = !authenticate(&a, !hs);
	if (authed)
		session_run(a.s);
	else
		stats_refused();
	if (!authed && !hs)
		log_warn("closing a connection: %u sessions already open", SERVER_MAX_CONNS);
	pthread_mutex_lock(&slots_mu);
	slots[a.slot] = NULL;
	if (authed)
		authenticated--;
	pthread_mutex_unlock(&slots_mu);
	/* freed before it stops counting, so a shutdown waits for the free */
	session_free(a.s);
	/* OpenSSL's per-thread state (its random generators) would otherwise be
	 * freed by a thread-exit destructor that may run after the process has
	 * decided to exit */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&slots_mu);
	active--;
	pthread_cond_broadcast(&slots_cv);
	pthread_mutex_unlock(&slots_mu);
	return NULL;
}

/* "HOST:PORT" into out, and HOST alone into host (NI_MAXHOST bytes). */
static void format_addr(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t n,
			char *host)
{
	char port[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)sa, len, host, NI_MAXHOST, port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(out, n, "?");
		snprintf(host, NI_MAXHOST, "?");
		return;
	}
	snprintf(out, n, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
}

/* A free unauthenticated place for host (under slots_mu), or -1 with why. */
static int preauth_place(const char *host, const char **why)
{
	unsigned same = 0;
	int free_place = -1;

	for (int i = 0; i < SERVER_PREAUTH_MAX; i++) {
		if (!preauth_addr[i][0]) {
			if (free_place < 0)
				free_place = i;
		} else if (!strcmp(preauth_addr[i], host)) {
			same++;
		}
	}
	if (same >= SERVER_PREAUTH_PER_ADDR) {
		*why = "connections from this address are already in their TLS handshake";
		return -1;
	}
	if (free_place < 0)
		*why = "connections are already in their TLS handshake";
	return free_place;
}

/* Start a thread for a new connection, or refuse it when full. */
static void admit(const struct staging_config *cfg, int fd, const char *addr, const char *host)
{
	const char *why = NULL;
	struct worker_arg *a;
	pthread_attr_t attr;
	struct session *s;
	unsigned slot;
	int place;

	pthread_mutex_lock(&slots_mu);
	place = preauth_place(host, &why);
	if (place < 0 || active >= NSLOTS) {
		pthread_mutex_unlock(&slots_mu);
		/* at debug level: a flood would otherwise write the log full */
		stats_refused();
		log_debug("refusing connection from %s: %s", addr,
			  why ? why : "every place is taken");
		close(fd);
		return;
	}
	for (slot = 0; slots[slot]; slot++)
		;
	s = session_new(cfg, fd, addr);
	a = s ? malloc(sizeof(*a)) : NULL;
	if (!a) {
		pthread_mutex_unlock(&slots_mu);
		log_error("refusing connection from %s: out of memory", addr);
		session_free(s);
		return;
	}
	a->s = s;
	a->slot = slot;
	a->preauth = (unsigned)place;
	snprintf(preauth_addr[place], sizeof(preauth_addr[place]), "%s", host);
	slots[slot] = s;
	active++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	{
		pthread_t t;
		int rc = pthread_create(&t, &attr, worker, a);

		if (rc) {
			slots[slot] = NULL;
			preauth_addr[place][0] = '\0';
			active--;
			free(a);
			session_free(s);
			log_error("refusing connection from %s: cannot start a thread: %s", addr,
				  strerror(rc));
		}
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&slots_mu);
}

/* Wait (slots_mu held) until no session is left or ms have passed. */
static int wait_sessions(int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (active)
		if (pthread_cond_timedwait(&slots_cv, &slots_mu, &until) == ETIMEDOUT)
			break;
	return active ? -ETIMEDOUT : 0;
}

static void stop_sessions(void)
{
	atomic_store(&stopping, 1);
	pthread_mutex_lock(&slots_mu);
	if (active)
		log_info("shutting down: letting %u connection%s finish", active,
			 active == 1 ? "" : "s");
	for (unsigned i = 0; i < NSLOTS; i++)
		if (slots[i])
			session_wake(slots[i]);
	if (wait_sessions(STOP_GRACE_MS)) {
		log_warn("shutting down: cutting off %u connection%s still busy", active,
			 active == 1 ? "" : "s");
		for (unsigned i = 0; i < NSLOTS; i++)
			if (slots[i])
				session_abort(slots[i]);
		if (wait_sessions(ABORT_WAIT_MS))
			log_warn("shutting down with %u connection%s still open", active,
				 active == 1 ? "" : "s");
	}
	pthread_mutex_unlock(&slots_mu);
}

int server_run(const struct staging_config *cfg, int listen_fd, int signal_fd)
{
	int rc = 0;

	for (;;) {
		struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN },
				       { .fd = signal_fd, .events = POLLIN } };
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		char addr[80], host[NI_MAXHOST];
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				log_info("received %s, shutting down", strsignal((int)si.ssi_signo));
			break;
		}
		if (!p[0].revents)
			continue;
		fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_error("cannot accept connections: %s", strerror(errno));
				sleep_ns(100000000u); /* let sessions end before trying again */
			}
			continue;
		}
		format_addr(&sa, sl, addr, sizeof(addr), host);
		admit(cfg, fd, addr, host);
	}
	close(listen_fd);
	stop_sessions();
	return rc;
}
