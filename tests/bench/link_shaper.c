// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A slow link for the benchmarks (tests/bench/slowlink.sh), in userspace
 * because the kernels here have no netem: a TCP relay that listens on a
 * loopback port, connects every accepted connection to TARGET, and forwards
 * both directions through a model of one link. A benchmark tool, not a
 * product program.
 *
 *   link_shaper --listen PORT --target HOST:PORT --rate RATE --delay MS
 *               [--queue BYTES] [--port-file FILE]
 *
 * The model, per direction (client to target is "up", back is "down"), one
 * link shared by all connections, as a real link is:
 *   - serialisation at RATE: a chunk read from a socket leaves the link's
 *     sender when the bytes before it have left, len / RATE seconds later
 *     (a token bucket as deep as one chunk; chunks are at most 16 KiB, so
 *     1.3 ms at 100 Mbit/s, 0.13 ms at 1 Gbit/s);
 *   - propagation: it is written to the other side DELAY after it left, so
 *     a request and its answer take 2 x DELAY plus their serialisation;
 *   - a bounded queue: at most QUEUE bytes read and not yet written on per
 *     direction (default: the bandwidth-delay product RATE x 2 x DELAY plus
 *     256 KiB). When it is full the relay stops reading, the kernel's socket
 *     buffers fill and the sender is back-pressured as by a real link, not
 *     buffered without limit. The listening and outgoing sockets' buffers
 *     are set to 128 KiB so that the kernel does not add megabytes of
 *     queue of its own in front of the link;
 *   - a connection's end (FIN) travels like data: the other side sees it
 *     after the bytes before it, DELAY later.
 * What it does not model: loss, reordering, duplication, jitter, TCP's own
 * congestion control over the long path (each side's TCP talks to this
 * relay over loopback, so a flow starts at full rate, with no slow start
 * across the delay), nor MTU or per-packet overhead (RATE is payload
 * bytes). Latency is therefore a lower bound of a real link's and
 * throughput an upper bound.
 *
 * RATE: bytes per second, or with a suffix kbit, mbit or gbit (10^3, 10^6,
 * 10^9 bits per second, as tc writes them). MS may have a fraction. On
 * SIGTERM or SIGINT it prints the bytes relayed each way and how busy the up
 * link was (also on SIGUSR1, going on) and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX (16 * 1024)
#define MAX_CONNS 64
#define SOCK_BUF  (128 * 1024)

struct chunk {
	struct chunk *next;
	int64_t due_ns; /* when it reaches the other side */
	size_t len, off; /* len 0: the end of the stream (FIN) */
	unsigned char data[];
};

struct link { /* one direction, shared by every connection */
	double rate; /* bytes per second */
	int64_t delay_ns;
	int64_t free_ns; /* when the link's sender is free again */
	size_t queued, limit;
	uint64_t relayed;
	/* how well the link was kept busy, from its first byte to its last:
	 * the time its sender had nothing to send (gaps of IDLE_GAP_NS or more
	 * counted apart, and listed in --gaps FILE for the up direction) */
	int64_t first_ns;
	int64_t idle_ns;
	unsigned gaps;
	int64_t longest_gap_ns;
	uint64_t enqueued;
	FILE *gap_log;
};

#define IDLE_GAP_NS 2000000 /* 2 ms: 25 KB at 100 Mbit/s */

struct pipe_dir { /* one direction of one connection */
	int from, to;
	struct link *link;
	struct chunk *head, *tail;
	bool read_eof; /* FIN queued */
	bool done; /* FIN passed on */
};

struct conn {
	int fd[2]; /* client, target */
	struct pipe_dir dir[2]; /* up: client to target; down: back */
};

static volatile sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

/* How busy the up link was so far: what a benchmark reads at the moment its
 * copy ends (SIGUSR1), since later traffic would count its pauses as idle. */
static void print_busy(const struct link *l)
{
	printf("up link: busy %.3f s, idle %.3f s of it (%u gaps of 2 ms or more, the longest %.1f ms)\n",
	       (double)(l->free_ns - l->first_ns) / 1e9, (double)l->idle_ns / 1e9, l->gaps,
	       (double)l->longest_gap_ns / 1e6);
	fflush(stdout);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: link_shaper --listen PORT --target HOST:PORT --rate RATE --delay MS\n"
		"                   [--queue BYTES] [--port-file FILE] [--gaps FILE]\n"
		"A TCP relay on 127.0.0.1:PORT (0: any free port) to HOST:PORT through a\n"
		"link of RATE (bytes/s, or N kbit|mbit|gbit) with a one-way delay of MS\n"
		"milliseconds each way and a queue of BYTES per direction (default: RATE x\n"
		"2 x DELAY + 256 KiB). Benchmarks only: no loss, no reordering.\n"
		"  --port-file FILE  write the port listened on to FILE once listening\n"
		"  --gaps FILE       list the up link's idle gaps of 2 ms or more in FILE:\n"
		"                    ms since its first byte, the gap's ms, bytes sent before\n"
		"  --help            this text\n");
}

