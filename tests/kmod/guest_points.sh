#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Recovery points while the source runs (guest side; tests/kmod/run.sh
# guest_points.sh): the real livemigd (tracker = kmod) and livemig-staging in
# the guest, ext4 on the partitioned virtio disk /dev/vdb.
#  1. A writer appends numbered, checksummed records with fsync and logs each
#     record's start and acknowledgement times; fio random writes beside it.
#     POINTS periodic points (point_interval = INTERVAL). Every point is
#     exported (livemig-staging points export), e2fsck -fn finds it clean with
#     no journal to replay, and its record file is a gap-free prefix holding
#     every record acknowledged before the freeze began and none started
#     after the thaw. Freeze durations: median, p99, max.
#  2. kill -9 of livemigd while the file systems are frozen (told by the
#     module's freeze_releases counter; retried when the kill came too late):
#     the file system takes writes again long before the module's timeout;
#     the restarted agent's next point is good.
#  3. Freeze hooks: a good one makes an application-consistent point; a
#     failing one and one that hangs (cut at freeze_hook_timeout) make
#     crash-consistent points, labelled so.
# Environment (run.sh's GUEST_ENV): POINTS (default 20), INTERVAL (default 8s).
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"

POINTS=${POINTS:-20}
INTERVAL=${INTERVAL:-8s}
S=/sys/class/misc/livemig-cbt
NAME=pts
REC=$FS/records
ACKS=$T/acks.log
for t in e2fsck dumpe2fs python3 losetup; do
	command -v $t >/dev/null || die "missing $t in the host's userland"
done

# The record writer: "%010d %08x\n" (number, crc32 of the number), fsync'd,
# then "N START_NS ACK_NS" to $ACKS (on the guest's tmpfs, never frozen).
start_record_writer() {
	python3 - "$REC" "$ACKS" <<-'PY' &
		import os, sys, time, zlib
		fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
		log = open(sys.argv[2], "a", buffering=1)
		n = 0
		while True:
		    n += 1
		    start = time.time_ns()
		    os.write(fd, b"%010d %08x\n" % (n, zlib.crc32(b"%d" % n)))
		    os.fsync(fd)
		    log.write("%d %d %d\n" % (n, start, time.time_ns()))
		    time.sleep(0.02)
	PY
	REC_PID=$!
	track_pid $REC_PID
}

start_fio() {
	fio --name=rand --filename="$FS/fio.dat" --size=16M --rw=randwrite --bs=4k \
		--ioengine=psync --direct=1 --randseed="$1" --rate_iops=10 \
		--time_based --runtime=3600 --output=/dev/null >/dev/null 2>&1 &
	FIO_PID=$!
	track_pid $FIO_PID
}

points_json() {
	"$BUILD/livemig-staging" points list "$NAME" --store "$STAGING_STORE" --json
}

