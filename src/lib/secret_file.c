// SPDX-License-Identifier: GPL-2.0-or-later
/* Secrets read from owner-only files (secret_file.h). */
#include "secret_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_MAX 4096

/* The file is this process's user's. Root with a group of its own stands in
 * for a service account (a unit's User=root beside its Group=, as
 * livemig-launch's drop-in runs staging): that account's files, whose group
 * is the process's group, are its own too, so the same files serve the
 * service whichever user runs it. */
static int owner_ok(const struct stat *st)
{
	if (st->st_uid == geteuid())
		return 1;
	return geteuid() == 0 && getegid() != 0 && st->st_gid == getegid();
}

int secret_file_read(const char *what, const char *kind, const char *path, size_t max,
		     char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[READ_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	if (outlen)
		out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return rc;
	}
	/* checked on the open file, so a rename in between cannot fool it */
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
		rc = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s %s has mode %04o: group or others can read the %s, so it is refused; "
			 "run chmod 600 %s (and get a new secret if someone may have read it)",
			 what, path, (unsigned)(st.st_mode & 07777), kind, path);
		rc = -EPERM;
		goto out;
	}
	if (!owner_ok(&st)) {
		snprintf(err, errlen, "%s %s belongs to uid %u, not to this program's user "
			 "(uid %u%s): refused; chown it", what, path, (unsigned)st.st_uid,
			 (unsigned)geteuid(), geteuid() == 0 && getegid() != 0 ? ", or its group's" : "");
		rc = -EPERM;
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)buf[i]))
			n = 0;
	if (n == 0 || (size_t)n > max || (size_t)n >= outlen) {
		snprintf(err, errlen, "%s %s holds no %s (1 to %zu printable characters expected)",
			 what, path, kind, max);
		rc = -EINVAL;
		goto out;
	}
	memcpy(out, buf, (size_t)n + 1);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}
