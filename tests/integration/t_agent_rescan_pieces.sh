#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A rescan sends the 4 KiB pieces that changed, not the 64 KiB blocks that
# hold them (docs/performance.md, "Rescan after tracking loss"): scattered
# pieces are changed while the agent is down, the checkpoint is removed, and
# the rescan that follows must send exactly those pieces, except for a block
# with half or more of its pieces changed, which goes whole. The disk ends in
# a block of 3 pieces, whose last one changes. The replica must then equal
# the source; also when staging is killed in the middle of a rescan.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
# 32 MiB and 12 KiB of random data: 512 blocks and a last one of 12 KiB
python3 - "$T/src.img" <<'PY'
import random, sys
with open(sys.argv[1], 'wb') as f:
    f.write(random.Random(17).randbytes(32 * 2**20 + 12 * 1024))
PY
dev=$(make_loop "$T/src.img")
write_agent_config rp "$dev"
start_agent rp
wait_status "s['state'] == 'CHANGE_COPY'" 60
lm sync >/dev/null
assert_same "$dev" "$(replica rp d0)" "initial replica"
stop_agent

# Change pieces with the agent down; prints the bytes a rescan must send.
expected=$(python3 - "$dev" <<'PY'
import os, random, sys
B, P = 65536, 4096
r = random.Random(18)
fd = os.open(sys.argv[1], os.O_WRONLY)
def change(block, pieces):
    for p in pieces:
        os.pwrite(fd, r.randbytes(P), block * B + p * P)
send = 0
for k in range(100):           # one piece in each of 100 blocks, at every place
    change(10 + 2 * k, [k % 16])
    send += P
change(300, [3, 4])            # two adjacent pieces: one frame, 8 KiB
send += 2 * P
change(301, range(0, 14, 2))   # 7 of 16 apart: 7 frames, 28 KiB
send += 7 * P
change(302, range(0, 16, 2))   # 8 of 16: half, sent whole
send += B
change(512, [2])               # the last piece of the short last block
send += P
os.fsync(fd)
os.close(fd)
print(send)
PY
) || die "changing the disk failed"

rm "$T/rp.state/checkpoint.json"
# Whether a block's pieces are asked for weighs the bytes they save at the
# link's rate against the requests' round trip (pieces_pay), and on a busy
# machine loopback's round trip can outweigh 60 KiB at loopback's rate. The
# limit makes the choice certain: 60 KiB at 1 MB/s is 240 ms of link, more
# than any round trip seen here; what is sent is then the pieces alone.
write_agent_config rp "$dev" -- "bandwidth_limit = 1M"
start_agent rp
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >/dev/null || die "sync failed"
grep -q "rescan complete" "$AGENT_LOG" || die "no rescan happened"
sent=$(status_get "s['sent_bytes']")
[ "$sent" -eq "$expected" ] ||
	die "the rescan sent $sent source bytes; the changed pieces (and the block half changed) are $expected"
assert_same "$dev" "$(replica rp d0)" "rescan sent $sent bytes of changed pieces"
stop_agent

# Staging killed while the rescan's pieces are being compared and sent (a
# bandwidth limit keeps the rescan going for seconds): the answers lost with
# the connection leave their blocks to go whole, the unacknowledged slots
# are sent again, and the replica must still equal the source.
python3 - "$dev" <<'PY' || die "changing the disk failed"
import os, random, sys
r = random.Random(19)
fd = os.open(sys.argv[1], os.O_WRONLY)
for b in range(512):           # one piece in every block: 2 MiB to send
    os.pwrite(fd, r.randbytes(4096), b * 65536 + r.randrange(16) * 4096)
os.fsync(fd)
os.close(fd)
PY
rm "$T/rp.state/checkpoint.json"
write_agent_config rp "$dev" -- "bandwidth_limit = 256K"
start_agent rp
wait_status "s['disks'][0]['state'] == 'RESCAN' and s['disks'][0]['bytes_done'] > 0" 60
kill_staging
restart_staging
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >/dev/null || die "sync failed"
# the acker reading or the sender writing may be the first to see it go
grep -Eq "connection to staging lost|sending to staging failed" "$AGENT_LOG" ||
	die "the agent did not see staging go"
sent=$(status_get "s['sent_bytes']")
[ "$sent" -ge $((512 * 4096)) ] || die "the rescan sent $sent bytes, less than the 2 MiB changed"
assert_same "$dev" "$(replica rp d0)" "staging killed during the rescan ($sent bytes sent)"
stop_agent
