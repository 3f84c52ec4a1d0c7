#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Recovery point benchmark (not a test), on a loop-mounted XFS (reflink=1)
# and ext4 (copy-on-write deltas):
#   * staging's write throughput with 0, 1 and 20 points retained, as ratios
#     to 0 (random 1 MiB overwrites over a fully written disk, to the FLUSH's
#     ACK; runs interleaved 0 1 20 0 1 20 ...);
#   * bytes the store grows by per point against bytes changed after it;
#   * the time to make a point (MARK to its ACK) of a 1 TiB sparse image
#     against a 1 GiB one.
#
#   tests/bench/points.sh BUILD_DIR        (needs root)
# Knobs: BENCH_DISK=1G (disk size), BENCH_WRITES=256 (1 MiB overwrites per
# run), BENCH_RUNS=3, BENCH_ONLY="throughput bytes mark" (the parts to run),
# BENCH_FS="xfs ext4" (the stores). Results and method: docs/recovery-points.md.
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source=../integration/points_lib.sh
. "$TESTS/points_lib.sh"
need_root

DISK=${BENCH_DISK:-1G}
WRITES=${BENCH_WRITES:-256}
RUNS=${BENCH_RUNS:-3}
FSES=${BENCH_FS:-xfs ext4}
MACHINE=bench
KEEP=(--keep-all 1000h)

used() { df -B1 --output=used "$1" | sed -n 2p | tr -d ' '; }

# steps for N retained points, then the timed overwrites
steps_for() {
	local n=$1 i
	echo "data 1 0 $DISK 1"
	for i in $(seq 1 "$n"); do
		echo "overwrite 1 8 1M $((1000 + i))"
		echo "mark now"
	done
	echo "overwrite 1 $WRITES 1M 7"
}

setup_pki

# one_run FS N: RATE = MiB/s of the timed overwrites with N points retained
one_run() {
	local fs=$1 n=$2 out
	rm -rf "$T/$fs/store"
	mkdir -p "$T/$fs/store"
	STAGING_STORE=$T/$fs/store
	start_staging "${KEEP[@]}"
	steps_for "$n" >"$T/steps"
	out=$T/run.$fs.$n
	frames "$MACHINE" --disk "1:vda:$DISK" --timeout 600 script --no-model --steps "$T/steps" >"$out" ||
		die "$fs: run with $n points failed: $(cat "$out")"
	stop_staging
	RATE=$(sed -n 's/^TIMED overwrite \([0-9.]*\) \([0-9]*\)$/\1 \2/p' "$out" | sed -n '$p' |
		awk '{printf "%.1f\n", $2 / $1 / 1048576}')
}

for fs in $FSES; do
	make_fs "$fs" "$T/$fs" 8G
done

ONLY=" ${BENCH_ONLY:-throughput bytes mark} "
if [[ $ONLY == *" throughput "* ]]; then
echo "== write throughput (MiB/s of 1 MiB random overwrites of a $DISK disk, $WRITES per run)"
declare -A thr
declare -a grow
for fs in $FSES; do
	for r in $(seq 1 "$RUNS"); do
		for n in 0 1 20; do
			one_run "$fs" "$n"
			thr[$fs.$n]="${thr[$fs.$n]:-} $RATE"
			echo "$fs points=$n run $r: $RATE MiB/s"
		done
	done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for fs in $FSES; do
	m0=$(median "${thr[$fs.0]}")
	for n in 0 1 20; do
		m=$(median "${thr[$fs.$n]}")
		echo "RESULT throughput $fs points=$n median $m MiB/s ratio $(awk -v a="$m" -v b="$m0" 'BEGIN {printf "%.2f", a / b}')"
	done
done

fi

if [[ $ONLY == *" bytes "* ]]; then
echo "== bytes per point against bytes changed after it"
for fs in $FSES; do
	for mib in 16 64; do
		rm -rf "$T/$fs/store"
		mkdir -p "$T/$fs/store"
		STAGING_STORE=$T/$fs/store
		start_staging "${KEEP[@]}"
		# the disk written, a point, then MIB MiB changed in distinct 1 MiB pieces;
		# the same without the point is the baseline (overwrites in place)
		for with in 0 1; do
			rm -rf "${STAGING_STORE:?}/$MACHINE"
			{
				echo "data 1 0 $DISK 1"
				[ "$with" = 1 ] && echo "mark now"
				for i in $(seq 0 $((mib - 1))); do echo "data 1 $((i * 3))M 1M $((50 + i))"; done
			} >"$T/steps"
			sync
			frames "$MACHINE" --disk "1:vda:$DISK" --timeout 600 script --no-model --steps <(head -n 1 "$T/steps") >/dev/null ||
				die "fill failed"
			sync
			before=$(used "$T/$fs")
			frames "$MACHINE" --disk "1:vda:$DISK" --timeout 600 script --no-model --steps <(tail -n +2 "$T/steps") >/dev/null ||
				die "change failed"
			sync
			grow[$with]=$(($(used "$T/$fs") - before))
		done
		stop_staging
		echo "RESULT bytes-per-point $fs changed $((mib * 1048576)) point-costs $((grow[1] - grow[0])) ratio $(awk -v a="$((grow[1] - grow[0]))" -v b="$((mib * 1048576))" 'BEGIN {printf "%.3f", a / b}')"
	done
done

fi

if [[ $ONLY == *" mark "* ]]; then
echo "== time to make a point (MARK to ACK), 1 GiB and 1 TiB sparse images"
for fs in $FSES; do
	for size in 1G 1024G; do
		rm -rf "$T/$fs/store"
		mkdir -p "$T/$fs/store"
		STAGING_STORE=$T/$fs/store
		start_staging "${KEEP[@]}"
		printf '%s\n' "data 1 0 4M 1" "data 1 $(( $(numfmt --from=iec "$size") / 2 ))  4M 2" "mark now" "mark now" "mark now" >"$T/steps"
		out=$T/mark.$fs.$size
		frames "$MACHINE" --disk "1:vda:$size" --timeout 600 script --no-model --steps "$T/steps" >"$out" ||
			die "$fs: marks on $size failed: $(cat "$out")"
		stop_staging
		echo "RESULT make-point $fs disk $size seconds $(sed -n 's/^TIMED mark //p' "$out" | tr '\n' ' ')"
	done
done
fi
