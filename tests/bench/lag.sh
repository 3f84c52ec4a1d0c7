#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Recovery point objective benchmark (not a test), scan tracker on this host:
#
#   lag      change-copy lag, from a write on the source to its durability on
#            staging (p50, p99, max), at steady random-write loads of 5, 20
#            and 50 MB/s on sparse disks of 1, 4 and 16 GiB. lag_writer.c
#            writes stamped 4 KiB blocks (O_DIRECT, absolute schedule) and
#            records each write's completion; lag_observe.py follows the
#            agent's status and log and staging's replica (method there and in
#            docs/performance.md). The same numbers also give the write
#            amplification of every load: bytes read, sent and put on the wire
#            per byte written.
#   amp      write amplification at 4 MB/s of 4 KiB and of 8 KiB random writes
#            on the BENCH_AMP_SIZE disk.
#   disks    the lag with several disks of one machine: 1, 4 and 16 sparse
#            disks of BENCH_LAG_DISK_SIZE, one load of BENCH_LAG_DISKS_RATE
#            spread evenly over them (a writer per disk), the rounds the
#            machine's (one agent): how the lag grows with the number of disks.
#   rescan   rescan after tracking loss: a 4 GiB disk of random data mirrored,
#            1 % of it changed while the agent is down (in 4 KiB writes, then
#            in 64 KiB writes), the checkpoint removed (the path a lost
#            tracker takes: every hash fetched from staging, one comparing
#            pass); bytes sent, and the rescan's time against reading the
#            disk once with dd (O_DIRECT, page cache dropped, same run).
# Every replica is compared with its source at the end. The agent runs with
# livemigd's default nice = 10 and the writer at nice 0, as a production
# service would: the load comes first, the agent gets what is left.
#
#   tests/bench/lag.sh BUILD_DIR        (make bench-lag runs it; needs root)
#
# Knobs (environment):
#   BENCH_ONLY="lag amp disks rescan"  the parts to run
#   BENCH_LAG_SIZES="1G 4G 16G"    disk sizes (truncate syntax)
#   BENCH_LAG_RATES="5 20 50"      write loads, MB/s (10^6 bytes)
#   BENCH_LAG_IO=4096              bytes per write of the lag loads
#   BENCH_LAG_MIN_SECS=30          a load's measured window lasts at least this
#   BENCH_LAG_MIN_ROUNDS=2         ... and this many change-copy rounds
#   BENCH_LAG_MAX_SECS=420         a load is cut off after this (marked)
#   BENCH_SCAN_INTERVAL=5s         scan_interval (the default of livemigd.conf)
#   BENCH_LAG_DISKS="1 4 16"       disk counts of the disks part
#   BENCH_LAG_DISK_SIZE=256M       each disk's size there
#   BENCH_LAG_DISKS_RATE=5         its load, MB/s, over all the disks
#   BENCH_AMP_SIZE=4G              the disk of the amp part
#   BENCH_RESCAN_SIZE=4G           the disk of the rescan part
#   BENCH_SRC_DIR=/dev/shm         where the lag disks' sparse image files are
#                                  (the rescan's and staging's store: TMPDIR)
# Results and method: docs/performance.md.
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source=../integration/agent_lib.sh
. "$TESTS/agent_lib.sh"
# shellcheck source=lag_lib.sh
. "$(dirname "$0")/lag_lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ONLY=" ${BENCH_ONLY:-lag amp disks rescan} "
SIZES=${BENCH_LAG_SIZES:-1G 4G 16G}
RATES=${BENCH_LAG_RATES:-5 20 50}
IO=${BENCH_LAG_IO:-4096}
MIN_SECS=${BENCH_LAG_MIN_SECS:-30}
MIN_ROUNDS=${BENCH_LAG_MIN_ROUNDS:-2}
MAX_SECS=${BENCH_LAG_MAX_SECS:-420}
INTERVAL=${BENCH_SCAN_INTERVAL:-5s}
AMP_SIZE=${BENCH_AMP_SIZE:-4G}
RESCAN_SIZE=${BENCH_RESCAN_SIZE:-4G}
DISK_COUNTS=${BENCH_LAG_DISKS:-1 4 16}
DISK_SIZE=${BENCH_LAG_DISK_SIZE:-256M}
DISKS_RATE=${BENCH_LAG_DISKS_RATE:-5}
LAG_WRITER=$T/lag_writer
RESULTS=$T/results.jsonl
unset JOURNAL_STREAM # the agent stamps its log lines only when not under journald

need_root
command -v cc >/dev/null || die "no C compiler: apt-get install -y build-essential   (or: ci/deps.sh bench)"
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$LAG_WRITER" "$BENCH_DIR/lag_writer.c" ||
	die "cannot build lag_writer"