# check_point ID: export, e2fsck, the record file against $ACKS and the
# freeze window the agent logged. Prints "ok" lines or fails.
check_point() {
	local id=$1 p tns thaw img loopdev out k
	# not jq: it reads numbers as doubles, and time_ns needs all 19 digits
	tns=$(points_json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["points"]:
    if p["id"] == int(sys.argv[1]):
        print(p["time_ns"])' "$id")
	[ -n "$tns" ] || die "point $id not in staging's list"
	# the agent logged the window: "... (from FREEZE_NS to THAW_NS ns)"
	thaw=$(sed -n "s/.*(from $tns to \([0-9]*\) ns).*/\1/p" "$AGENT_LOG" | sed -n 1p)
	[ -n "$thaw" ] || die "point $id: no freeze window for $tns in the agent's log"
	img=$T/export-$id.img
	"$BUILD/livemig-staging" points export "$NAME" "$id" --store "$STAGING_STORE" \
		--disk d0 --format raw --output "$img" >/dev/null || die "point $id: export failed"
	loopdev=$(losetup -r -f --show -o $((2048 * 512)) "$img") || die "losetup $img"
	out=$(dumpe2fs -h "$loopdev" 2>/dev/null)
	if grep -q needs_recovery <<<"$out"; then
		losetup -d "$loopdev"
		die "point $id: the journal needs a replay (not file-system consistent)"
	fi
	if ! out=$(e2fsck -fn "$loopdev" 2>&1); then
		echo "$out" >&2
		losetup -d "$loopdev"
		die "point $id: e2fsck -fn found problems"
	fi
	mkdir -p "$T/m"
	mount -o ro,noload "$loopdev" "$T/m" || die "point $id: mount"
	out=$(python3 - "$T/m/records" "$ACKS" "$tns" "$thaw" <<-'PY'
		import sys, zlib
		rec, acks, t_freeze, t_thaw = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
		try:
		    data = open(rec, "rb").read()
		except FileNotFoundError:
		    data = b""
		k = 0
		for line in data.split(b"\n")[:-1]:
		    n, c = line.split()
		    if int(n) != k + 1 or int(c, 16) != zlib.crc32(b"%d" % (k + 1)):
		        sys.exit("record %d: bad record %r" % (k + 1, line))
		    k += 1
		if not data.endswith(b"\n") and data:
		    sys.exit("a torn record after %d" % k)
		must = cannot = 0
		for l in open(acks):
		    n, start, ack = map(int, l.split())
		    if ack < t_freeze and n > k:
		        sys.exit("record %d acknowledged before the freeze is missing (prefix %d)" % (n, k))
		    if start > t_thaw and n <= k:
		        sys.exit("record %d started after the thaw is in the point" % n)
		    must += ack < t_freeze
		    cannot += start > t_thaw
		print("%d %d %d" % (k, must, cannot))
	PY
	) || { umount "$T/m"; losetup -d "$loopdev"; die "point $id: $out"; }
	umount "$T/m"
	losetup -d "$loopdev"
	rm -f "$img"
	read -r k _ _ <<<"$out"
	echo "$out"
	[ "$k" -gt 0 ] || die "point $id: no record at all"
}

freeze_ms_stats() {
	sed -n 's/.*recovery point: [0-9]* file system(s) frozen for \([0-9.]*\) ms.*/\1/p' "$AGENT_LOG" |
		sort -n | awk '{ v[NR] = $1 } END {
			if (!NR) { print "none"; exit }
			p99 = int(NR * 0.99 + 0.999); if (p99 < 1) p99 = 1; if (p99 > NR) p99 = NR
			printf "n=%d median=%.1f p99=%.1f max=%.1f ms", NR, v[int((NR + 1) / 2)], v[p99], v[NR] }'
}

# the boot's earlier test (guest_reload_agent.sh) may have left it loaded
[ -d /sys/module/livemig_cbt ] || insmod "$KO" || die "insmod $KO"
modprobe loop || die "modprobe loop"
start_staging
make_fs
write_agent_config "$NAME" "$DISK" -- "tracker = kmod" "point_interval = $INTERVAL" \
	"freeze_max = 2s" "freeze_buffer = 64M" "freeze_hooks_dir = $T/hooks" \
	"freeze_hook_timeout = 3s"
sed -i 's/^scan_interval = .*/scan_interval = 200ms/' "$T/$NAME.conf"
mkdir -p "$T/hooks"
start_record_writer
start_fio 1
start_agent "$NAME"
# the status names the tracker once the agent has chosen it: wait for that
wait_st '.tracker == "kmod" or .tracker == "scan"' 300
[ "$(st .tracker)" = kmod ] || die "the agent runs tracker $(st .tracker): $(st .tracker_reason)"
wait_st '.state == "CHANGE_COPY"' 600
[ "$(st .points.available)" = true ] || die "points not available: $(st .points.why_not)"

echo "== 1. $POINTS periodic points under load (point_interval $INTERVAL)"
t0=$(date +%s)
wait_st ".points.made >= $POINTS" 1500
echo "   $POINTS points in $(($(date +%s) - t0)) s; put off: $(st .points.put_off)"
# no more points while they are checked: each costs staging memory here
stop_agent_checked
ids=$(points_json | jq -r '.points[] | select(.origin == "periodic") | .id')
n=0
for id in $ids; do
	c=$(points_json | jq -r ".points[] | select(.id == $id) | .consistency")
	[ "$c" = filesystem ] || die "point $id is $c-consistent, not filesystem"
	r=$(check_point "$id") || die "point $id failed its checks"
	echo "   point $id: prefix of $(echo "$r" | cut -d' ' -f1) records ($(echo "$r" | cut -d' ' -f2) acknowledged before the freeze, $(echo "$r" | cut -d' ' -f3) started after the thaw)"
	n=$((n + 1))
done
[ "$n" -ge "$POINTS" ] || die "only $n periodic points on staging"
pass "test 1: $n periodic points, each exported, e2fsck clean, records a gap-free prefix; freezes $(freeze_ms_stats)"

