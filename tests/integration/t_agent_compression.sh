#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How the agent encodes DATA frames (`compression`), and what the initial
# mirror leaves for the scan tracker, which the mirror no longer fingerprints:
# - compression = none: every non-zero block goes raw (the wire carries at
#   least the non-zero data); the replica is exact;
# - the first scan rounds after that mirror ask staging for the unknown
#   fingerprints: with nothing written they send nothing, after a write only
#   the blocks written; the replica stays exact;
# - compression = auto over a slow link (bandwidth_limit) deflates file data:
#   the wire carries well under the non-zero data.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
# file data only: it compresses to about half with deflate, so raw and
# deflated frames are far apart on the wire
python3 "$TESTS/make_disk.py" "$T/files.img" 24M --zeros 0 --files 1 --random 0 --seed 17
dev=$(make_loop "$T/files.img")
size=$(blockdev --getsize64 "$dev")
nonzero=$(python3 - "$dev" <<'PY'
import sys
n = 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(65536)
        if not b:
            break
        if b.count(0) != len(b):
            n += len(b)
print(n)
PY
)
echo "disk $size bytes, $nonzero in non-zero 64 KiB blocks"
[ "$nonzero" -gt $((8 << 20)) ] || die "the test disk has too little data ($nonzero bytes)"

# --- raw: mirror, then scan rounds that must find nothing to send ---
write_agent_config raw "$dev" -- "compression = none"
start_agent raw
wait_status "s['state'] == 'CHANGE_COPY'" 120
wire=$(status_get "s['wire_bytes']")
[ "$wire" -ge "$nonzero" ] || die "compression = none: $wire bytes on the wire, less than the $nonzero of data"
pass "compression = none: $wire bytes on the wire for $nonzero bytes of data"
mirrored=$(status_get "s['sent_bytes']")
[ "$mirrored" -eq "$size" ] || die "the mirror made $mirrored bytes durable, not the disk's $size"
r=$(status_get "s['rounds']")
wait_status "s['rounds'] >= $r + 2" 120
sent=$(status_get "s['sent_bytes']")
[ "$sent" -eq "$mirrored" ] ||
	die "scan rounds after the mirror sent $((sent - mirrored)) bytes of an unchanged disk"
grep -q "round 1: " "$AGENT_LOG" || die "no round 1 in the log"
pass "two scan rounds after the mirror sent nothing (fingerprints asked from staging)"

# writer --count 2 changes at most 2 x 256 KiB: at most 10 blocks of 64 KiB
python3 "$TESTS/writer.py" "$dev" --seed 5 --count 2 --rate 0 >/dev/null
lm sync >/dev/null || die "sync failed"
sent=$(status_get "s['sent_bytes']")
[ $((sent - mirrored)) -gt 0 ] || die "the write was not sent"
[ $((sent - mirrored)) -le $((10 * 65536)) ] ||
	die "a round after a write sent $((sent - mirrored)) bytes, more than the 10 blocks written"
assert_same "$dev" "$(replica raw d0)" "after a write, the scan sent $((sent - mirrored)) bytes"
stop_agent

# --- auto over a slow link: the sender's queue turns deflate on ---
write_agent_config slow "$dev" -- "compression = auto" "bandwidth_limit = 4M"
start_agent slow
wait_status "s['state'] == 'CHANGE_COPY'" 120
wire=$(status_get "s['wire_bytes']")
[ "$wire" -lt $((nonzero * 8 / 10)) ] ||
	die "compression = auto at 4 MiB/s: $wire bytes on the wire for $nonzero of data (not deflated)"
lm sync >/dev/null || die "sync failed"
assert_same "$dev" "$(replica slow d0)" "compression = auto at 4 MiB/s: $wire bytes on the wire for $nonzero of data"
stop_agent
