// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CPU accounting of tests/bench/scale.sh's client (scale_client.c): the
 * console's and PostgreSQL's CPU time from /proc, the client's own, and
 * the whole machine's busy time, read around each step.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "scale_cpu.h"

/* The fields of /proc/PID/stat after the command's closing ") ", into buf;
 * NULL when the process is gone. */
static const char *stat_fields(int pid, char *buf, size_t len)
{
	char path[64], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p + 2 : NULL;
}

/* CPU ticks (user + system) of a process; with its reaped children's too
 * when children is set (a postmaster's exited backends). -1: gone. */
long long pid_ticks(int pid, int children)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	unsigned long long ut, st;
	long long cut, cst;

	/* state(3) ... utime(14) stime(15) cutime(16) cstime(17) */
	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
			 &ut, &st, &cut, &cst) != 4)
		return -1;
	return (long long)(ut + st) + (children ? cut + cst : 0);
}

static int pid_ppid(int pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	int ppid = -1;

	if (!p || sscanf(p, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* A PostgreSQL server's CPU ticks: the postmaster, its live children
 * (backends, checkpointer, WAL writer...) and the children it reaped. */
long long pg_ticks(int postmaster)
{
	long long sum = pid_ticks(postmaster, 1);
	struct dirent *d;
	DIR *dir;

	if (sum < 0)
		return -1;
	dir = opendir("/proc");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		long long t;
		int pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = atoi(d->d_name);
		if (pid_ppid(pid) != postmaster)
			continue;
		t = pid_ticks(pid, 0);
		if (t > 0)
			sum += t;
	}
	closedir(dir);
	return sum;
}

double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* /proc/stat's busy and total ticks of all CPUs */
void machine_ticks(long long *busy, long long *total)
{
	long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	*busy = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];
	}
	fclose(f);
}
