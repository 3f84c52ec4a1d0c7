# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The host side of the benchmarks that run the real agent in one QEMU boot
# with the kernel tracker (tests/bench/kmod-pieces.sh, kmod-lag.sh): the
# boot itself is tests/kmod/run.sh's (module built like DKMS, initramfs,
# the host's userland over 9p). Sourced by the bench as
#     . "$(dirname "$0")/kmod_bench_lib.sh" NAME
# which sets REPO, OUT (default build/NAME; run.sh's output directory),
# LIVEMIG_BUILD (the build directory, relative to the tree: the guest sees
# the tree at /mnt/repo) and checks fio and jq. Then:
#   kmod_bench_run GUEST_SCRIPT [REGEX]
#        boot with tests/bench/GUEST_SCRIPT as the guest test, GUEST_ENV
#        passed on (NAME=VALUE words, no blanks inside), the whole log in
#        OUT.log; prints the guest's lines that match REGEX (grep -E;
#        default: those that start with "bench:"); exits 1 with the log's
#        tail when the guest did not complete.

KMOD_BENCH_NAME=$1
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export OUT=${OUT:-$REPO/build/$KMOD_BENCH_NAME}
export LIVEMIG_BUILD=${LIVEMIG_BUILD:-build}
mkdir -p "$(dirname "$OUT")"
command -v fio >/dev/null || { echo "$KMOD_BENCH_NAME: no fio (apt-get install fio)"; exit 2; }
command -v jq >/dev/null || { echo "$KMOD_BENCH_NAME: no jq (apt-get install jq)"; exit 2; }

kmod_bench_run() {
	local rc=0
	export GUEST_ENV="LIVEMIG_BUILD=$LIVEMIG_BUILD ${GUEST_ENV:-}"
	"$REPO/tests/kmod/run.sh" "../bench/$1" >"$OUT.log" 2>&1 || rc=$?
	grep -E "${2:-^bench:}" "$OUT/serial.log" 2>/dev/null || true
	if [ $rc != 0 ]; then
		tail -n 40 "$OUT.log"
		echo "$KMOD_BENCH_NAME: the benchmark did not complete (log $OUT.log, $OUT/serial.log)"
		exit 1
	fi
}
