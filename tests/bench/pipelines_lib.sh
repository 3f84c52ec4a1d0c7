# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # sets variables for the bench that sources it
#
# What mirror.sh and slowlink.sh both need to race livemig against the tool
# pipelines, so that both measure the same pipelines the same way: the
# receivers' process groups and the exit trap that kills them, the
# demo-shaped image on a loop device and its sha256, the gzip + openssl + nc
# and zstd + socat TLS 1.3 pipelines (receiver and sender), the sha256 check
# of every copy, and the small clocks and waits around them. How a run is
# timed, retried and reported stays in each bench.
#
# Sourced after tests/integration/lib.sh and agent_lib.sh (it uses $T,
# $TESTS, die, has_line, track_pid and the PKI those set up).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=$T/results
RECEIVER_TIMEOUT=${RECEIVER_TIMEOUT:-600} # seconds a receiver pipeline may run
unset JOURNAL_STREAM # the agent stamps its log lines only when not under journald

# ---- process groups of receiver pipelines, killed at exit ----
_BENCH_PGIDS=()
_bench_cleanup() {
	local rc=$? g
	for g in "${_BENCH_PGIDS[@]}"; do
		kill -TERM -- "-$g" 2>/dev/null
	done
	(exit "$rc")
	_lib_cleanup
}
trap _bench_cleanup EXIT

# ---- clocks and waits ----
sha() {
	openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

now() {
	echo "$EPOCHREALTIME"
}

# CPU seconds used so far by the running process PID
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# Sets CPU_NOW to the CPU seconds (user + system) used so far by this shell's
# waited-for children and theirs: the difference around a pipeline is its CPU
# cost. Must run in the main shell (not in $(...)), where `times` sees them.
children_cpu() {
	times >"$T/.times"
	CPU_NOW=$(awk 'NR == 2 {
		n = split($0, f, " "); s = 0
		for (i = 1; i <= n; i++) { split(f[i], p, "m"); s += p[1] * 60 + p[2] }
		printf "%.3f", s }' "$T/.times")
}

# wait_done LOG REGEX TIMEOUT: like wait_for_log, polling every 20 ms
wait_done() {
	local i
	for ((i = 0; i < $3 * 50; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

wait_port() {
	local i
	for i in $(seq 100); do
		ss -ltnH "sport = :$1" 2>/dev/null | has_line . && return 0
		sleep 0.05
	done
	return 1
}

log_time() { # seconds since the epoch of the first log line matching REGEX
	local stamp
	stamp=$(grep -m1 -E -- "$2" "$1" | cut -d' ' -f1)
	[ -n "$stamp" ] || return 1
	date -d "$stamp" +%s.%N
}

# ---- the image ----
# bench_image SIZE: the demo-shaped image (make_disk.py --seed 2026) on a loop
# device with direct I/O; sets IMG, BYTES, dev and SRC_SHA
bench_image() {
	echo "==> making the $1 demo-shaped image (make_disk.py --seed 2026)"
	IMG=$T/source.img
	python3 "$TESTS/make_disk.py" "$IMG" "$1" --seed 2026 || die "make_disk.py failed"
	BYTES=$(stat -c %s "$IMG")
	dev=$(losetup --find --show --direct-io=on "$IMG") || die "cannot attach $IMG to a loop device"
	echo "$dev" >>"$T/.loops"
	[ "$(losetup -n -O DIO "$dev" | tr -d ' ')" = 1 ] || echo "bench: warning: direct I/O is not on for $dev"
	SRC_SHA=$(sha "$dev")
	echo "    $dev ($BYTES bytes, direct-io on), sha256 $SRC_SHA"
	echo "    $(nproc) CPUs, $(uname -r); load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
}

verify() { # verify NAME FILE: the copy FILE must equal the source
	local got
	got=$(sha "$2")
	[ "$got" = "$SRC_SHA" ] || die "$1: the copy differs from the source (sha256 $got)"
}

# ---- the tool pipelines ----
# start_receiver PIPELINE ARGS...: run "bash -c PIPELINE _ ARGS" in its own
# process group (killed at exit); sets RPID. PIPELINE is single-quoted by the
# callers: its $1, $2 ... are ARGS.
start_receiver() {
	local script=$1
	shift
	setsid timeout "$RECEIVER_TIMEOUT" bash -c "set -o pipefail; $script" _ "$@" &
	RPID=$!
	_BENCH_PGIDS+=("$RPID")
}

# gzip_receiver PORT OUT: nc | openssl enc -d | gunzip | dd, listening on PORT
gzip_receiver() {
	# shellcheck disable=SC2016
	start_receiver 'nc -l 127.0.0.1 "$1" </dev/null | openssl enc -d -aes-256-ctr -pass pass:x -pbkdf2 |
		gunzip | dd of="$2" bs=1M conv=fsync status=none' "$1" "$2"
	wait_port "$1" || die "gzip pipeline: receiver did not listen on $1"
}

# gzip_send PORT: dd iflag=direct | gzip -1 | openssl enc | nc, the source to PORT
gzip_send() {
	dd if="$dev" bs=1M iflag=direct status=none | gzip -1 |
		openssl enc -aes-256-ctr -pass pass:x -pbkdf2 | nc -q0 127.0.0.1 "$1" ||
		die "gzip pipeline: sender failed"
	wait "$RPID" || die "gzip pipeline: receiver failed"
}

# zstd_receiver PORT OUT: socat OPENSSL-LISTEN (mutual TLS) | zstd -d | dd
zstd_receiver() {
	# shellcheck disable=SC2016
	start_receiver 'socat -u OPENSSL-LISTEN:"$1",bind=127.0.0.1,cert="$2",key="$3",cafile="$4",verify=1 - |
		zstd -d -q | dd of="$5" bs=1M conv=fsync status=none' \
		"$1" "$SERVER_CERT" "$SERVER_KEY" "$AGENT_CA" "$2"
	wait_port "$1" || die "zstd pipeline: receiver did not listen on $1"
}

# zstd_send LEVEL PORT: dd iflag=direct | zstd -LEVEL | socat TLS 1.3 to PORT
# (the certificate names 127.0.0.1, which a link shaper's address is too)
zstd_send() {
	dd if="$dev" bs=1M iflag=direct status=none | zstd "-$1" -q -c |
		socat -u - "OPENSSL:127.0.0.1:$2,cert=$PKI/bench-pipe.pem,key=$PKI/bench-pipe.key,cafile=$SERVER_CA,openssl-min-proto-version=TLS1.3" ||
		die "zstd+socat pipeline: sender failed"
	wait "$RPID" || die "zstd+socat pipeline: receiver failed"
}
