#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark (not a test): the recovery point objective with the kernel
# tracker, in one QEMU boot of Debian's kernel (TCG; tests/kmod/run.sh
# through kmod_bench_lib.sh; the guest side is tests/bench/kmod-lag-guest.sh):
# the change-copy lag of stamped random writes at steady loads on sparse
# disks of 1, 4 and 16 GiB, then with 1, 4 and 16 disks of one machine, each
# beside the backlog's transfer time at the link rate measured in the same
# boot. The method is tests/bench/lag.sh's (lag_lib.sh, lag_writer.c,
# lag_observe.py, lag_report.py); docs/performance.md has it and the results.
#   tests/bench/kmod-lag.sh     (root; make bench-kmod-lag builds first)
#
# The guest's disks beside run.sh's: a 128 MiB disk of random bytes (the
# link: its initial mirror's rate), the sparse disks of KMOD_LAG_SIZES, 16
# sparse disks of KMOD_LAG_DISK_SIZE and a 64 GiB sparse disk for staging's
# store (ext4), as image files in a directory of BENCH_SRC_DIR (tmpfs by
# default: a file written at random in 4 KiB pieces fragments, and deleting
# one on ext4 here took minutes), removed at the end.
# Knobs (environment; lists take commas, they cross into the guest):
#   KMOD_LAG_SIZES=1G,4G,16G      disk sizes
#   KMOD_LAG_RATES=0.25,0.5,1     write loads, MB/s: what this TCG guest
#                                 sustains (its agent moves scattered 4 KiB
#                                 pieces at about 1 MB/s: docs/performance.md)
#   KMOD_LAG_DISKS=1,4,16         disk counts of the several-disks part (empty: none)
#   KMOD_LAG_DISK_SIZE=256M       each disk's size there
#   KMOD_LAG_DISKS_RATE=0.5       its load, MB/s, over all the disks
#   KMOD_LAG_INTERVAL=200ms       the agent's scan_interval (pause between rounds)
#   KMOD_LAG_SLOW_INTERVAL=5s     one more load on the first size with this
#   KMOD_LAG_SLOW_RATE=0.5        interval (livemigd's default) at this rate;
#                                 KMOD_LAG_SLOW_INTERVAL= (empty): none
#   KMOD_LAG_MIN_SECS=20, KMOD_LAG_MIN_ROUNDS=3, KMOD_LAG_MAX_SECS=120
#                                 a load's window (lag_observe.py)
#   KMOD_LAG_AGENT_NICE=0         livemigd's nice in the guest
#   KMOD_LAG_SAMPLES=10           writes a second the observer looks for in
#                                 staging's image
#   KMOD_LAG_IO=4096              bytes per write
#   KMOD_LAG_STORE=disk           staging's store: ext4 on a disk of its own;
#                                 tmpfs: the guest's memory (syncs cost
#                                 nothing; small runs only)
# and those of tests/kmod/run.sh (KVER, OUT: default build/kmod-lag,
# QEMU_TIMEOUT: default 3600).
set -euo pipefail
# shellcheck source=kmod_bench_lib.sh
. "$(dirname "$0")/kmod_bench_lib.sh" kmod-lag
SIZES=${KMOD_LAG_SIZES:-1G,4G,16G}
DISK_SIZE=${KMOD_LAG_DISK_SIZE:-256M}
export QEMU_TIMEOUT=${QEMU_TIMEOUT:-3600}

# the writer, built here (the guest has no time for a compiler under TCG)
mkdir -p "$REPO/$LIVEMIG_BUILD/bench"
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$REPO/$LIVEMIG_BUILD/bench/lag_writer" "$REPO/tests/bench/lag_writer.c"

IMG=$(mktemp -d "${BENCH_SRC_DIR:-/dev/shm}/livemig-kmod-lag.XXXXXX")
trap 'rm -rf "$IMG"' EXIT
# a disk the guest finds by its serial (/sys/block/vdX/serial)
opts=()
disk() { # disk SERIAL SIZE
	truncate -s "$2" "$IMG/$1.img"
	opts+=(-drive "file=$IMG/$1.img,if=none,id=$1,format=raw,discard=unmap,cache=writeback"
		-device "virtio-blk-pci,drive=$1,serial=$1")
}
disk link 128M
head -c 128M /dev/urandom >"$IMG/link.img"
for s in ${SIZES//,/ }; do disk "lag$s" "$s"; done
for i in $(seq 0 15); do disk "n$i" "$DISK_SIZE"; done
disk store 64G
export QEMU_OPTS="${QEMU_OPTS:-} ${opts[*]}"
GUEST_ENV="KMOD_LAG_SIZES=$SIZES KMOD_LAG_RATES=${KMOD_LAG_RATES:-0.25,0.5,1}"
GUEST_ENV+=" KMOD_LAG_DISKS=${KMOD_LAG_DISKS-1,4,16} KMOD_LAG_DISK_SIZE=$DISK_SIZE"
GUEST_ENV+=" KMOD_LAG_DISKS_RATE=${KMOD_LAG_DISKS_RATE:-0.5} KMOD_LAG_INTERVAL=${KMOD_LAG_INTERVAL:-200ms}"
GUEST_ENV+=" KMOD_LAG_SLOW_INTERVAL=${KMOD_LAG_SLOW_INTERVAL-5s} KMOD_LAG_SLOW_RATE=${KMOD_LAG_SLOW_RATE:-0.5}"
GUEST_ENV+=" KMOD_LAG_IO=${KMOD_LAG_IO:-4096} KMOD_LAG_AGENT_NICE=${KMOD_LAG_AGENT_NICE:-0}"
GUEST_ENV+=" KMOD_LAG_SAMPLES=${KMOD_LAG_SAMPLES:-10} KMOD_LAG_STORE=${KMOD_LAG_STORE:-disk}"
GUEST_ENV+=" KMOD_LAG_MIN_SECS=${KMOD_LAG_MIN_SECS:-20} KMOD_LAG_MIN_ROUNDS=${KMOD_LAG_MIN_ROUNDS:-3}"
GUEST_ENV+=" KMOD_LAG_MAX_SECS=${KMOD_LAG_MAX_SECS:-120}"
export GUEST_ENV
# the guest's own lines (the kernel's start with "[")
kmod_bench_run kmod-lag-guest.sh '^(==>|  |bench:)'
echo "==> summary (results as JSON lines: $OUT/results.jsonl)"
python3 "$REPO/tests/bench/lag_report.py" "$OUT/results.jsonl"
