// SPDX-License-Identifier: GPL-2.0-or-later
/* A launcher child of a job (launch_child.h). */
#include "launch_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define POLL_MS 200

struct line_buf {
	char text[JOB_LINE_LEN + 1];
	size_t len;
};

static void line_emit(struct job *j, struct line_buf *lb)
{
	if (!lb->len)
		return;
	lb->text[lb->len] = '\0';
	job_log(j, "%s", lb->text);
	lb->len = 0;
}

/* Whole lines into the log; a line longer than a log line is cut in two. */
static void line_feed(struct job *j, struct line_buf *lb, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			line_emit(j, lb);
			continue;
		}
		if (data[i] == '\r')
			continue;
		if (lb->len == JOB_LINE_LEN)
			line_emit(j, lb);
		lb->text[lb->len++] = data[i];
	}
}

struct capture {
	char *buf;
	size_t len, cap;
};

static void capture_add(struct capture *c, const char *data, size_t n)
{
	if (c->len + n > CHILD_STDOUT_MAX)
		n = CHILD_STDOUT_MAX - c->len;
	if (!n)
		return;
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *nb;

		while (cap < c->len + n + 1)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return; /* what fits stays; the JSON will not parse */
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *const argv[], int out_w, int err_w, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int nul;

	setpgid(0, 0);
	/* staging killed: the launcher goes too (the thread that forked waits
	 * for it, so the signal comes only when staging itself ends) */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	/* staging blocks SIGTERM/SIGINT (signalfd) and ignores SIGPIPE; both
	 * would survive exec */
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(127);
	execve(argv[0], (char *const *)argv, environ);
	_exit(127);
}

static void read_some(struct job *j, struct pollfd *p, struct line_buf *lb, struct capture *c)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(p->fd, buf, sizeof(buf));
		if (n > 0) {
			if (lb)
				line_feed(j, lb, buf, (size_t)n);
			else
				capture_add(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			close(p->fd);
			p->fd = -1;
		}
		return;
	}
}

int child_run(struct job *j, const char *const argv[], char **out, char *err, size_t errlen)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, exited = 0, rc;
	struct pollfd fds[2];
	struct line_buf lb = { .len = 0 };
	struct capture cap = { 0 };
	time_t term_at = 0;
	pid_t pid, parent = getpid();

	if (out)
		*out = NULL;
	if (jobs_stopping()) {
		snprintf(err, errlen, "staging stopped");
		return -ECANCELED;
	}
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		rc = -errno;
		snprintf(err, errlen, "cannot make a pipe for %s: %s", argv[0], strerror(-rc));
		goto close;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, outp[1], errp[1], parent);
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-rc));
		goto close;
	}
	setpgid(pid, pid); /* as the child does: kill(-pid) works from here on */
	job_log(j, "%s %s: pid %d", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0],
		argv[1] ? argv[1] : "", (int)pid);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	fds[0] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
	outp[0] = errp[0] = -1;
	for (;;) {
		if (fds[0].fd >= 0 || fds[1].fd >= 0) {
			if (poll(fds, 2, POLL_MS) < 0 && errno != EINTR)
				break;
		} else {
			poll(NULL, 0, POLL_MS);
		}
		if (fds[0].fd >= 0 && fds[0].revents)
			read_some(j, &fds[0], NULL, &cap);
		if (fds[1].fd >= 0 && fds[1].revents)
			read_some(j, &fds[1], &lb, NULL);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			break;
		}
		if (jobs_stopping() && !term_at) {
			term_at = time(NULL);
			kill(-pid, SIGTERM);
		} else if (term_at && time(NULL) - term_at > CHILD_KILL_GRACE_S) {
			kill(-pid, SIGKILL);
		}
	}
	/* what it wrote before it ended; a daemon it left holding the pipes
	 * is not waited for */
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0) {
			read_some(j, &fds[i], i ? &lb : NULL, &cap);
			if (fds[i].fd >= 0)
				close(fds[i].fd);
		}
	line_emit(j, &lb);
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (term_at)
		rc = -ECANCELED;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = -EINTR;
	if (rc == -EINTR)
		snprintf(err, errlen, "%s was ended by signal %d", argv[0], WTERMSIG(status));
	if (out)
		*out = cap.buf;
	else
		free(cap.buf);
	return rc;
close:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}
