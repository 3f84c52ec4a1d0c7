#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of tests/bench/kmod-lag.sh (started by tests/kmod/run.sh,
# chrooted into the host's userland over 9p). A benchmark, not a test: it
# prints figures and fails only when it cannot measure or a replica differs
# from its source.
#
# The real livemigd with tracker = kmod (scan_interval KMOD_LAG_INTERVAL,
# compression = none: the stamped blocks do not compress, and TCG has no CPU
# to spare; nice = KMOD_LAG_AGENT_NICE, 0 by default: on one emulated vCPU
# an agent at lag.sh's nice 10 gets about a tenth of the CPU the writer
# leaves, which measures the scheduler's weights rather than the agent)
# replicates to a livemig-staging in this guest over loopback, its store on
# an ext4 disk of its own (KMOD_LAG_STORE=tmpfs: on the guest's tmpfs, where
# a sync costs nothing; for the probes and small loads only, the guest has
# 1 GiB of memory). In order, one boot:
#   link    the initial mirror of a 128 MiB disk of random bytes: its rate
#           (bytes over the time between the log's "initial mirror from" and
#           "initial mirror complete") is the link rate of this boot, the
#           rate the whole path (read, TLS, staging's write and sync) moves
#           whole blocks at; each load's backlog is divided by it. Then 4096
#           scattered 4 KiB writes on that disk and one round for them: the
#           rate the same path moves scattered pieces at (a slot and a frame
#           each)
#   writer  lag_writer alone (no agent) as fast as it goes for 10 s on the
#           first size's disk: the most this guest writes
#   sizes   for each disk of KMOD_LAG_SIZES: a machine of that one disk,
#           mirrored, then lag_lib.sh's loads at KMOD_LAG_RATES
#   slow    one KMOD_LAG_SLOW_RATE load on the first size with
#           KMOD_LAG_SLOW_INTERVAL (livemigd's default 5 s): the interval's
#           share of the lag
#   disks   for each count of KMOD_LAG_DISKS: a machine of that many disks
#           of KMOD_LAG_DISK_SIZE, one load of KMOD_LAG_DISKS_RATE over all
# Every disk is discarded (all zeros) before its machine starts, so each
# mirror starts from a sparse disk; every replica is compared with its
# source after `livemig sync`. Results: OUT/results.jsonl (lag_report.py).
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"
# shellcheck source=lag_lib.sh
. /mnt/repo/tests/bench/lag_lib.sh

