#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/kmod/run.sh guest_inflight.sh: writes that straddle a
# SNAPSHOT (queued before it, completed after it) are marked again in the new
# generation, so nothing is lost. null_blk (configfs) delays completions with
# irqmode=2 completion_nsec; dm-delay holds a split bio's front part until
# a suspend releases it.
# Exit 0 only if every check passed.
set -u
OUT=$1
. /mnt/repo/tests/kmod/guest_module_lib.sh
STRESS_SECONDS=${STRESS_SECONDS:-10}
failures=0

modprobe null_blk nr_devices=0 || { fail "modprobe null_blk"; exit 1; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
modprobe dm_delay || fail "modprobe dm_delay"
insmod "$KO" || { fail insmod; exit 1; }

# A write held in flight while SNAPSHOT swaps the maps. blk-mq: null_blk
# completes each request HOLD after it was queued (its timer, 4 s: the
# largest completion_nsec takes); `cbt_tool snapwait` takes the SNAPSHOT
# in the same process that sees the write marked, so between queue and
# SNAPSHOT there is a poll (1 ms), not a process start. A guest starved by a
# busy host for longer than the hold is still possible: such an attempt is
# recognised exactly (nothing straddled) and made again, up to 5 times.
# dm-delay holds its bios 10 min and gives them back when told (below): no
# bet on time at all.
HOLD_NS=4000000000
ATTEMPTS=5

echo "== blk-mq: a write in flight across SNAPSHOT is in both generations"
nullb nbmq size=64 memory_backed=1 queue_mode=2 irqmode=2 \
	completion_nsec=$HOLD_NS hw_queue_depth=4 || fail "null_blk mq"
"$T" attach /dev/nbmq >/dev/null || fail "attach nbmq"
for attempt in $(seq $ATTEMPTS); do
	m0=$(cat $S/completion_marks)
	dd if=/dev/urandom of=/dev/nbmq bs=4096 count=1 seek=$((10 * BS / 4096)) \
		oflag=direct status=none &
	ddpid=$!
	g1=$("$T" snapwait /dev/nbmq 1 | sed 's/.*blocks=//') || fail "no write queued on nbmq"
	wait $ddpid || fail "dd nbmq"
	"$T" ack /dev/nbmq || fail "ack nbmq"
	g2="$(snapblocks /dev/nbmq) $(rd /dev/nbmq)"
	"$T" ack /dev/nbmq || fail "ack nbmq"
	marks=$(($(cat $S/completion_marks) - m0))
	# done before the SNAPSHOT's map swap: no straddle to test, try again
	[ "$g1" = 1 ] && [ "$marks" = 0 ] && [ "$g2" = "0 " ] && [ "$attempt" -lt $ATTEMPTS ] &&
		{ echo "   attempt $attempt: the write completed before SNAPSHOT, again"; continue; }
	break
done
check "gen 1 (queued write)" "$g1" 1
check "gen 2 (completed after SNAPSHOT): blocks" "$g2" "1 10"
check "gen 3 empty" "$(snapblocks /dev/nbmq)" 0
"$T" ack /dev/nbmq || fail "ack nbmq"
check "completion_marks counted the straddle" "$marks" 1
"$T" detach /dev/nbmq || fail "detach nbmq"

echo "== bio-based: a split bio's delayed front part is marked again"
# dm device: sectors [0, 1024) delay writes by 10 min, [1024, 8192) linear.
# A 128 KiB write at 448 KiB: dm splits it, the front (block 7) waits in
# dm-delay, the remainder (block 8) completes at once and the original bio
# is trimmed to it; only the range kept at queue time names block 7. After
# the SNAPSHOT, a suspend makes dm-delay send what it holds (its presuspend
# flushes the delayed bios), so the front part completes when the test says.
nullb nbdm size=64 memory_backed=1 queue_mode=2 || fail "null_blk for dm"
printf '0 1024 delay /dev/nbdm 0 0 /dev/nbdm 0 600000\n1024 7168 linear /dev/nbdm 1024\n' |
	dmsetup --noudevsync create cbtdelay || fail "dmsetup create"
# no udev in the guest: use the kernel's node for the dm device
DM=/dev/$(dmsetup info -c --noheadings -o blkdevname cbtdelay)
"$T" attach $DM >/dev/null || fail "attach dm"
m0=$(cat $S/completion_marks)
dd if=/dev/urandom of=$DM bs=131072 count=1 seek=$((448 * 1024)) oflag=direct,seek_bytes status=none &
ddpid=$!
check "gen 1 (queued split write)" "$("$T" snapwait $DM 2 | sed 's/.*blocks=//')" 2
dmsetup --noudevsync suspend --nolockfs cbtdelay && dmsetup --noudevsync resume cbtdelay ||
	fail "dmsetup suspend/resume (the release of the held bio)"
wait $ddpid || fail "dd dm"
"$T" ack $DM || fail "ack dm"
check "gen 2 blocks (both parts)" "$(snapblocks $DM) $(rd $DM)" "2 7 8"
"$T" ack $DM || fail "ack dm"
echo "   completion_marks +$(($(cat $S/completion_marks) - m0)) ($DM)"
"$T" detach $DM || fail "detach dm"
dmsetup --noudevsync remove cbtdelay || fail "dmsetup remove"

echo "== bio-based md raid0 handing the same bio to a blk-mq member (iostats off)"
# The member's request completion ends the md bio: block_bio_complete never
# fires for it, so its queue-time range is taken at block_rq_complete. The
# members hold like nbmq above, and a lost attempt is made again likewise.
modprobe raid0 || fail "modprobe raid0"
nullb nbr0a size=16 memory_backed=1 queue_mode=2 irqmode=2 completion_nsec=$HOLD_NS &&
	nullb nbr0b size=16 memory_backed=1 queue_mode=2 irqmode=2 completion_nsec=$HOLD_NS ||
	fail "null_blk raid0 members"
# --build: no superblock to write or read at 1 s a request
mdadm --build /dev/md1 --run --quiet --level=0 --raid-devices=2 \
	--chunk=64 /dev/nbr0a /dev/nbr0b </dev/null || fail "mdadm --build md1"
for _ in $(seq 50); do [ -b /dev/md1 ] && break; sleep 0.1; done
echo 0 >/sys/block/md1/queue/iostats || fail "iostats off"
"$T" attach /dev/md1 >/dev/null || fail "attach md1"
for attempt in $(seq $ATTEMPTS); do
	dd if=/dev/urandom of=/dev/md1 bs=4096 count=1 seek=$((3 * BS / 4096)) oflag=direct status=none &
	ddpid=$!
	g1=$("$T" snapwait /dev/md1 1 | sed 's/.*blocks=//') || fail "no write queued on md1"
	wait $ddpid || fail "dd md1"
	"$T" ack /dev/md1 || fail "ack md1"
	g2="$(snapblocks /dev/md1) $(rd /dev/md1)"
	"$T" ack /dev/md1
	[ "$g1" = 1 ] && [ "$g2" = "0 " ] && [ "$attempt" -lt $ATTEMPTS ] &&
		{ echo "   attempt $attempt: the write completed before SNAPSHOT, again"; continue; }
	break
done
check "gen 1 (queued on md1)" "$g1" 1
check "gen 2 (completed by the member's request)" "$g2" "1 3"
"$T" detach /dev/md1 || fail "detach md1"
mdadm --stop /dev/md1 --quiet || fail "mdadm --stop md1"

# follow DISK: fio random writes while cbt_tool copies every generation to a
# replica in a tight SNAPSHOT/READ/copy/ACK loop; after the writes stop and
# two more rounds, the replica must equal the disk: 0 lost writes.
follow() { # DISK NAME FIO_IODEPTH
	local disk=$1 name=$2 stop=/tmp/stop.$2 rep=/tmp/replica.$2 m0 res lost
	rm -f "$stop"
	# 4 KiB per bit: each round copies just the blocks fio wrote
	"$T" attach "$disk" 12 >/dev/null || { fail "attach $name"; return; }
	# the disk is new and memory-backed, so zero, like the replica; a block
	# that was not would show below as a difference, never hide one
	truncate -s "$(blockdev --getsize64 "$disk")" "$rep"
	m0=$(cat $S/completion_marks)
	"$T" follow "$disk" "$rep" "$stop" >/tmp/follow.$name &
	local fpid=$!
	fio --name="$name" --filename="$disk" --rw=randwrite --bs=4k --direct=1 \
		--ioengine=libaio --iodepth="$3" --runtime="$STRESS_SECONDS" --time_based \
		--refill_buffers --randrepeat=0 --eta=never --output=/tmp/fio.$name --output-format=json \
		|| fail "fio $name"
	touch "$stop"
	wait $fpid || fail "follow $name: $(cat /tmp/follow.$name)"
	res=$(cat /tmp/follow.$name)
	dd if="$disk" of=/tmp/final.$name bs=1M iflag=direct status=none || fail "read $name"
	lost=$("$T" cmpblocks /tmp/final.$name "$rep" 4096)
	echo "   $name: $res, fio write IOs $(jq '.jobs[0].write.total_ios' /tmp/fio.$name), completion_marks +$(($(cat $S/completion_marks) - m0))"
	check "$name: 4 KiB blocks differing from the replica (lost writes)" "$lost" 0
	rounds=$(echo "$res" | sed 's/.*busy_rounds=\([0-9]*\).*/\1/')
	[ "${rounds:-0}" -ge 5 ] && pass "$name: $rounds SNAPSHOT rounds with data" ||
		fail "$name: only ${rounds:-0} SNAPSHOT rounds with data"
	# a completion set a bit its queue-time mark had not: writes did
	# straddle a SNAPSHOT, so the run tested what it claims to
	[ $(($(cat $S/completion_marks) - m0)) -gt 0 ] && pass "$name: writes straddled SNAPSHOTs" ||
		fail "$name: no write straddled a SNAPSHOT (test inconclusive)"
	"$T" detach "$disk" || fail "detach $name"
	rm -f "$rep" /tmp/final.$name
}

# The SNAPSHOT's RCU grace period alone outlasts short in-flight times, so
# writes must wait long between queue and disk for a copy to read old data.
echo "== blk-mq under fio: null_blk queue depth 1, 20 ms per request, writes wait in mq-deadline, reads pass them"
nullb nbfio size=16 memory_backed=1 queue_mode=2 irqmode=2 completion_nsec=20000000 \
	hw_queue_depth=1 || fail "null_blk fio mq"
echo mq-deadline >/sys/block/$(kname nbfio)/queue/scheduler || fail "mq-deadline"
# scheduler tags for every write fio queues, so reads do not wait behind
# them, and reads preferred: 16 reads pass before one write is sent
echo 64 >/sys/block/$(kname nbfio)/queue/nr_requests || fail "nr_requests"
echo 1 >/sys/block/$(kname nbfio)/queue/iosched/fifo_batch || fail "fifo_batch"
echo 16 >/sys/block/$(kname nbfio)/queue/iosched/writes_starved || fail "writes_starved"
follow /dev/nbfio mq 32

echo "== bio-based under fio: dm-delay holds every write 200 ms, reads pass"
nullb nbbio size=16 memory_backed=1 queue_mode=2 || fail "null_blk for dm-delay"
echo "0 32768 delay /dev/nbbio 0 0 /dev/nbbio 0 200" |
	dmsetup --noudevsync create cbtslow || fail "dmsetup create cbtslow"
follow "/dev/$(dmsetup info -c --noheadings -o blkdevname cbtslow)" bio 16
dmsetup --noudevsync remove cbtslow || fail "dmsetup remove cbtslow"

for d in nbmq nbdm nbr0a nbr0b nbfio nbbio; do
	echo 0 >"$NB/$d/power"
	rmdir "$NB/$d"
	[ ! -L "/dev/$d" ] || rm "/dev/$d"
done
rmmod livemig_cbt || fail rmmod
kernel_log_check
echo "== $failures failure(s)"
[ "$failures" = 0 ]
