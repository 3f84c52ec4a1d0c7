#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark (not a test): bytes the kmod tracker's rounds read and send per
# byte written, for 4 KiB and 8 KiB random writes, whole blocks against the
# pieces written (docs/performance.md, "Write amplification"). One QEMU boot
# of Debian's kernel (tests/kmod/run.sh builds the module and boots, through
# kmod_bench_lib.sh; the guest side is tests/bench/kmod-pieces-guest.sh)
# running the real livemigd and livemig-staging of the build directory.
#   tests/bench/kmod-pieces.sh          (root; build the programs first: make)
# Environment: as tests/kmod/run.sh (KVER, OUT: default build/kmod-pieces),
#   PIECES_BENCH_IOS (writes per run, default 600), PIECES_BENCH_IOPS (their
#   rate, default 30).
set -euo pipefail
# shellcheck source=kmod_bench_lib.sh
. "$(dirname "$0")/kmod_bench_lib.sh" kmod-pieces
export GUEST_ENV="PIECES_BENCH_IOS=${PIECES_BENCH_IOS:-600} PIECES_BENCH_IOPS=${PIECES_BENCH_IOPS:-30}"
kmod_bench_run kmod-pieces-guest.sh
