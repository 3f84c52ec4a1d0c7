#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The e2e source machine's freeze hook (in /etc/livemig/freeze-hooks.d/, as
# an operator installs one): at `freeze`, before livemigd takes the point's
# time and freezes the file systems, it counts the pgbench transactions
# PostgreSQL shows as committed. Each of them committed before the freeze,
# so a point must hold at least that many rows: a witness that needs no
# clock but livemigd's own (pgbench stamps its log with CLOCK_MONOTONIC
# plus an offset it takes once, livemigd the point with CLOCK_REALTIME).
# One line on stdout, which livemigd's journal keeps:
#   E2E-WITNESS count=N at=REALTIME_NS
# (psql as root: the test made a role root that may read pgbench_history.)
[ "$1" = freeze ] || exit 0
n=$(psql -XAtq -d postgres -c 'SELECT count(*) FROM pgbench_history') || exit 1
echo "E2E-WITNESS count=$n at=$(date +%s%N)"
