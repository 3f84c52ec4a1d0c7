#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The e2e source machine's health check, as an operator would have one
# (e2e-report.service, after PostgreSQL): one line with the facts the
# migration test checks, on the serial console (and on stdout):
#   E2E-REPORT host= count= sum= amcheck= records= marker= livemigd= dev= mac= addr=
# count: rows of pgbench_history; sum: md5 of every pgbench table in a
# fixed order; amcheck: pg_amcheck's verdict; records: the length of
# /root/records' gap-free prefix (e2e-records); marker: /root/e2e-marker's
# content or "none"; addr: ADDRESS/PREFIX/dynamic|static of the default route's device.
#   e2e-report [--stdout]    (--stdout: not on the serial console)
set -u
PGBIN=/usr/lib/postgresql/15/bin # pg_amcheck has no wrapper on PATH
SUM_SQL="SELECT md5(concat_ws('|',
	(SELECT string_agg(t::text, ',' ORDER BY aid) FROM pgbench_accounts t),
	(SELECT string_agg(t::text, ',' ORDER BY bid) FROM pgbench_branches t),
	(SELECT string_agg(t::text, ',' ORDER BY tid) FROM pgbench_tellers t),
	(SELECT string_agg(t::text, ',' ORDER BY mtime, tid, bid, aid, delta) FROM pgbench_history t)))"
q() {
	runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c "$1" 2>/dev/null
}
# bounded for a hang only: PostgreSQL may still be recovering
for _ in $(seq 900); do
	pg_isready -q && break
	sleep 1
done
count=$(q 'SELECT count(*) FROM pgbench_history') || count=error
sum=$(q "$SUM_SQL") || sum=error
if runuser -u postgres -- "$PGBIN/pg_amcheck" -d postgres >/run/e2e-amcheck.out 2>&1; then amcheck=ok; else amcheck=fail; fi
records=$(e2e-records prefix /root/records 2>&1) || records="bad:${records// /_}"
marker=$(cat /root/e2e-marker 2>/dev/null) || marker=none
livemigd=$(systemctl is-active livemigd 2>/dev/null)
dev=$(ip -o -4 route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | sed -n 1p)
mac=none
addr=none
if [ -n "$dev" ]; then
	mac=$(cat "/sys/class/net/$dev/address")
	a=$(ip -o -4 addr show dev "$dev" scope global)
	addr=$(sed -n '1{s/.* inet \([0-9./]*\) .*/\1/p}' <<<"$a")
	# from DHCP: a lifetime on the address (networkd), or dhclient's lease of it
	if grep -q ' dynamic' <<<"$a" || grep -qs "fixed-address ${addr%/*};" /var/lib/dhcp/dhclient*.leases; then
		addr+=/dynamic
	else
		addr+=/static
	fi
fi
line="E2E-REPORT host=$(hostname) count=$count sum=$sum amcheck=$amcheck records=$records marker=$marker livemigd=${livemigd:-unknown} dev=${dev:-none} mac=$mac addr=$addr"
echo "$line"
[ "${1:-}" = --stdout ] || echo "$line" >/dev/ttyS0
