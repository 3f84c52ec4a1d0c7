#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The oracle (guest side; run by tests/kmod/run.sh guest_oracle.sh): the
# real livemigd with tracker = kmod mirrors a virtio disk holding a partition
# table and a mounted ext4 file system to a real livemig-staging (both in the
# guest, over loopback) while fio random writes and file creation/deletion
# run; at least MIN_ROUNDS SNAPSHOT rounds under load; then the writers stop,
# the file system is synced and frozen, a final `livemig sync`, and the
# replica's sha256 must equal the disk's. One pass per seed. Beside
# guest_agent_lib.sh's writers, direct random writes of 8 KiB at 4 KiB
# alignment (some straddle two 64 KiB blocks) and of 512 bytes: the module
# records the pieces of a block they touch and the agent sends only those
# (docs/kmod-abi.md), so a mask narrower than a write would show here.
# Environment (run.sh's GUEST_ENV): ORACLE_SEEDS (default 1,2,...,10),
# MIN_ROUNDS (default 50).
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"

SEEDS=$(echo "${ORACLE_SEEDS:-1,2,3,4,5,6,7,8,9,10}" | tr , ' ')
MIN_ROUNDS=${MIN_ROUNDS:-50}

# Small direct writes into preallocated files: 8 KiB at 4 KiB alignment,
# and 512 bytes (a piece written in part).
start_piece_writers() {
	local seed=$1
	fio --name=r8k --filename="$FS/r8k.dat" --size=6M --rw=randwrite --bs=8k --blockalign=4k \
		--ioengine=psync --direct=1 --randseed=$((seed + 2000)) --rate_iops=4 \
		--time_based --runtime=900 --output=/dev/null >/dev/null 2>&1 &
	_WRITER_PIDS+=($!)
	track_pid $!
	fio --name=r512 --filename="$FS/r512.dat" --size=2M --rw=randwrite --bs=512 \
		--ioengine=psync --direct=1 --randseed=$((seed + 3000)) --rate_iops=4 \
		--time_based --runtime=900 --output=/dev/null >/dev/null 2>&1 &
	_WRITER_PIDS+=($!)
	track_pid $!
}

insmod "$KO" || die "insmod $KO"
start_staging
mismatches=0
for seed in $SEEDS; do
	t0=$(date +%s)
	name=oracle-$seed
	echo "== seed $seed"
	make_fs
	# some data before the mirror starts
	fio --name=pre --filename="$FS/pre.dat" --size=8M --rw=write --bs=1M --randseed="$seed" \
		--refill_buffers --output=/dev/null >/dev/null 2>&1 || die "fio pre-fill"
	write_agent_config "$name" "$DISK"
	sed -i 's/^scan_interval = .*/scan_interval = 20ms\ntracker = kmod/' "$T/$name.conf"
	# the writers first: the initial mirror runs under load too
	start_writers "$seed"
	start_piece_writers "$seed"
	start_agent "$name"
	# the status names the tracker once the agent has chosen it: wait for that
	wait_st '.tracker == "kmod" or .tracker == "scan"' 300
	[ "$(st .tracker)" = kmod ] || die "seed $seed: the agent runs tracker $(st .tracker), not kmod ($(st .tracker_reason))"
	wait_st '.state == "CHANGE_COPY"' 300
	echo "   initial mirror done after $(($(date +%s) - t0)) s"
	g0=$(generations)
	wait_generations "$g0" "$MIN_ROUNDS" 300
	snaps=$(($(generations) - g0))
	stop_writers
	echo "   writers stopped after $(($(date +%s) - t0)) s"
	frozen_compare "$name" "seed $seed: $snaps SNAPSHOTs under load after the mirror, replica identical" ||
		mismatches=$((mismatches + 1))
	grep -qE "rescan" "$AGENT_LOG" && die "seed $seed: the agent rescanned although tracking was never interrupted"
	grep -q "does not tell the pieces" "$AGENT_LOG" && die "seed $seed: the agent sent whole blocks, not the pieces written"
	stop_agent_checked
	umount "$FS" || die "umount $FS"
	echo "   seed $seed took $(($(date +%s) - t0)) s"
done
[ "$mismatches" = 0 ] || die "oracle: $mismatches mismatch(es) over seeds $SEEDS"
pass "oracle: seeds $SEEDS, 0 mismatches"
