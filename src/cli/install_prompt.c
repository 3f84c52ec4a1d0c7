// SPDX-License-Identifier: GPL-2.0-or-later
/* Terminal questions (termios for the secret ones) and secret files. */
#include "install_prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

/* A signal while the secret is being typed must not leave the terminal
 * silent for the shell that comes back. */
static void restore_on_signal(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

int prompt_tty(void)
{
	return isatty(STDIN_FILENO);
}

/* One line from fd, byte by byte (a terminal hands over whole lines anyway;
 * a file must not be read past its first line into a stdio buffer). */
static int read_line(int fd, char *out, size_t len)
{
	size_t n = 0;
	int too_long = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (n == 0 && !too_long)
				return -ENODATA;
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 < len)
			out[n++] = c;
		else
			too_long = 1;
	}
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return too_long ? -ENAMETOOLONG : 0;
}

int prompt_line(const char *prompt, int secret, char *out, size_t len)
{
	struct sigaction sa = { .sa_handler = restore_on_signal }, old_int, old_term;
	struct termios quiet;
	int rc, have_tio = secret && tcgetattr(STDIN_FILENO, &saved_tio) == 0;

	/* echo goes off before the question appears, so nothing typed in
	 * answer to it can be echoed (or flushed away) */
	if (have_tio) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		quiet = saved_tio;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		echo_off = 1;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	fputs(prompt, stdout);
	fputc(' ', stdout);
	fflush(stdout);
	rc = read_line(STDIN_FILENO, out, len);
	if (have_tio) {
		/* TCSADRAIN: keep what was typed ahead for the next question */
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		echo_off = 0;
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (rc)
		OPENSSL_cleanse(out, len);
	return rc;
}

int read_secret_file(const char *what, const char *path, char *out, size_t len, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	rc = read_line(fd, out, len);
	close(fd);
	if (rc == -ENODATA || (!rc && !out[0])) {
		snprintf(err, errlen, "%s %s is empty: its first line must hold the secret", what,
			 path);
		rc = -ENODATA;
	} else if (rc == -ENAMETOOLONG) {
		snprintf(err, errlen, "%s %s: the first line is longer than %zu characters", what,
			 path, len - 1);
	} else if (rc) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(-rc));
	}
	if (rc)
		OPENSSL_cleanse(out, len);
	return rc;
}
