// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The load generator of tests/bench/scale.sh (not a test): simulated agents'
 * heartbeats, POST /api/v1/machines/ID/status with a status document shaped
 * as livemigd sends it (docs/control.md, "The status document", plus what
 * the heartbeat adds: "console", "agent_version", "identity"), over kept
 * HTTPS connections (libcurl, OpenSSL, the console's CA verified).
 *
 * Open loop: for each offered rate, heartbeat k of a thread is due at
 * t0 + k / (rate / threads), whatever the console answers; a heartbeat that
 * finds every connection of its thread busy waits for one, and its latency
 * counts from when it was due (so a slow console cannot hide its queue
 * behind a slower client). The machines are spread over the threads and
 * each thread goes round its own in turn, so each machine reports
 * rate / machines times a second: under the console's per-machine limiter
 * as long as that stays under one a second. Requests go round the consoles
 * given (--port twice: two instances on one database, as a balancer would).
 *
 *   scale_client --ca CA.pem --port P [--port P2] --machines FILE
 *                --steps 50,100,200 [--seconds 15] [--threads 4] [--conns 8]
 *                [--cpu-pid PID]... [--pg-pid POSTMASTER_PID] [--warmup 3]
 *
 * FILE: one "MACHINE_ID AGENT_SECRET" per line. Each thread connects from
 * its own loopback address (127.0.0.2, .3, ...): the console allows 32
 * connections per client address. Prints one tab-separated "step" line per
 * rate (fields named in the "fields" line printed first) and stops after a
 * step the console did not keep up with (achieved < 90 % of offered, or
 * p99 over 2 s): higher rates would only measure the queue.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scale_cpu.h"

#define PORTS_MAX  2
#define PIDS_MAX   8
#define BODY_MAX   2048
#define STEPS_MAX  32
#define REQ_TIMEOUT_S 30L

struct machine {
	char id[80];
	char auth[160]; /* the whole Authorization header */
	long seq;
};

struct slot {
	CURL *h;
	struct curl_slist *hdrs;
	char body[BODY_MAX];
	char url[192];
	double due;
	int busy;
};

struct worker {
	int idx;
	pthread_t th;
	CURLM *multi;
	struct slot *slots;
	int nslots;
	struct machine *m;
	int nm;
	int next_m;
	long next_port;
	char src[32];
	/* this step */
	double t0, tend, deadline, interval, phase;
	double *lat;
	size_t nlat, cap;
	long ok, e429, e5xx, e4xx, enet, unsent, timedout;
	double first_done, last_done; /* 0: none yet */
	char first_error[200];
};

static const char *ca_file;
static int ports[PORTS_MAX], nports;
static int nthreads = 4, conns = 8;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * n;
}

/* A status document as livemigd's heartbeat sends it, its progress moved
 * on by seq. */
