/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU accounting of the scale bench's client (scale_cpu.c). */
#ifndef LIVEMIG_BENCH_SCALE_CPU_H
#define LIVEMIG_BENCH_SCALE_CPU_H

/* CPU ticks (user + system) of process pid, with its reaped children's
 * when children is set; -1 when it is gone */
long long pid_ticks(int pid, int children);
/* a PostgreSQL server's ticks: the postmaster, its live and reaped children */
long long pg_ticks(int postmaster);
/* this process's CPU seconds */
double self_cpu(void);
/* /proc/stat: busy and total ticks of all CPUs */
void machine_ticks(long long *busy, long long *total);

#endif
