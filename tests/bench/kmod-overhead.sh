#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark (not a test): the cost of livemig_cbt's tracking on the write
# path, and its bitmap memory per TiB. One QEMU boot of Debian's kernel
# (tests/kmod/run.sh builds the module and boots; the guest side is
# tests/bench/kmod-overhead-guest.sh). Under TCG absolute IOPS mean nothing
# (the CPU is emulated); the tracked/untracked ratio of the same boot does.
# By default QEMU runs with -icount shift=0: the guest's clock then counts
# executed instructions (1 ns each), not host time, so IOPS are 10^9 over the
# instructions one write costs, and the ratio does not move with the host's
# load (wall-clock runs on this shared host varied by 2x). QEMU_OPTS= (empty)
# measures wall-clock time instead.
#   tests/bench/kmod-overhead.sh        (root; make bench-kmod)
# Environment: as tests/kmod/run.sh (KVER, KO, MODROOT, VMLINUZ), OUT
#   (default build/kmod-bench).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export OUT=${OUT:-$REPO/build/kmod-bench}
export QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
export QEMU_OPTS=${QEMU_OPTS-"-icount shift=0,sleep=off"}
mkdir -p "$(dirname "$OUT")"
command -v fio >/dev/null || { echo "kmod-bench: no fio (apt-get install fio)"; exit 2; }
command -v jq >/dev/null || { echo "kmod-bench: no jq (apt-get install jq)"; exit 2; }
rc=0
"$REPO/tests/kmod/run.sh" ../bench/kmod-overhead-guest.sh >"$OUT.log" 2>&1 || rc=$?
grep -E '^(run [0-9]|bench:)' "$OUT/serial.log" 2>/dev/null || true
if [ $rc != 0 ]; then
	tail -n 40 "$OUT.log"
	echo "kmod-bench: the benchmark did not complete (log $OUT.log, $OUT/serial.log)"
	exit 1
fi
tail -n 1 "$OUT.log"