static int status_doc(char *out, size_t cap, struct machine *m)
{
	const long long size = 10LL << 30;
	long long done = (m->seq * (64LL << 20)) % size;
	const char *state = m->seq % 50 < 40 ? "INITIAL_MIRROR" : "CHANGE_COPY";
	time_t now = time(NULL);
	int n;

	n = snprintf(out, cap,
		     "{\"version\":\"0.1.0\",\"machine\":\"%s\",\"state\":\"%s\",\"reason\":\"\","
		     "\"tracker\":\"kmod\",\"tracker_reason\":\"tracker = kmod: the livemig_cbt "
		     "module is loaded\",\"paused\":false,\"staging\":{\"address\":"
		     "\"staging.example:7450\",\"connected\":true,\"last_error\":\"\"},"
		     "\"throughput_bps\":%ld.5,\"wire_bps\":%ld.0,\"sent_bytes\":%lld,"
		     "\"wire_bytes\":%lld,\"rounds\":%ld,\"last_consistent_ns\":%lld,"
		     "\"lag_seconds\":1.5,\"points\":{\"available\":true,\"why_not\":\"\","
		     "\"interval_s\":600,\"made\":%ld,\"put_off\":0,\"put_off_reason\":\"\","
		     "\"pending_requests\":0,\"max_freeze_ms\":41.2,\"last\":{\"id\":%ld,"
		     "\"time_ns\":%lld,\"origin\":\"periodic\",\"consistency\":\"filesystem\","
		     "\"note\":\"\",\"freeze_ms\":38.9,\"file_systems\":2}},"
		     "\"disks\":[{\"name\":\"vda\",\"path\":\"/dev/vda\",\"size\":%lld,"
		     "\"state\":\"%s\",\"bytes_done\":%lld,\"bytes_total\":%lld,\"percent\":%.1f,"
		     "\"backlog_bytes\":4096,\"throughput_bps\":%ld.5,\"eta_seconds\":%.1f},"
		     "{\"name\":\"vdb\",\"path\":\"/dev/vdb\",\"size\":1073741824,\"state\":"
		     "\"CHANGE_COPY\",\"bytes_done\":1073741824,\"bytes_total\":1073741824,"
		     "\"percent\":100.0,\"backlog_bytes\":0,\"throughput_bps\":0.0,"
		     "\"eta_seconds\":0.0}],"
		     "\"console\":{\"url\":\"https://console.example:8443\",\"connected\":true,"
		     "\"last_ok\":%lld,\"last_error\":\"\",\"unreachable_since\":null,"
		     "\"heartbeat_interval\":10},\"identity\":\"metadata:i-%s\","
		     "\"agent_version\":\"0.1.0\"}",
		     m->id, state, 50000000 + m->seq % 1000, 20000000 + m->seq % 1000,
		     done, done / 3, m->seq / 50, (long long)now * 1000000000LL, m->seq / 60,
		     m->seq / 60 + 1, (long long)now * 1000000000LL, size, state, done, size,
		     100.0 * (double)done / (double)size, 50000000 + m->seq % 1000,
		     (double)(size - done) / 5e7, (long long)now, m->id);
	m->seq++;
	return n > 0 && (size_t)n < cap ? n : -ENOSPC;
}

static int slot_start(struct worker *w, struct slot *s, double due)
{
	struct machine *m = &w->m[w->next_m];
	int port = ports[w->next_port++ % nports];
	int n;

	w->next_m = (w->next_m + 1) % w->nm;
	n = status_doc(s->body, sizeof(s->body), m);
	if (n < 0)
		return n;
	snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%d/api/v1/machines/%s/status", port,
		 m->id);
	curl_slist_free_all(s->hdrs);
	s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	s->hdrs = curl_slist_append(s->hdrs, m->auth);
	if (!s->hdrs)
		return -ENOMEM;
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)n);
	s->due = due;
	s->busy = 1;
	return curl_multi_add_handle(w->multi, s->h) == CURLM_OK ? 0 : -EIO;
}

static void record(struct worker *w, struct slot *s, CURLcode res, double now)
{
	long code = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		w->enet++;
		if (!w->first_error[0])
			snprintf(w->first_error, sizeof(w->first_error), "curl: %s",
				 curl_easy_strerror(res));
	} else if (code == 200) {
		w->ok++;
	} else {
		if (code == 429)
			w->e429++;
		else if (code >= 500)
			w->e5xx++;
		else
			w->e4xx++;
		if (!w->first_error[0])
			snprintf(w->first_error, sizeof(w->first_error), "HTTP %ld", code);
	}
	if (w->nlat == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4096;
		double *p = realloc(w->lat, cap * sizeof(*p));

		if (!p) {
			perror("realloc");
			exit(1);
		}
		w->lat = p, w->cap = cap;
	}
	w->lat[w->nlat++] = now - s->due;
	if (!w->first_done)
		w->first_done = now;
	w->last_done = now;
	s->busy = 0;
}

static void reap(struct worker *w, double now)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < w->nslots; i++) {
			struct slot *s = &w->slots[i];

			if (s->h != msg->easy_handle)
				continue;
			curl_multi_remove_handle(w->multi, s->h);
			record(w, s, msg->data.result, now);
			break;
		}
	}
}

