#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Staging's store fills up mid-mirror: the agent is told plainly (STALLED with
# the reason), replication waits, and once space is freed it resumes by itself
# and ends with a replica identical to the source (no torn, no lost write).
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

mkdir -p "$T/fs"
mount -t tmpfs -o size=96M livemig-test "$T/fs" || die "cannot mount a tmpfs for the store"
track_mount "$T/fs"
# a filler takes half the file system: the 64 MiB of random data cannot fit
dd if=/dev/zero of="$T/fs/filler" bs=1M count=56 status=none
STAGING_STORE=$T/fs/store
start_staging
# all random: with no zero extents (which need no space) nothing can progress
python3 "$TESTS/make_disk.py" "$T/src.img" 64M --zeros 0 --files 0 --random 1 --seed 4
dev=$(make_loop "$T/src.img")
write_agent_config full "$dev"
start_agent full
wait_status "s['state'] == 'STALLED' and 'out of space' in s['reason']" 60
pass "agent reports: $(status_get "s['reason']")"
grep -q "full (no space left on device)" "$STAGING_LOG" || die "staging did not log the full store"
# small frames may still fill the last free pages: let that settle first
p1=$(wait_still "s['disks'][0]['percent']")
sleep 4
p2=$(status_get "s['disks'][0]['percent']")
[ "$p1" = "$p2" ] || die "progress moved while the store was full ($p1 -> $p2)"
pass "replication waits at $p1% while the store is full"
rm "$T/fs/filler"
wait_status "s['state'] == 'CHANGE_COPY'" 60
pass "replication resumed by itself once space was freed"
lm sync >/dev/null || die "sync failed"
assert_same "$dev" "$(replica full d0)" "replica after the store filled up"
