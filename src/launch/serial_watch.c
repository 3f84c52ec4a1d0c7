// SPDX-License-Identifier: GPL-2.0-or-later
/* Boot verification from the serial log: the first-boot unit's marker, or
 * the messages that say a boot cannot go on. Polls the file (qemu or
 * virtlogd appends to it); never judges by elapsed time alone except at the
 * bound. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "launcher.h"
#include "util.h"

#define TAIL_LINES 20

/* a boot that reached one of these will not reach multi-user by itself */
static const char *const fatal[] = { "Kernel panic", "Dropping to a shell", "Gave up waiting for root",
				     "You are in emergency mode", "No bootable device",
				     "grub rescue>", NULL };

/* The serial log so far, NUL bytes (a guest's console may print them) made
 * spaces so that the searches below see past them; NULL if unreadable. */
static char *read_all(const char *path)
{
	char *text = NULL;
	size_t len = 0;

	if (read_small_file(path, &text, &len, 256u << 20))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!text[i])
			text[i] = ' ';
	return text;
}

static char *tail_of(const char *text)
{
	const char *p;
	int n = 0;

	if (!text)
		return strdup("");
	p = text + strlen(text);
	while (p > text && (p[-1] == '\n' || p[-1] == '\r'))
		p--;
	while (p > text) {
		if (p[-1] == '\n' && ++n == TAIL_LINES)
			break;
		p--;
	}
	return strdup(p);
}

static char *line_at(const char *text, const char *hit)
{
	const char *start = hit, *end = hit + strcspn(hit, "\r\n");

	while (start > text && start[-1] != '\n')
		start--;
	return strndup(start, (size_t)(end - start));
}

int serial_watch(const char *log, const char *marker, uint64_t timeout_s, int (*alive)(void *), void *arg,
		 char **line, char **tail)
{
	uint64_t deadline = now_mono_ns() + timeout_s * 1000000000ull;
	char *text = NULL;
	int rc;

	*line = NULL;
	for (;;) {
		const char *hit;

		free(text);
		text = read_all(log);
		if (text && (hit = strstr(text, marker)) && strchr(hit, '\n')) {
			/* from the marker on: not the terminal's escapes before it */
			*line = strndup(hit, strcspn(hit, "\r\n"));
			rc = strstr(*line, " result=up ") ? 0 : -ENETUNREACH;
			break;
		}
		/* the first such message says why; what follows is its consequence */
		hit = NULL;
		for (const char *const *f = fatal; text && *f; f++) {
			const char *h = strstr(text, *f);

			if (h && (!hit || h < hit))
				hit = h;
		}
		if (hit) {
			*line = line_at(text, hit);
			rc = -EIO;
			break;
		}
		if (alive && !alive(arg)) {
			rc = -ECHILD;
			break;
		}
		if (now_mono_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		sleep_ns(1000000000ull);
	}
	*tail = tail_of(text);
	free(text);
	return rc;
}
