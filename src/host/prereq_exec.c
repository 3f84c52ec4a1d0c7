// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running a program for a check (python --version, the /tmp probe script)
 * with a deadline, so that a hung binary cannot hang `livemig check` or the
 * daemon's readiness test. posix_spawn reports a failed exec as its return
 * value, which is how a noexec mount shows up: -EACCES, not an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prereq_internal.h"
#include "util.h"

extern char **environ;

/* Reap pid; kill it at the deadline (a program that closed its output but
 * keeps running must not hang the check). */
static int wait_exit(pid_t pid, uint64_t deadline)
{
	int status, killed = 0;

	for (;;) {
		pid_t got = waitpid(pid, &status, killed ? 0 : WNOHANG);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == pid)
			break;
		if (now_mono_ns() >= deadline) {
			kill(pid, SIGKILL);
			killed = 1;
			continue;
		}
		sleep_ns(5 * 1000000u);
	}
	if (killed)
		return -ETIMEDOUT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status); /* as a shell reports it */
}

int prereq_capture(char *const argv[], char *out, size_t n, int timeout_ms)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int fds[2], rc, timed_out = 0;
	pid_t pid;

	if (n)
		out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (!rc)
		rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return -rc;
	}
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		uint64_t now = now_mono_ns();
		char chunk[512];
		ssize_t got;
		int ready;

		if (now >= deadline) {
			timed_out = 1;
			break;
		}
		ready = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			continue; /* the deadline check above ends it */
		got = read(fds[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break; /* EOF: every copy of the write end is closed */
		/* keep the start, drain the rest so the child never blocks */
		for (ssize_t i = 0; i < got && n && len + 1 < n; i++)
			out[len++] = chunk[i];
		if (n)
			out[len] = '\0';
	}
	close(fds[0]);
	if (timed_out) {
		kill(pid, SIGKILL);
		wait_exit(pid, 0);
		return -ETIMEDOUT;
	}
	return wait_exit(pid, deadline);
}

int prereq_exec_status(const char *program, int timeout_ms)
{
	char *argv[] = { (char *)program, NULL };
	char sink[64];

	return prereq_capture(argv, sink, sizeof(sink), timeout_ms);
}
