// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HELD_MAX 256 /* lines kept while held; later ones are counted, not kept */

static const char *log_prog = "livemig";
static enum log_level log_max = LOG_LVL_INFO;
static int log_timestamps;

/* While held (file systems frozen: stderr may be a file on one of them),
 * lines wait in memory and go out in order at log_release(). */
static struct {
	pthread_mutex_t mu;
	int held;
	char *lines[HELD_MAX];
	unsigned n;
	unsigned long dropped;
} hold = { .mu = PTHREAD_MUTEX_INITIALIZER };

void log_init(const char *prog, enum log_level level, int timestamps)
{
	log_prog = prog;
	log_max = level;
	log_timestamps = timestamps;
}

void log_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!outlen)
		return;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		char e[5];
		size_t k = 0;

		if (*p == '\\') {
			e[k++] = '\\';
			e[k++] = '\\';
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			e[k++] = '\\';
			e[k++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			e[k++] = '\\';
			e[k++] = 'x';
			e[k++] = hex[*p >> 4];
			e[k++] = hex[*p & 15];
		} else {
			e[k++] = (char)*p;
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, e, k);
		o += k;
	}
	out[o] = '\0';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char line[1024], msg[1024];
	size_t n = 0;
	va_list ap;

	if (level > log_max)
		return;
	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: %s: ", log_prog, tag[level]);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < sizeof(line))
		log_escape(msg, line + n, sizeof(line) - n);
	pthread_mutex_lock(&hold.mu);
	if (hold.held) {
		char *copy = hold.n < HELD_MAX ? strdup(line) : NULL;

		if (copy)
			hold.lines[hold.n++] = copy;
		else
			hold.dropped++;
	} else {
		/* one write per line so threads never interleave inside a line */
		fprintf(stderr, "%s\n", line);
	}
	pthread_mutex_unlock(&hold.mu);
}

void log_hold(void)
{
	pthread_mutex_lock(&hold.mu);
	hold.held = 1;
	pthread_mutex_unlock(&hold.mu);
}

void log_release(void)
{
	pthread_mutex_lock(&hold.mu);
	for (unsigned i = 0; i < hold.n; i++) {
		fprintf(stderr, "%s\n", hold.lines[i]);
		free(hold.lines[i]);
	}
	if (hold.dropped)
		fprintf(stderr, "%s: warning: %lu log lines dropped while file systems were frozen\n",
			log_prog, hold.dropped);
	hold.n = 0;
	hold.dropped = 0;
	hold.held = 0;
	pthread_mutex_unlock(&hold.mu);
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}
