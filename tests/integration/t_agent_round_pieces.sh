#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The scan tracker's change rounds send the 4 KiB pieces that were written,
# not the 64 KiB blocks that hold them (docs/performance.md, write
# amplification): scattered 4 KiB writes (and a few 8 KiB ones) are
# made in batches while the agent runs its rounds, each batch followed by two
# more rounds; the source bytes the rounds sent (`sent_bytes`) must be those
# written, where whole blocks would be 16 times as much, and the replica must
# equal the source. Then staging is killed in the middle of a round that
# sends pieces: the answers lost with the connection leave their blocks to
# go whole, the unacknowledged slots are sent again, and the replica must
# still equal the source.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
# 16 MiB of random data: 256 blocks
python3 - "$T/src.img" <<'PY'
import random, sys
with open(sys.argv[1], 'wb') as f:
    f.write(random.Random(27).randbytes(16 * 2**20))
PY
dev=$(make_loop "$T/src.img")
# Whether a block's pieces are asked for weighs the bytes they save at the
# link's rate against the requests' round trip (pieces_pay), and on a busy
# machine loopback's round trip can outweigh 56 KiB at loopback's rate (it
# did at load 14). The limit makes the choice certain: 56 KiB at 1 MB/s is
# 220 ms of link, more than any round trip seen here.
write_agent_config rp "$dev" -- "bandwidth_limit = 1M"
start_agent rp
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >/dev/null
assert_same "$dev" "$(replica rp d0)" "initial replica"
# nothing is written now: what the rounds send from here on is the writes
sent0=$(wait_still "s['sent_bytes']")

# write_batch SEED FIRST COUNT: in each of COUNT blocks from FIRST on, one
# 4 KiB piece at a random place, and every eighth block an 8 KiB write
# instead; the blocks of different batches are distinct, so every byte written
# differs from staging's copy exactly once. Prints the bytes written.
write_batch() {
	python3 - "$dev" "$@" <<-'PY'
		import os, random, sys
		B, P = 65536, 4096
		dev, seed, first, count = sys.argv[1], *map(int, sys.argv[2:])
		r = random.Random(seed)
		fd = os.open(dev, os.O_WRONLY)
		written = 0
		for b in range(first, first + count):
		    n = 2 if b % 8 == 0 else 1
		    p = r.randrange(16 - n + 1)
		    os.pwrite(fd, r.randbytes(n * P), b * B + p * P)
		    written += n * P
		os.fsync(fd)
		os.close(fd)
		print(written)
	PY
}

written=0
for batch in 0 1 2 3; do
	rounds=$(status_get "s['rounds']")
	w=$(write_batch $((30 + batch)) $((batch * 60)) 60) || die "writing batch $batch failed"
	written=$((written + w))
	# the second round from here started after the batch was written
	wait_status "s['rounds'] >= $((rounds + 2))" 60
done
lm sync >/dev/null || die "sync failed"
sent=$(($(status_get "s['sent_bytes']") - sent0))
whole=$((240 * 65536))
echo "    written $written bytes in 240 blocks; the rounds sent $sent (whole blocks: $whole)"
[ "$sent" -ge "$written" ] || die "the rounds sent $sent bytes, less than the $written written"
# a round that read a piece while it was being written sends it again next
# round; a whole block per write would be 240 x 64 KiB
[ "$sent" -le $((written + written / 4)) ] ||
	die "the rounds sent $sent bytes for $written written in 4 and 8 KiB pieces (whole blocks: $whole)"
assert_same "$dev" "$(replica rp d0)" "rounds sent $sent bytes for $written written"
stop_agent

# Staging killed while a round's pieces are compared and sent (a bandwidth
# limit keeps the round going for seconds: two pieces apart in every block,
# 2 MiB).
write_agent_config rp "$dev" -- "bandwidth_limit = 256K"
start_agent rp
wait_status "s['state'] == 'CHANGE_COPY'" 60
sent0=$(wait_still "s['sent_bytes']")
python3 - "$dev" <<'PY' || die "changing the disk failed"
import os, random, sys
r = random.Random(37)
fd = os.open(sys.argv[1], os.O_WRONLY)
for b in range(256):
    p = r.randrange(8)
    for q in (p, p + 8):
        os.pwrite(fd, r.randbytes(4096), b * 65536 + q * 4096)
os.fsync(fd)
os.close(fd)
PY
wait_status "s['sent_bytes'] > $sent0" 60
kill_staging
# nothing is acknowledged while staging is down: the round was cut in the middle
mid=$(($(status_get "s['sent_bytes']") - sent0))
[ "$mid" -lt $((512 * 4096)) ] || die "the round had ended ($mid bytes sent) before staging was killed"
restart_staging
lm sync >/dev/null || die "sync failed"
# the acker reading or the sender writing may be the first to see it go
grep -Eq "connection to staging lost|sending to staging failed" "$AGENT_LOG" ||
	die "the agent did not see staging go"
sent=$(($(status_get "s['sent_bytes']") - sent0))
[ "$sent" -ge $((512 * 4096)) ] || die "the round sent $sent bytes, less than the 2 MiB changed"
assert_same "$dev" "$(replica rp d0)" "staging killed during a round of pieces ($mid of $sent bytes acknowledged before)"
stop_agent