static void *run_step(void *arg)
{
	struct worker *w = arg;
	long due = 0, sent = 0;
	int running = 0, free_slots = w->nslots;

	for (;;) {
		double now = mono(), next;
		int wait_ms;

		curl_multi_perform(w->multi, &running);
		reap(w, mono());
		free_slots = 0;
		for (int i = 0; i < w->nslots; i++)
			free_slots += !w->slots[i].busy;
		now = mono();
		while (w->t0 + w->phase + (double)due * w->interval <= now &&
		       w->t0 + w->phase + (double)due * w->interval < w->tend)
			due++;
		for (int i = 0; i < w->nslots && sent < due; i++) {
			struct slot *s = &w->slots[i];

			if (s->busy)
				continue;
			if (slot_start(w, s, w->t0 + w->phase + (double)sent * w->interval)) {
				fprintf(stderr, "scale_client: cannot start a request\n");
				exit(1);
			}
			sent++;
			free_slots--;
		}
		if (sent != due || free_slots != w->nslots)
			curl_multi_perform(w->multi, &running);
		next = w->t0 + w->phase + (double)due * w->interval;
		if (next >= w->tend && sent == due && free_slots == w->nslots)
			break;
		if (now > w->deadline) {
			/* the console did not answer in time: stop waiting */
			for (int i = 0; i < w->nslots; i++) {
				struct slot *s = &w->slots[i];

				if (!s->busy)
					continue;
				curl_multi_remove_handle(w->multi, s->h);
				s->busy = 0;
				w->timedout++;
			}
			w->unsent += due - sent;
			break;
		}
		wait_ms = 100;
		if (next < w->tend && sent == due)
			wait_ms = (int)((next - now) * 1000.0) + 1;
		if (wait_ms > 100)
			wait_ms = 100;
		if (wait_ms < 0)
			wait_ms = 0;
		curl_multi_poll(w->multi, NULL, 0, wait_ms, NULL);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)((double)n * p + 0.999999);
	if (i < 1)
		i = 1;
	return v[(i > n ? n : i) - 1];
}

