#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bandwidth limit holds within 10% on the wire, measured in steady state
# over incompressible data (which compression cannot shrink below the limit).
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

limit_mib=12
start_staging
python3 "$TESTS/make_disk.py" "$T/rand.img" 128M --zeros 0 --files 0 --random 1 --seed 3
dev=$(make_loop "$T/rand.img")
write_agent_config bw "$dev" -- "bandwidth_limit = ${limit_mib}M"
start_agent bw
wait_status "s['wire_bytes'] > 8 * 2**20" 30
b0=$(status_get "s['wire_bytes']")
t0=$(date +%s.%N)
sleep 5
b1=$(status_get "s['wire_bytes']")
t1=$(date +%s.%N)
python3 - "$b0" "$b1" "$t0" "$t1" "$limit_mib" <<'PY' || die "rate outside 10% of the limit"
import sys
b0, b1, t0, t1, limit = (float(x) for x in sys.argv[1:])
rate = (b1 - b0) / (t1 - t0)
want = limit * 2**20
print("wire rate %.2f MiB/s, limit %.2f MiB/s, ratio %.3f" % (rate / 2**20, limit, rate / want))
sys.exit(0 if abs(rate / want - 1) <= 0.10 else 1)
PY
pass "bandwidth limit kept within 10%"
