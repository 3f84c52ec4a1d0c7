#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark (not a test): bytes the kmod tracker's rounds read and send per
# byte written, for 4 KiB and 8 KiB random writes, whole blocks against the
# pieces written (docs/performance.md, "Write amplification"). One QEMU boot
# of Debian's kernel (tests/kmod/run.sh builds the module and boots; the
# guest side is tests/bench/kmod-pieces-guest.sh) running the real livemigd
# and livemig-staging of the build directory.
#   tests/bench/kmod-pieces.sh          (root; build the programs first: make)
# Environment: as tests/kmod/run.sh (KVER, OUT: default build/kmod-pieces),
#   PIECES_BENCH_IOS (writes per run, default 600), PIECES_BENCH_IOPS (their
#   rate, default 30).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export OUT=${OUT:-$REPO/build/kmod-pieces}
mkdir -p "$(dirname "$OUT")"
command -v fio >/dev/null || { echo "kmod-pieces: no fio (apt-get install fio)"; exit 2; }
command -v jq >/dev/null || { echo "kmod-pieces: no jq (apt-get install jq)"; exit 2; }
export GUEST_ENV="LIVEMIG_BUILD=${LIVEMIG_BUILD:-build} PIECES_BENCH_IOS=${PIECES_BENCH_IOS:-600} PIECES_BENCH_IOPS=${PIECES_BENCH_IOPS:-30}"
rc=0
"$REPO/tests/kmod/run.sh" ../bench/kmod-pieces-guest.sh >"$OUT.log" 2>&1 || rc=$?
grep -E '^bench:' "$OUT/serial.log" 2>/dev/null || true
if [ $rc != 0 ]; then
	tail -n 40 "$OUT.log"
	echo "kmod-pieces: the benchmark did not complete (log $OUT.log, $OUT/serial.log)"
	exit 1
fi