load() {
	lag_loadavg
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# stamp_of LOG REGEX: seconds since the epoch of the first agent log line matching REGEX
stamp_of() {
	local stamp
	stamp=$(grep -E -- "$2" "$1" | sed -n 1p | cut -d' ' -f1)
	[ -n "$stamp" ] || return 1
	date -d "$stamp" +%s.%N
}

# detach DEV: now, and not again at exit (the number may be another's by then)
detach() {
	losetup -d "$1" || echo "bench: note: $1 was detached already"
	sed -i "\|^$1\$|d" "$T/.loops"
}

# The lag disks' image files live in SRC_DIR (tmpfs by default): a file
# written at random in 4 KiB pieces has about a million extents per 4 GiB on
# ext4, and deleting one there took over ten minutes of discards
SRC_DIR=$(mktemp -d "${BENCH_SRC_DIR:-/dev/shm}/livemig-lag.XXXXXX") || die "cannot make a directory in ${BENCH_SRC_DIR:-/dev/shm}"
_bench_cleanup() {
	local rc=$?
	rm -rf "$SRC_DIR" # freed once the loop devices are detached
	(exit "$rc")
	_lib_cleanup
}
trap _bench_cleanup EXIT

# A machine replicated from scratch: sets DEV (its first disk), NAME,
# LAG_DEVS, LAG_REPLICAS, STAGING_*, AGENT_*.
# start_replica NAME SIZE [direct|buffered] [NDISKS]: direct = an image in $T
# (on disk) with the loop device's direct I/O, else a buffered loop device on
# SRC_DIR; NDISKS disks of SIZE (default 1)
start_replica() {
	local img i
	NAME=$1
	STAGING_STORE=$T/store.$NAME
	LAG_DEVS=()
	LAG_REPLICAS=()
	for ((i = 0; i < ${4:-1}; i++)); do
		img=$SRC_DIR/$1.$i.img
		[ "${3:-}" = direct ] && img=$T/$1.$i.img
		rm -f "$img"
		truncate -s "$2" "$img"
		if [ "${3:-}" = direct ]; then
			DEV=$(losetup --find --show --direct-io=on "$img") || die "cannot attach $img"
			echo "$DEV" >>"$T/.loops"
		else
			DEV=$(make_loop "$img")
		fi
		LAG_DEVS+=("$DEV")
		LAG_REPLICAS+=("$(replica "$NAME" "d$i")")
	done
	DEV=${LAG_DEVS[0]}
	start_staging
	write_agent_config "$NAME" "${LAG_DEVS[@]}" -- "scan_interval = $INTERVAL"
	# livemigd's default priority: the production load comes first
	sed -i 's/^nice = 0$/nice = 10/' "$T/$NAME.conf"
}

# one_load LABEL SIZE RATE_MBS IO RUN: lag_lib.sh's load on the machine's disks
one_load() {
	lag_load "$@"
}

# The replicas equal the sources once a final sync is through.
verify_replica() {
	lag_verify "$NAME"
}

echo "==> $(nproc) CPUs, $(uname -r), $(free -g | awk '/^Mem/ {print $2}') GiB; $("$BUILD/livemigd" --version 2>&1 | sed -n 1p)"
echo "    load average before: $(load)   ($(uptime))"
setup_pki
: >"$RESULTS"
run=0

lag_disk() { # lag_disk SIZE [amp]
	local size=$1 t0 rate
	start_replica "lag-$size" "$size"
	t0=$SECONDS
	start_agent "$NAME"
	wait_for_log "$AGENT_LOG" "round 1: " 1800 || die "$NAME: no first change-copy round"
	echo "  $size: mirror and first round $((SECONDS - t0)) s"
	if [[ $ONLY == *" lag "* ]]; then
		for rate in $RATES; do
			run=$((run + 1))
			one_load "$size @ $rate MB/s" "$size" "$rate" "$IO" "$run"
		done
	fi
	if [ "${2:-}" = amp ]; then
		for io in 4096 8192; do
			run=$((run + 1))
			one_load "amp $((io / 1024)) KiB @ 4 MB/s" "$size" 4 "$io" "$run"
		done
	fi
	verify_replica
	stop_machine
}

# stop_machine: the agent, staging, the loop devices, the images, the store
stop_machine() {
	local dev
	stop_agent
	stop_staging
	for dev in "${LAG_DEVS[@]}"; do detach "$dev"; done
	rm -rf "$SRC_DIR/$NAME".*.img "$STAGING_STORE"
}

if [[ $ONLY == *" lag "* ]] || [[ $ONLY == *" amp "* ]]; then
	echo "==> change-copy lag (scan tracker, scan_interval $INTERVAL, agent at nice 10; ${IO}-byte random writes, O_DIRECT, nice 0)"
	amp_done=
	for size in $SIZES; do
		if [[ $ONLY == *" amp "* ]] && [ "$size" = "$AMP_SIZE" ]; then
			lag_disk "$size" amp
			amp_done=1
		elif [[ $ONLY == *" lag "* ]]; then
			lag_disk "$size"
		fi
	done
	if [[ $ONLY == *" amp "* ]] && [ -z "$amp_done" ]; then
		ONLY_SAVE=$ONLY
		ONLY=" amp "
		lag_disk "$AMP_SIZE" amp
		ONLY=$ONLY_SAVE
	fi
fi

# ---- several disks of one machine ----
if [[ $ONLY == *" disks "* ]]; then
	echo "==> change-copy lag with several disks (scan tracker, scan_interval $INTERVAL; disks of $DISK_SIZE, $DISKS_RATE MB/s over all of them)"
	for n in $DISK_COUNTS; do
		start_replica "disks-$n" "$DISK_SIZE" buffered "$n"
		t0=$SECONDS
		start_agent "$NAME"
		wait_for_log "$AGENT_LOG" "round 1: " 1800 || die "$NAME: no first change-copy round"
		echo "  $n x $DISK_SIZE: mirror and first round $((SECONDS - t0)) s"
		run=$((run + 1))
		one_load "$n x $DISK_SIZE @ $DISKS_RATE MB/s" "$n x $DISK_SIZE" "$DISKS_RATE" "$IO" "$run"
		verify_replica
		stop_machine
	done
fi

# ---- rescan after tracking loss ----
# rescan_once LABEL COUNT IO: change COUNT random slots of IO bytes with the
# agent down, remove the checkpoint, restart, wait for the rescan
rescan_once() {
	local label=$1 count=$2 io=$3 t_a t_b sent wire
	run=$((run + 1))
	"$T/lag_writer" --count "$count" "$DEV" "$io" "$run" "$run" "$T/w.$run" >/dev/null ||
		die "rescan: lag_writer --count failed"
	rm -f "$T/$NAME.state/checkpoint.json"
	drop_caches
	start_agent "$NAME"
	wait_for_log "$AGENT_LOG" "d0: rescan complete" 1800 || die "rescan: no 'rescan complete'"
	t_a=$(stamp_of "$AGENT_LOG" "d0: rescan: comparing") || die "rescan: no start line"
	t_b=$(stamp_of "$AGENT_LOG" "d0: rescan complete")
	sent=$(status_get "s['sent_bytes']")
	wire=$(status_get "s['wire_bytes']")
	RESCAN_SECS=$(python3 -c "print('%.2f' % ($t_b - $t_a))")
	echo "    $label: changed $((count * io)) bytes; rescan $RESCAN_SECS s, sent $sent source bytes ($(python3 -c "print('%.2f' % (100 * $sent / $BYTES))") % of the disk), $wire on the wire; load $(load)"
	printf '{"label":"rescan %s","changed":%d,"secs":%s,"sent":%d,"wire":%d,"disk":%d,"load":"%s"}\n' \
		"$label" $((count * io)) "$RESCAN_SECS" "$sent" "$wire" "$BYTES" "$(load)" >>"$RESULTS"
	verify_replica
	stop_agent
}

read_once() {
	local t0
	drop_caches
	t0=$EPOCHREALTIME
	# at the agent's priority, so that both compete alike with the rest
	nice -n $((10 - $(nice))) dd if="$DEV" of=/dev/null bs=1M iflag=direct status=none || die "dd failed"
	READ_SECS=$(python3 -c "print('%.2f' % ($EPOCHREALTIME - $t0))")
	echo "    read once with dd (O_DIRECT, 1 MiB): $READ_SECS s; load $(load)"
	printf '{"label":"read once","secs":%s,"load":"%s"}\n' "$READ_SECS" "$(load)" >>"$RESULTS"
}

if [[ $ONLY == *" rescan "* ]]; then
	echo "==> rescan after tracking loss ($RESCAN_SIZE of random data, 1 % changed while the agent was down)"
	start_replica rescan "$RESCAN_SIZE" direct
	BYTES=$(blockdev --getsize64 "$DEV")
	run=$((run + 1))
	"$T/lag_writer" --count $((BYTES >> 20)) "$DEV" 1048576 "$run" "$run" "$T/w.fill" >/dev/null ||
		die "rescan: filling the disk failed"
	t0=$SECONDS
	start_agent "$NAME"
	wait_for_log "$AGENT_LOG" "round 1: " 1800 || die "rescan: no first change-copy round"
	echo "    mirror and first round $((SECONDS - t0)) s"
	stop_agent
	read_once
	r1=$READ_SECS
	rescan_once "1 % in 4 KiB writes" $((BYTES / 100 / 4096)) 4096
	s1=$RESCAN_SECS
	read_once
	r2=$READ_SECS
	rescan_once "1 % in 64 KiB writes" $((BYTES / 100 / 65536)) 65536
	s2=$RESCAN_SECS
	read_once
	r3=$READ_SECS
	python3 -c "
r1, r2, r3, s1, s2 = $r1, $r2, $r3, $s1, $s2
print('    rescan / read once: 4 KiB writes %.2fx, 64 KiB writes %.2fx (reads around each)' % (2 * s1 / (r1 + r2), 2 * s2 / (r2 + r3)))"
	stop_staging
fi

echo
echo "==> summary"
python3 "$BENCH_DIR/lag_report.py" "$RESULTS"
echo "==> results (JSON lines)"
cat "$RESULTS"
echo "==> done in $SECONDS s; load average now $(load)"