SIZES=${KMOD_LAG_SIZES//,/ }
RATES=${KMOD_LAG_RATES//,/ }
DISK_COUNTS=${KMOD_LAG_DISKS//,/ }
DISK_SIZE=$KMOD_LAG_DISK_SIZE
DISKS_RATE=$KMOD_LAG_DISKS_RATE
INTERVAL=$KMOD_LAG_INTERVAL
SLOW_INTERVAL=$KMOD_LAG_SLOW_INTERVAL
IO=$KMOD_LAG_IO
MIN_SECS=$KMOD_LAG_MIN_SECS
MIN_ROUNDS=$KMOD_LAG_MIN_ROUNDS
MAX_SECS=$KMOD_LAG_MAX_SECS
AGENT_NICE=${KMOD_LAG_AGENT_NICE:-0}
# the observer is a Python program on the same emulated vCPU: fewer looks
LAG_SAMPLES=${KMOD_LAG_SAMPLES:-10}
LAG_WRITER=$BUILD/bench/lag_writer
RESULTS=$OUT/results.jsonl
unset JOURNAL_STREAM # the agent stamps its log lines only when not under journald
[ -x "$LAG_WRITER" ] || die "no $LAG_WRITER (kmod-lag.sh builds it)"

# the disk with this serial (kmod-lag.sh names them)
by_serial() {
	local f
	for f in /sys/block/vd*/serial; do
		[ "$(cat "$f")" = "$1" ] && { echo "/dev/$(basename "$(dirname "$f")")"; return 0; }
	done
	die "no disk with serial $1"
}

# seconds since the epoch of the first agent log line matching REGEX
stamp_of() {
	local stamp
	stamp=$(grep -E -- "$1" "$AGENT_LOG" | sed -n 1p | cut -d' ' -f1)
	[ -n "$stamp" ] || die "no log line '$1'"
	date -d "$stamp" +%s.%N
}

# start_machine NAME INTERVAL DEV...: a machine of these disks, discarded
# first (KEEP_DATA=1: not), replicated from scratch (its initial mirror done
# when this returns); sets LAG_DEVS, LAG_REPLICAS, NAME
start_machine() {
	local dev i=0 t0=$SECONDS
	NAME=$1
	local interval=$2
	shift 2
	LAG_DEVS=("$@")
	LAG_REPLICAS=()
	for dev in "$@"; do
		[ -n "${KEEP_DATA:-}" ] || blkdiscard "$dev" || die "blkdiscard $dev"
		LAG_REPLICAS+=("$(replica "$NAME" "d$i")")
		i=$((i + 1))
	done
	write_agent_config "$NAME" "$@" -- "scan_interval = $interval" "tracker = kmod" "compression = none"
	sed -i "s/^nice = 0\$/nice = $AGENT_NICE/" "$T/$NAME.conf"
	start_agent "$NAME"
	wait_st '.state == "CHANGE_COPY" and .rounds >= 1' 600
	[ "$(st .tracker)" = kmod ] || die "the agent runs tracker $(st .tracker), not kmod"
	echo "  $NAME: $# disk(s), mirror and first round $((SECONDS - t0)) s"
}

stop_machine() {
	lag_verify "$NAME"
	stop_agent_checked
}

echo "==> $(nproc) vCPU, $(uname -r), $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB; $("$BUILD/livemigd" --version 2>&1 | sed -n 1p)"
insmod "$KO" || die "insmod $KO"
mkdir -p "$T/storefs"
if [ "${KMOD_LAG_STORE:-disk}" = disk ]; then
	STORE_DEV=$(by_serial store)
	# few inodes (a handful of files), tables written now rather than by
	# ext4's lazy init during the loads
	mkfs.ext4 -q -F -T largefile4 -E lazy_itable_init=0,lazy_journal_init=0 "$STORE_DEV" ||
		die "mkfs.ext4 $STORE_DEV"
	mount -o noatime "$STORE_DEV" "$T/storefs" || die "mount $STORE_DEV"
	track_mount "$T/storefs"
fi
echo "==> staging's store: ${KMOD_LAG_STORE:-disk} ($(df --output=fstype "$T/storefs" | tail -n 1))"
STAGING_STORE=$T/storefs/store
start_staging
: >"$RESULTS"
run=0

echo "==> link: initial mirror of 128 MiB of random bytes (tracker kmod, compression none)"
KEEP_DATA=1 start_machine link "$INTERVAL" "$(by_serial link)"
t_a=$(stamp_of 'd0: initial mirror from offset')
t_b=$(stamp_of 'd0: initial mirror complete')
bytes=$(blockdev --getsize64 "${LAG_DEVS[0]}")
LINK_BPS=$(awk -v b="$bytes" -v a="$t_a" -v z="$t_b" 'BEGIN { printf "%d", b / (z - a) }')
echo "  link: $bytes bytes in $(awk -v a="$t_a" -v z="$t_b" 'BEGIN { printf "%.2f", z - a }') s: $(awk -v r="$LINK_BPS" 'BEGIN { printf "%.1f", r / 1e6 }') MB/s"
printf '{"label":"link","bytes":%d,"link_bps":%d}\n' "$bytes" "$LINK_BPS" >>"$RESULTS"
lm sync >/dev/null || die "link: livemig sync"
rounds0=$(grep -c 'livemigd: info: round ' "$AGENT_LOG")
"$LAG_WRITER" --count 4096 "${LAG_DEVS[0]}" 4096 999 999 "$T/w.pieces" >/dev/null || die "lag_writer --count"
lm sync >/dev/null || die "pieces: livemig sync"
# the seconds of the rounds that carried them, from their log lines
psecs=$(grep 'livemigd: info: round ' "$AGENT_LOG" | tail -n +$((rounds0 + 1)) |
	sed -E 's/.*, ([0-9.]+) s, lag .*/\1/' | awk '{ s += $1 } END { print s }')
PIECE_BPS=$(awk -v s="$psecs" 'BEGIN { printf "%d", 16777216 / s }')
echo "  link: 4096 scattered 4 KiB writes (16 MiB) sent in $psecs s of rounds: $(awk -v r="$PIECE_BPS" 'BEGIN { printf "%.2f", r / 1e6 }') MB/s of pieces"
printf '{"label":"pieces","bytes":16777216,"secs":%s,"piece_bps":%d}\n' "$psecs" "$PIECE_BPS" >>"$RESULTS"
lag_verify link
stop_agent_checked

echo "==> writer: lag_writer alone, as fast as it goes, 10 s on $(by_serial "lag${SIZES%% *}")"
"$LAG_WRITER" "$(by_serial "lag${SIZES%% *}")" 0 "$IO" 998 998 "$T/w.max" >"$T/w.max.out" 2>&1 &
wpid=$!
sleep 10
kill -TERM "$wpid"
wait "$wpid" || die "lag_writer alone: $(cat "$T/w.max.out")"
echo "  writer: $(cat "$T/w.max.out")"

echo "==> change-copy lag (tracker kmod, scan_interval $INTERVAL, agent at nice $AGENT_NICE; ${IO}-byte random writes, O_DIRECT, nice 0)"
for size in $SIZES; do
	start_machine "lag-$size" "$INTERVAL" "$(by_serial "lag$size")"
	for rate in $RATES; do
		run=$((run + 1))
		lag_load "$size @ $rate MB/s" "$size" "$rate" "$IO" "$run"
	done
	stop_machine
done

if [ -n "$SLOW_INTERVAL" ]; then
	size=${SIZES%% *}
	echo "==> the same with scan_interval $SLOW_INTERVAL (livemigd's default), $size at $KMOD_LAG_SLOW_RATE MB/s"
	start_machine "slow-$size" "$SLOW_INTERVAL" "$(by_serial "lag$size")"
	run=$((run + 1))
	lag_load "$size @ $KMOD_LAG_SLOW_RATE MB/s, $SLOW_INTERVAL" "$size" "$KMOD_LAG_SLOW_RATE" "$IO" "$run"
	stop_machine
fi

echo "==> several disks of one machine ($DISK_SIZE each, $DISKS_RATE MB/s over all of them, scan_interval $INTERVAL)"
for n in $DISK_COUNTS; do
	devs=()
	for ((i = 0; i < n; i++)); do devs+=("$(by_serial "n$i")"); done
	start_machine "disks-$n" "$INTERVAL" "${devs[@]}"
	run=$((run + 1))
	lag_load "$n x $DISK_SIZE @ $DISKS_RATE MB/s" "$n x $DISK_SIZE" "$DISKS_RATE" "$IO" "$run"
	stop_machine
done
stop_staging
rmmod livemig_cbt
echo "bench: done"
