// SPDX-License-Identifier: GPL-2.0-or-later
/* livemigd under systemd, or detached with a pid file. */
#include "install_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "atomic_file.h"
#include "control_client.h"
#include "install.h"
#include "util.h"

#define START_TIMEOUT_S 30 /* an ASan build with a slow disk takes a few seconds */
#define STOP_TIMEOUT_S 30

/* the packaged unit (livemig-agent); absent after `make install`, and during
 * a package purge, whose unit file is already gone when it deregisters */
static int unit_installed(void)
{
	static const char *const dirs[] = { "/etc/systemd/system", "/lib/systemd/system",
					    "/usr/lib/systemd/system" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/livemigd.service", dirs[i]);
		if (access(path, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* systemd's unit reads the packaged path only: another --config-dir gets a
 * detached daemon even where systemd runs. */
static int systemd_in_charge(const char *conf)
{
	return access("/run/systemd/system", F_OK) == 0 &&
	       !strcmp(conf, INSTALL_DEFAULT_CONFIG_DIR "/livemigd.conf") && unit_installed();
}

static int systemctl(const char *const argv[], char *msg, size_t msglen)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp("systemctl", (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(msg, msglen, "`systemctl %s %s %s` failed (see `systemctl status livemigd` and "
			      "`journalctl -u livemigd`)", argv[1], argv[2], argv[3] ? argv[3] : "");
	return -ECHILD;
}

static int answering(const char *socket)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *reply = NULL;
	char err[256];
	int rc = req ? control_call(socket, req, 1000, &reply, err, sizeof(err)) : -ENOMEM;

	json_decref(req);
	json_decref(reply);
	return rc == 0;
}

static void pid_path(const struct daemon_ctl *d, char *out, size_t len)
{
	snprintf(out, len, "%s/livemigd.pid", d->state_dir);
}

/* The pid in the pid file if that process is a live livemigd, else 0. A
 * zombie is not live: whoever reaps it may be slow. */
static pid_t running_pid(const struct daemon_ctl *d)
{
	char path[PATH_MAX], *text = NULL, comm[32] = "", state = 0;
	size_t len;
	long pid;
	FILE *f;

	pid_path(d, path, sizeof(path));
	if (read_small_file(path, &text, &len, 64))
		return 0;
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "PID (COMM) STATE ...": livemigd's name has no ')' in it */
	if (fscanf(f, "%*d (%31[^)]) %c", comm, &state) != 2)
		state = 0;
	fclose(f);
	return strcmp(comm, "livemigd") || state == 'Z' || state == 'X' ? 0 : (pid_t)pid;
}

/* livemigd next to this program, in ../sbin beside it (make install), or
 * in PATH. */
static void find_livemigd(char *out, size_t len)
{
	char self[PATH_MAX - 32], *slash; /* room for the names below */
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(out, len, "%s/livemigd", self);
		if (access(out, X_OK) == 0)
			return;
		snprintf(out, len, "%s/../sbin/livemigd", self);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "livemigd");
}

/* The log's last line (its error, for a daemon that exited at once). */
static void log_tail(const char *log, char *out, size_t len)
{
	char *text = NULL, *start;
	size_t n;

	out[0] = '\0';
	if (read_small_file(log, &text, &n, 1u << 20))
		return;
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	start = strrchr(text, '\n');
	snprintf(out, len, "%s", start ? start + 1 : text);
	free(text);
}

static void child(const char *exe, const char *conf, const char *log)
{
	int fd;

	/* its own session: no terminal, no signals from the installer's shell */
	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	close_range(3, ~0u, 0);
	if (strchr(exe, '/'))
		execl(exe, "livemigd", "-c", conf, (char *)NULL);
	else
		execlp(exe, "livemigd", "-c", conf, (char *)NULL);
	dprintf(STDERR_FILENO, "livemig: cannot run %s: %s\n", exe, strerror(errno));
	_exit(127);
}

static int start_detached(const struct daemon_ctl *d, char *msg, size_t msglen)
{
	char exe[PATH_MAX], log[PATH_MAX], pidf[PATH_MAX], pidtext[32], tail[400];
	int status, rc;
	pid_t pid;

	find_livemigd(exe, sizeof(exe));
	snprintf(log, sizeof(log), "%s/livemigd.log", d->state_dir);
	pid_path(d, pidf, sizeof(pidf));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(msg, msglen, "fork: %s", strerror(-rc));
		return rc;
	}
	if (pid == 0)
		child(exe, d->conf, log);
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
	rc = atomic_write_file(pidf, pidtext, strlen(pidtext), 0644);
	if (rc) {
		kill(pid, SIGTERM);
		snprintf(msg, msglen, "cannot write %s: %s", pidf, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < START_TIMEOUT_S * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			log_tail(log, tail, sizeof(tail));
			unlink(pidf);
			snprintf(msg, msglen, "livemigd exited at once (%s %d): %s", 
				 WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 tail[0] ? tail : "no output");
			return -ECHILD;
		}
		if (answering(d->socket)) {
			snprintf(msg, msglen, "pid %d, log %s", (int)pid, log);
			return 0;
		}
		usleep(100000);
	}
	snprintf(msg, msglen, "livemigd (pid %d) does not answer on %s after %d s; see %s",
		 (int)pid, d->socket, START_TIMEOUT_S, log);
	return -ETIMEDOUT;
}

int daemon_start(const struct daemon_ctl *d, char *msg, size_t msglen)
{
	static const char *const enable[] = { "systemctl", "enable", "--now", "livemigd", NULL };
	pid_t pid;

	if (systemd_in_charge(d->conf)) {
		int rc = systemctl(enable, msg, msglen);

		if (!rc)
			snprintf(msg, msglen, "systemd unit livemigd, enabled");
		return rc;
	}
	if ((pid = running_pid(d))) {
		snprintf(msg, msglen, "livemigd already runs (pid %d)", (int)pid);
		return -EALREADY;
	}
	if (answering(d->socket)) {
		snprintf(msg, msglen, "a livemigd already answers on %s", d->socket);
		return -EALREADY;
	}
	return start_detached(d, msg, msglen);
}

int daemon_stop(const struct daemon_ctl *d, char *msg, size_t msglen)
{
	static const char *const disable[] = { "systemctl", "disable", "--now", "livemigd", NULL };
	char pidf[PATH_MAX];
	pid_t pid;

	if (systemd_in_charge(d->conf)) {
		int rc = systemctl(disable, msg, msglen);

		if (!rc)
			snprintf(msg, msglen, "systemd unit livemigd stopped and disabled");
		return rc;
	}
	pid_path(d, pidf, sizeof(pidf));
	pid = running_pid(d);
	if (!pid) {
		unlink(pidf);
		if (answering(d->socket)) {
			snprintf(msg, msglen, "a livemigd answers on %s but livemig did not start it "
					      "(no live pid in %s): stop it the way it was started",
				 d->socket, pidf);
			return -EBUSY;
		}
		snprintf(msg, msglen, "livemigd was not running");
		return 0;
	}
	if (kill(pid, SIGTERM) && errno != ESRCH) {
		int rc = -errno;

		snprintf(msg, msglen, "cannot stop livemigd (pid %d): %s", (int)pid, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < STOP_TIMEOUT_S * 10 && running_pid(d) == pid; i++)
		usleep(100000);
	if (running_pid(d) == pid) {
		/* it checkpoints on SIGTERM; one that hangs longer is stuck */
		kill(pid, SIGKILL);
		snprintf(msg, msglen, "livemigd (pid %d) did not stop within %d s: killed", (int)pid,
			 STOP_TIMEOUT_S);
	} else {
		snprintf(msg, msglen, "livemigd (pid %d) stopped", (int)pid);
	}
	unlink(pidf);
	return 0;
}