echo "== 2. kill -9 of livemigd during a freeze"
# from now on only requested points: nothing else freezes
sed -i 's/^point_interval = .*/point_interval = 0/' "$T/$NAME.conf"
start_agent "$NAME"
wait_st '.state == "CHANGE_COPY"' 600
killed=0
timeouts0=$(cat $S/freeze_timeouts)
for try in 1 2 3 4 5; do
	r0=$(cat $S/freeze_releases)
	f0=$(cat $S/freezes)
	# enough changed data that reading it keeps the freeze going for a while
	rm -f "$FS"/big.*
	dd if=/dev/urandom of="$FS/big.$try" bs=1M count=12 conv=fsync status=none ||
		die "cannot write $FS/big.$try"
	lm point --timeout 600 >/dev/null 2>&1 &
	track_pid $!
	# the moment the module counts the freeze, kill -9: a tight loop, no fork
	python3 -c '
import os, sys, time
f0, pid = sys.argv[1], int(sys.argv[2])
end = time.time() + 900
while time.time() < end:
    if open("/sys/class/misc/livemig-cbt/freezes").read().strip() != f0:
        os.kill(pid, 9)
        sys.exit(0)
sys.exit(1)' "$f0" "$AGENT_PID" || die "livemigd never froze for the requested point"
	wait "$AGENT_PID" 2>/dev/null
	if [ "$(cat $S/freeze_releases)" != "$r0" ]; then
		killed=1
		break
	fi
	echo "   try $try: the kill came after the thaw; again"
	start_agent "$NAME"
	wait_st '.state == "CHANGE_COPY"' 600
done
[ "$killed" = 1 ] || die "never killed livemigd during a freeze in 5 tries"
t1=$(date +%s)
timeout 50 sh -c "echo after-kill >>'$FS/after-kill' && sync -f '$FS'" ||
	die "the file system does not take writes 50 s after kill -9"
pass "test 2: killed during a freeze (freeze_releases $(cat $S/freeze_releases)); writes go on after $(($(date +%s) - t1)) s"
[ "$(cat $S/freeze_timeouts)" = "$timeouts0" ] || die "the killed agent's freeze ended by the module's timeout, not by the release"
rm -f "$FS"/big.*
start_agent "$NAME"
wait_st '.state == "CHANGE_COPY"' 600
out=$(lm point --timeout 900) || die "livemig point after the restart failed"
id=$(echo "$out" | sed -n 's/^point \([0-9]*\),.*/\1/p')
[ -n "$id" ] && [ "$id" -gt 0 ] || die "livemig point printed no id: $out"
check_point "$id" >/dev/null || die "point $id failed its checks"
[ "$(points_json | jq -r ".points[] | select(.id == $id) | .origin")" = requested ] ||
	die "point $id is not labelled requested"
pass "test 2: the next point ($id, livemig point) is good"

echo "== 3. freeze hooks"
hook_point() { # expected-consistency message
	local out id c
	out=$(lm point --timeout 900) || die "livemig point failed"
	id=$(echo "$out" | sed -n 's/^point \([0-9]*\),.*/\1/p')
	c=$(points_json | jq -r ".points[] | select(.id == $id) | .consistency")
	[ "$c" = "$1" ] || die "$2: point $id is $c-consistent, want $1"
	check_point "$id" >/dev/null || die "point $id failed its checks"
	pass "test 3: $2: point $id is $c-consistent"
}
printf '#!/bin/sh\necho "$1" >>%s/hook.calls\n' "$T" >"$T/hooks/10-good"
chmod +x "$T/hooks/10-good"
hook_point application "a hook that succeeds"
[ "$(tr '\n' ' ' <"$T/hook.calls")" = "freeze thaw " ] || die "the hook ran as: $(cat "$T/hook.calls")"
printf '#!/bin/sh\n[ "$1" = freeze ] && exit 3\nexit 0\n' >"$T/hooks/20-fails"
chmod +x "$T/hooks/20-fails"
hook_point crash "a hook that fails"
[ -n "$(st .points.last.note)" ] || die "the status gives no reason for the crash-consistent point"
echo "   status note: $(st .points.last.note)"
rm "$T/hooks/20-fails"
printf '#!/bin/sh\n[ "$1" = freeze ] && { echo $$ >%s/hang.pid; exec sleep 1000; }\nexit 0\n' "$T" >"$T/hooks/30-hangs"
chmod +x "$T/hooks/30-hangs"
h0=$(date +%s)
hook_point crash "a hook that hangs"
pid=$(cat "$T/hang.pid")
kill -0 "$pid" 2>/dev/null && die "the hanging hook (pid $pid) still runs"
grep -q "did not finish within 3000 ms" "$AGENT_LOG" || die "no timeout message for the hanging hook"
pass "test 3: the hanging hook was killed at its timeout (point $(($(date +%s) - h0)) s)"
rm "$T/hooks/30-hangs"

kill "$REC_PID" "$FIO_PID" 2>/dev/null
stop_agent_checked
umount "$FS" || die "umount $FS"
pass "recovery points: freezes $(freeze_ms_stats)"