/* RATE in bytes per second; 0 if it does not parse */
static double parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return 0;
	if (*end == '\0')
		return v;
	if (!strcasecmp(end, "kbit"))
		return v * 1e3 / 8;
	if (!strcasecmp(end, "mbit"))
		return v * 1e6 / 8;
	if (!strcasecmp(end, "gbit"))
		return v * 1e9 / 8;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_bufs(int fd)
{
	int sz = SOCK_BUF, one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* before listen: accepted sockets inherit it, with the window scale it implies */
	set_bufs(fd);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    set_nonblock(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* a blocking connect: the target is on this host, it answers at once */
static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		set_bufs(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 && set_nonblock(fd) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Puts LEN bytes (0: the stream's end) on D's link: it leaves when the link
 * is free, after len / rate, and arrives DELAY later. */
static int enqueue(struct pipe_dir *d, const void *buf, size_t len, int64_t now)
{
	struct link *l = d->link;
	struct chunk *c = malloc(sizeof(*c) + len);

	if (!c)
		return -1;
	memcpy(c->data, buf, len);
	c->len = len;
	c->off = 0;
	c->next = NULL;
	if (len && !l->first_ns)
		l->first_ns = l->free_ns = now;
	if (len && l->free_ns < now) {
		int64_t gap = now - l->free_ns;

		l->idle_ns += gap;
		if (gap >= IDLE_GAP_NS) {
			l->gaps++;
			if (l->gap_log)
				fprintf(l->gap_log, "%.3f %.3f %llu\n", (double)(l->free_ns - l->first_ns) / 1e6,
					(double)gap / 1e6, (unsigned long long)l->enqueued);
		}
		if (gap > l->longest_gap_ns)
			l->longest_gap_ns = gap;
	}
	if (l->free_ns < now)
		l->free_ns = now;
	l->enqueued += len;
	l->free_ns += (int64_t)((double)len / l->rate * 1e9);
	c->due_ns = l->free_ns + l->delay_ns;
	l->queued += len;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	return 0;
}

/* Reads what the link's queue has room for. -1: the connection is broken. */
static int pull(struct pipe_dir *d, int64_t now)
{
	unsigned char buf[CHUNK_MAX];
	size_t room = d->link->limit - d->link->queued;
	ssize_t n;

	if (room == 0) /* woken by a hang-up or an error while full: read later */
		return 0;
	n = read(d->from, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		d->read_eof = true;
	return enqueue(d, buf, (size_t)n, now);
}

/* Writes on what has arrived. -1: the connection is broken. */
static int push(struct pipe_dir *d, int64_t now)
{
	while (d->head && d->head->due_ns <= now) {
		struct chunk *c = d->head;

		if (c->len == 0) {
			shutdown(d->to, SHUT_WR);
			d->done = true;
		} else {
			ssize_t n = write(d->to, c->data + c->off, c->len - c->off);

			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			c->off += (size_t)n;
			d->link->queued -= (size_t)n;
			d->link->relayed += (uint64_t)n;
			if (c->off < c->len)
				return 0;
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct pipe_dir *d = &c->dir[i];

		while (d->head) {
			struct chunk *next = d->head->next;

			d->link->queued -= d->head->len - d->head->off;
			free(d->head);
			d->head = next;
		}
		close(c->fd[i]);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "target", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },   { "delay", required_argument, NULL, 'd' },
		{ "queue", required_argument, NULL, 'q' },  { "port-file", required_argument, NULL, 'p' },
		{ "gaps", required_argument, NULL, 'g' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct link links[2] = { 0 };
	struct conn conns[MAX_CONNS];
	int nconns = 0, port = -1, opt, lfd;
	char *target = NULL, *tport;
	const char *port_file = NULL, *gap_file = NULL;
	double rate = 0, delay_ms = -1, queue = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': port = atoi(optarg); break;
		case 't': target = optarg; break;
		case 'r': rate = parse_rate(optarg); break;
		case 'd': delay_ms = atof(optarg); break;
		case 'q': queue = atof(optarg); break;
		case 'p': port_file = optarg; break;
		case 'g': gap_file = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	tport = target ? strrchr(target, ':') : NULL;
	if (optind != argc || port < 0 || !tport || rate <= 0 || delay_ms < 0) {
		usage(stderr);
		return 2;
	}
	*tport++ = '\0';
	if (queue <= 0)
		queue = rate * 2 * delay_ms / 1e3 + 256 * 1024;
	for (int i = 0; i < 2; i++) {
		links[i].rate = rate;
		links[i].delay_ns = (int64_t)(delay_ms * 1e6);
		links[i].limit = (size_t)queue;
	}
	if (gap_file) {
		links[0].gap_log = fopen(gap_file, "w");
		if (!links[0].gap_log) {
			perror("link_shaper: gaps file");
			return 1;
		}
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* delivered only inside ppoll: no lost wake-up between the check and the wait */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &unblocked);

	lfd = listen_on(port);
	if (lfd < 0) {
		perror("link_shaper: listen");
		return 1;
	}
	if (port_file) {
		struct sockaddr_in a;
		socklen_t alen = sizeof(a);
		FILE *f;

		getsockname(lfd, (struct sockaddr *)&a, &alen);
		f = fopen(port_file, "w");
		if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0) {
			perror("link_shaper: port file");
			return 1;
		}
	}

	while (!stop) {
		struct pollfd pfd[1 + 2 * MAX_CONNS];

		if (report) {
			report = 0;
			print_busy(&links[0]);
		}
		int64_t now = now_ns(), wake = INT64_MAX;
		int n = 1;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = nconns < MAX_CONNS ? POLLIN : 0 };
		for (int i = 0; i < nconns; i++) {
			for (int k = 0; k < 2; k++) /* fd k reads direction k, writes direction 1-k */
				pfd[n + k] = (struct pollfd){ .fd = conns[i].fd[k] };
			for (int k = 0; k < 2; k++) {
				struct pipe_dir *d = &conns[i].dir[k];

				if (!d->read_eof && d->link->queued < d->link->limit)
					pfd[n + k].events |= POLLIN;
				if (d->head && d->head->due_ns <= now)
					pfd[n + 1 - k].events |= POLLOUT;
				else if (d->head && d->head->due_ns < wake)
					wake = d->head->due_ns;
			}
			for (int k = 0; k < 2; k++) /* nothing wanted: not woken by a hang-up either */
				if (!pfd[n + k].events)
					pfd[n + k].fd = -1;
			n += 2;
		}
		struct timespec ts, *tsp = NULL;

		if (wake != INT64_MAX) {
			int64_t wait = wake > now ? wake - now : 0;

			ts = (struct timespec){ .tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000 };
			tsp = &ts;
		}
		if (ppoll(pfd, (nfds_t)n, tsp, &unblocked) < 0 && errno != EINTR) {
			perror("link_shaper: ppoll");
			return 1;
		}
		now = now_ns();
		for (int i = nconns - 1; i >= 0; i--) {
			struct conn *c = &conns[i];
			struct pollfd *p = &pfd[1 + 2 * i];
			bool broken = false;

			for (int k = 0; k < 2 && !broken; k++) {
				if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
					broken = c->dir[k].read_eof ? false : pull(&c->dir[k], now) < 0;
				if (!broken)
					broken = push(&c->dir[k], now) < 0;
			}
			if (broken || (c->dir[0].done && c->dir[1].done)) {
				conn_close(c);
				*c = conns[--nconns];
			}
		}
		if (pfd[0].revents & POLLIN) {
			int cfd = accept(lfd, NULL, NULL), tfd;

			if (cfd >= 0) {
				tfd = connect_to(target, tport);
				if (tfd < 0 || set_nonblock(cfd) < 0) {
					fprintf(stderr, "link_shaper: cannot connect to %s:%s\n", target, tport);
					close(cfd);
					if (tfd >= 0)
						close(tfd);
				} else {
					struct conn *c = &conns[nconns++];

					*c = (struct conn){ .fd = { cfd, tfd } };
					c->dir[0] = (struct pipe_dir){ .from = cfd, .to = tfd, .link = &links[0] };
					c->dir[1] = (struct pipe_dir){ .from = tfd, .to = cfd, .link = &links[1] };
				}
			}
		}
	}
	printf("relayed up %llu bytes, down %llu bytes\n", (unsigned long long)links[0].relayed,
	       (unsigned long long)links[1].relayed);
	print_busy(&links[0]);
	if (links[0].gap_log)
		fclose(links[0].gap_log);
	return 0;
}
