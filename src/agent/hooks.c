// SPDX-License-Identifier: GPL-2.0-or-later
/* Freeze hooks: run, time out, kill. */
#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

extern char **environ;

static int hook_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* 0 when it exited 0; -1 with why set otherwise. */
static int run_one(const char *path, const char *arg, uint64_t timeout_ns, char *why, size_t n)
{
	char *argv[] = { (char *)path, (char *)arg, NULL };
	uint64_t deadline = now_mono_ns() + timeout_ns;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status = 0;

	posix_spawnattr_init(&attr);
	/* its own process group: a timeout kills whatever it started too */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		snprintf(why, n, "freeze hook %.200s %s: cannot run: %s", path, arg, strerror(rc));
		return -1;
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, n, "freeze hook %.200s %s: %s", path, arg, strerror(errno));
			return -1;
		}
		if (now_mono_ns() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, n, "freeze hook %.200s %s did not finish within %llu ms: killed",
				 path, arg, (unsigned long long)(timeout_ns / 1000000));
			return -1;
		}
		sleep_ns(5000000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(why, n, "freeze hook %.200s %s failed (exit status %d)", path, arg,
			 WEXITSTATUS(status));
	else
		snprintf(why, n, "freeze hook %.200s %s killed by signal %d", path, arg,
			 WTERMSIG(status));
	return -1;
}

int hooks_run(const char *dir, const char *arg, uint64_t timeout_ns, unsigned *count,
	      char *why, size_t whylen)
{
	struct dirent **names = NULL;
	int n, rc = 0, reverse = !strcmp(arg, "thaw");

	*count = 0;
	why[0] = '\0';
	if (!dir[0])
		return 0;
	n = scandir(dir, &names, hook_filter, alphasort);
	if (n < 0)
		return 0; /* no directory: no hooks */
	for (int k = 0; k < n; k++) {
		const struct dirent *de = names[reverse ? n - 1 - k : k];
		char path[4096], one[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || access(path, X_OK))
			continue;
		(*count)++;
		if (run_one(path, arg, timeout_ns, one, sizeof(one))) {
			log_warn("%s", one);
			if (!rc)
				snprintf(why, whylen, "%s", one);
			rc = -1;
		}
	}
	for (int k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return rc;
}
