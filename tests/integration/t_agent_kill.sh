#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kill -9 of the agent half way through a 1 GiB mirror, then a restart:
# replication resumes from the checkpoint and staging receives again at most
# what the design allows: the checkpoint interval (16 MiB, replicate.c), one
# feed piece past it (4 MiB) and the queue in flight (queue_depth, 16 MiB).
# On the 1 GiB disk that bound is 3.5%, inside the required 5%; the sanitized
# build's 256 MiB disk is judged by the bound alone (5% of it is less than one
# checkpoint interval). The agent's peak resident memory stays under 64 MiB
# (unsanitized build: ASan's shadow memory would dominate).
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

size=1G
[ "$SANITIZED" = 1 ] && size=256M
start_staging
python3 "$TESTS/make_disk.py" "$T/src.img" "$size" --seed 41
dev=$(make_loop "$T/src.img")
bytes=$(blockdev --getsize64 "$dev")
# a bandwidth limit slows the mirror enough for the kill to land near half way
write_agent_config k "$dev" -- "bandwidth_limit = 100M" "queue_depth = 16"
start_agent k
wait_status "s['disks'][0]['percent'] >= 48" 120
rss1=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
at=$(status_get "round(s['disks'][0]['percent'], 1)")
kill_agent
pass "agent killed with SIGKILL at ${at}% of the mirror (peak RSS ${rss1} KiB)"

start_agent k
# logged once staging has answered, which may be after the control socket is up
wait_for_log "$AGENT_LOG" "resuming from checkpoint" 30 || die "the restarted agent did not resume"
wait_status "s['state'] == 'CHANGE_COPY'" 180
lm sync >/dev/null || die "sync failed"
rss2=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
stop_agent
assert_same "$dev" "$(replica k d0)" "replica after kill -9 and restart"

received=$(staging_received k)
bound=$(((16 + 4 + 16) << 20)) # checkpoint interval + feed piece + queue_depth
python3 - "$received" "$bytes" "$bound" <<'PY' || die "resent more than the design allows"
import sys
received, disk, bound = (int(a) for a in sys.argv[1:])
extra = received - disk
print("staging received %d source bytes for a %d-byte disk: %d extra (%.3f of the disk), bound %d"
      % (received, disk, extra, received / disk, bound))
ok = 0 <= extra <= bound and (disk < (1 << 30) or received <= 1.05 * disk)
sys.exit(0 if ok else 1)
PY
pass "kill -9 cost at most one checkpoint interval plus the queue in flight"

if [ "$SANITIZED" = 1 ]; then
	echo "peak RSS not judged under ASan (its shadow memory is not the agent's): ${rss1}/${rss2} KiB"
else
	[ "$rss1" -lt 65536 ] && [ "$rss2" -lt 65536 ] ||
		die "peak resident memory ${rss1}/${rss2} KiB exceeds 64 MiB"
	pass "peak resident memory ${rss1} KiB and ${rss2} KiB, under 64 MiB"
fi
