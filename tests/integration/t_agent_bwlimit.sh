#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bandwidth limit holds within 10% on the wire, measured in steady state
# over incompressible data (which compression cannot shrink below the limit).
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

# 4 MiB/s: low enough that a machine busy with other work still sends that
# fast, so the lower bound tests the limiter and not the CPU; 256 MiB take
# 64 s at that rate, so the mirror goes on well past the window
limit_mib=4
start_staging
python3 "$TESTS/make_disk.py" "$T/rand.img" 256M --zeros 0 --files 0 --random 1 --seed 3
dev=$(make_loop "$T/rand.img")
write_agent_config bw "$dev" -- "bandwidth_limit = ${limit_mib}M"
start_agent bw
wait_status "s['wire_bytes'] > 8 * 2**20" 60
# Each sample is taken somewhere between the times read before and after
# it (a status request may take a second on a busy machine), so the rate
# over the 10 s window lies between the rates over the shortest and the
# longest window those times allow; the limit must be inside that range.
# The samples are taken with livemig alone (parsed afterwards), which keeps
# those times close together.
t0a=$(date +%s.%N)
lm status --json >"$T/s0.json"
t0b=$(date +%s.%N)
sleep 10
t1a=$(date +%s.%N)
lm status --json >"$T/s1.json"
t1b=$(date +%s.%N)
b0=$(jq .wire_bytes "$T/s0.json")
b1=$(jq .wire_bytes "$T/s1.json")
python3 - "$b0" "$b1" "$t0a" "$t0b" "$t1a" "$t1b" "$limit_mib" <<'PY' || die "rate outside 10% of the limit"
import sys
b0, b1, t0a, t0b, t1a, t1b, limit = (float(x) for x in sys.argv[1:])
want = limit * 2**20
slowest, fastest = (b1 - b0) / (t1b - t0a), (b1 - b0) / (t1a - t0b)
print("wire rate %.2f..%.2f MiB/s, limit %.2f MiB/s, ratio %.3f..%.3f"
      % (slowest / 2**20, fastest / 2**20, limit, slowest / want, fastest / want))
sys.exit(0 if slowest <= 1.10 * want and fastest >= 0.90 * want else 1)
PY
pass "bandwidth limit kept within 10%"