static int load_machines(const char *path, struct machine **out, int *n)
{
	FILE *f = fopen(path, "r");
	char id[80], secret[128];
	int cap = 0;

	*out = NULL;
	*n = 0;
	if (!f)
		return -errno;
	while (fscanf(f, "%79s %127s", id, secret) == 2) {
		if (*n == cap) {
			struct machine *p;

			cap = cap ? cap * 2 : 1024;
			p = realloc(*out, (size_t)cap * sizeof(**out));
			if (!p) {
				fclose(f);
				return -ENOMEM;
			}
			*out = p;
		}
		snprintf((*out)[*n].id, sizeof((*out)[*n].id), "%s", id);
		snprintf((*out)[*n].auth, sizeof((*out)[*n].auth), "Authorization: Bearer %s",
			 secret);
		(*out)[*n].seq = 0;
		(*n)++;
	}
	fclose(f);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: scale_client --ca CA.pem --port P [--port P2] --machines FILE "
			"--steps R1,R2,... [--seconds S] [--warmup S] [--threads N] [--conns N] "
			"[--cpu-pid PID]... [--pg-pid POSTMASTER_PID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "machines", required_argument, NULL, 'm' },
		{ "steps", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "threads", required_argument, NULL, 't' },
		{ "conns", required_argument, NULL, 'c' },
		{ "cpu-pid", required_argument, NULL, 'P' },
		{ "pg-pid", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mfile = NULL;
	char *steps_arg = NULL;
	double rates[STEPS_MAX], seconds = 15, warmup = 3;
	int nrates = 0, cpu_pids[PIDS_MAX], ncpu_pids = 0, pg_pid = 0, opt, nm;
	long hz = sysconf(_SC_CLK_TCK);
	struct machine *machines;
	struct worker *ws;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': ca_file = optarg; break;
		case 'p':
			if (nports == PORTS_MAX)
				usage();
			ports[nports++] = atoi(optarg);
			break;
		case 'm': mfile = optarg; break;
		case 's': steps_arg = optarg; break;
		case 'S': seconds = atof(optarg); break;
		case 'W': warmup = atof(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'P':
			if (ncpu_pids == PIDS_MAX)
				usage();
			cpu_pids[ncpu_pids++] = atoi(optarg);
			break;
		case 'G': pg_pid = atoi(optarg); break;
		default: usage();
		}
	}
	if (!ca_file || !nports || !mfile || !steps_arg || nthreads < 1 || nthreads > 200 ||
	    conns < 1 || seconds <= 0)
		usage();
	for (char *tok = strtok(steps_arg, ","); tok && nrates < STEPS_MAX; tok = strtok(NULL, ","))
		rates[nrates++] = atof(tok);
	if (load_machines(mfile, &machines, &nm) || nm < nthreads) {
		fprintf(stderr, "scale_client: %s: cannot read at least %d machines\n", mfile,
			nthreads);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	ws = calloc((size_t)nthreads, sizeof(*ws));
	if (!ws)
		return 1;
	for (int t = 0; t < nthreads; t++) {
		struct worker *w = &ws[t];
		int per = nm / nthreads;

		w->idx = t;
		w->m = machines + t * per;
		w->nm = t == nthreads - 1 ? nm - t * per : per;
		snprintf(w->src, sizeof(w->src), "127.0.0.%d", 2 + t);
		w->multi = curl_multi_init();
		w->nslots = conns * nports;
		w->slots = calloc((size_t)w->nslots, sizeof(*w->slots));
		if (!w->multi || !w->slots)
			return 1;
		curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
		curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->nslots);
		for (int i = 0; i < w->nslots; i++) {
			CURL *h = curl_easy_init();

			if (!h)
				return 1;
			curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
			curl_easy_setopt(h, CURLOPT_INTERFACE, w->src);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(h, CURLOPT_TIMEOUT, REQ_TIMEOUT_S);
			curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
			/* the console closes a connection idle for 10 s: one
			 * idle for 5 s is not reused, rather than racing the
			 * close with a request */
			curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 5L);
			w->slots[i].h = h;
		}
	}
	printf("fields\tstep\toffered_hz\tachieved_hz\tok\tp50_ms\tp90_ms\tp99_ms\tmax_ms\t"
	       "e429\te4xx\te5xx\tenet\ttimedout\tunsent\tconsole_cpu_s_per_1000\t"
	       "pg_cpu_s_per_1000\tclient_cpu_pct\tothers_cpu_pct\tload1\tfirst_error\n");
	fflush(stdout);
	for (int r = -1; r < nrates; r++) {
		double rate = r < 0 ? rates[0] : rates[r], len = r < 0 ? warmup : seconds;
		double t0, c0, c1, begin = 0, end = 0, ach, p99;
		long long con0 = 0, con1 = 0, pg0 = 0, pg1 = 0, b0, tot0, b1, tot1;
		long ok = 0, e429 = 0, e4xx = 0, e5xx = 0, enet = 0, tmo = 0, unsent = 0;
		size_t n = 0;
		double *all;
		char load[32] = "?", first[200] = "";
		FILE *lf;

		if (r < 0 && warmup <= 0)
			continue;
		for (int i = 0; i < ncpu_pids; i++)
			con0 += pid_ticks(cpu_pids[i], 0);
		pg0 = pg_pid ? pg_ticks(pg_pid) : 0;
		machine_ticks(&b0, &tot0);
		c0 = self_cpu();
		t0 = mono() + 0.05;
		for (int t = 0; t < nthreads; t++) {
			struct worker *w = &ws[t];

			w->t0 = t0;
			w->tend = t0 + len;
			w->deadline = w->tend + (len > 20 ? len : 20);
			w->interval = (double)nthreads / rate;
			w->phase = w->interval * t / nthreads;
			w->nlat = 0;
			w->ok = w->e429 = w->e4xx = w->e5xx = w->enet = w->unsent = w->timedout = 0;
			w->first_done = w->last_done = 0;
			w->first_error[0] = 0;
			if (pthread_create(&w->th, NULL, run_step, w))
				return 1;
		}
		for (int t = 0; t < nthreads; t++)
			pthread_join(ws[t].th, NULL);
		c1 = self_cpu();
		machine_ticks(&b1, &tot1);
		for (int i = 0; i < ncpu_pids; i++)
			con1 += pid_ticks(cpu_pids[i], 0);
		pg1 = pg_pid ? pg_ticks(pg_pid) : 0;
		for (int t = 0; t < nthreads; t++) {
			struct worker *w = &ws[t];

			n += w->nlat;
			ok += w->ok, e429 += w->e429, e4xx += w->e4xx, e5xx += w->e5xx;
			enet += w->enet, tmo += w->timedout, unsent += w->unsent;
			if (w->last_done > end)
				end = w->last_done;
			if (w->first_done && (!begin || w->first_done < begin))
				begin = w->first_done;
			if (!first[0] && w->first_error[0])
				snprintf(first, sizeof(first), "%s", w->first_error);
		}
		all = malloc((n ? n : 1) * sizeof(*all));
		if (!all)
			return 1;
		n = 0;
		for (int t = 0; t < nthreads; t++) {
			memcpy(all + n, ws[t].lat, ws[t].nlat * sizeof(*all));
			n += ws[t].nlat;
		}
		qsort(all, n, sizeof(*all), cmp_double);
		lf = fopen("/proc/loadavg", "r");
		if (lf) {
			if (fscanf(lf, "%31s", load) != 1)
				snprintf(load, sizeof(load), "?");
			fclose(lf);
		}
		/* the rate of answers from the first to the last: the offered
		 * rate when the console keeps up (whatever its latency), its
		 * capacity when it falls behind */
		ach = ok > 1 && end > begin ? (double)(ok - 1) / (end - begin) : 0;
		{
			double wall = mono() - t0, cpu = c1 - c0;
			double busy = (double)(b1 - b0) / (double)hz;
			double mine = cpu + (double)(con1 - con0 + pg1 - pg0) / (double)hz;
			double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
			double others = 100.0 * (busy - mine) / (wall * ncpu);

			printf("%s\t%.0f\t%.1f\t%ld\t%.1f\t%.1f\t%.1f\t%.1f\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t"
			       "%.3f\t%.3f\t%.0f\t%.0f\t%s\t%s\n",
			       r < 0 ? "warmup" : "step", rate, ach, ok, pct(all, n, 0.5) * 1e3,
			       pct(all, n, 0.9) * 1e3, pct(all, n, 0.99) * 1e3,
			       n ? all[n - 1] * 1e3 : 0.0, e429, e4xx, e5xx, enet, tmo, unsent,
			       ok ? (double)(con1 - con0) / (double)hz * 1000.0 / (double)ok : 0.0,
			       ok && pg_pid ? (double)(pg1 - pg0) / (double)hz * 1000.0 / (double)ok
					    : 0.0,
			       100.0 * cpu / wall, others < 0 ? 0 : others, load,
			       first[0] ? first : "-");
			fflush(stdout);
		}
		p99 = pct(all, n, 0.99);
		free(all);
		if (r >= 0 && (ach < 0.9 * rate || p99 > 2.0))
			break;
	}
	for (int t = 0; t < nthreads; t++) {
		for (int i = 0; i < ws[t].nslots; i++) {
			curl_slist_free_all(ws[t].slots[i].hdrs);
			curl_easy_cleanup(ws[t].slots[i].h);
		}
		curl_multi_cleanup(ws[t].multi);
		free(ws[t].slots);
		free(ws[t].lat);
	}
	free(ws);
	free(machines);
	curl_global_cleanup();
	return 0;
}
