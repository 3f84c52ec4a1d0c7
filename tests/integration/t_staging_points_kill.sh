#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kill -9 of livemig-staging at random moments while it makes and prunes
# recovery points (and of exports while they run), on ext4 (copy-on-write
# deltas, merges on pruning) and on XFS (reflink): every point that exists
# afterwards holds exactly the source at its MARK (sha256), a point is whole
# or absent, an export is whole or absent, and the live replica ends equal
# to the source. KILLS=N kills per file system (default 12; 4 in the quick
# tier).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/points_lib.sh"
need_root
for tool in mkfs.xfs jq; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh test installs it)"
done
KILLS=${KILLS:-$([ "${LIVEMIG_SANITIZED:-0}" = 1 ] && echo 4 || echo 12)}
MACHINE=pk
DISKS=(--disk 1:vda:4M --disk 2:vdb:1M)
# newest and pinned points only: every MARK prunes, merging deltas
KEEP=(--keep-all 0 --keep-hourly 0 --keep-daily 0)

# every run starts from zeros, so a MARK's seq always means the same bytes
{
	echo "zero 1 0 4M"
	echo "zero 2 0 1M"
	for r in $(seq 1 8); do
		echo "data 1 $(((r * 704) % 3072))K 512K $r"
		echo "data 2 $(((r * 64) % 960))K 64K $((100 + r))"
		[ $((r % 3)) -eq 0 ] && echo "zero 1 $(((r * 512) % 3072))K 256K"
		echo "mark now"
	done
} >"$T/steps"

# check_points FS: every complete point equals the source at its MARK
check_points() {
	local fs=$1 id d seq
	for id in $(pts list "$MACHINE" --json | jq -r '.points[].id'); do
		seq=$(point_seq "$id")
		for d in vda vdb; do
			[ "$(export_sha "$id" "$d")" = "$(model_of "$seq" "$d" "$T/models")" ] ||
				die "$fs: after a kill, point $id disk $d differs from the source at seq $seq"
		done
	done
}

run_fs() {
	local fs=$1 i k ms start dur out half_new=0 half_del=0 exp_whole=0 exp_none=0 epid want
	make_fs "$fs" "$T/$fs" 512M
	STAGING_STORE=$T/$fs/store
	: >"$T/models"

	# one full run: the models of every MARK, and how long a run takes
	start_staging "${KEEP[@]}"
	start=$(date +%s%N)
	frames "$MACHINE" "${DISKS[@]}" script --steps "$T/steps" >"$T/run.0" ||
		die "$fs: first run failed: $(cat "$T/run.0")"
	dur=$((($(date +%s%N) - start) / 1000000))
	grep '^MODEL ' "$T/run.0" >>"$T/models"
	pts pin "$MACHINE" "$(pts list "$MACHINE" --json | jq -r '.points[0].id')" --name keep >/dev/null ||
		die "$fs: pin failed"
	kill_staging

	for i in $(seq 1 "$KILLS"); do
		start_staging "${KEEP[@]}"
		out=$T/run.$i
		frames "$MACHINE" "${DISKS[@]}" script --steps "$T/steps" >"$out" 2>&1 &
		local fpid=$!
		# an export of the pinned point, killed at its own random moment
		want=$(pts list "$MACHINE" --json | jq -r '.points[0].id')
		rm -f "$T/exp.raw"
		"$BUILD/livemig-staging" points export "$MACHINE" "$want" --disk vda --format raw \
			--output "$T/exp.raw" --store "$STAGING_STORE" >/dev/null 2>&1 &
		epid=$!
		# the export dies at a random moment of its own
		ms=$((RANDOM % 1500))
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -KILL "$epid" 2>/dev/null
		# staging dies just after the k-th MARK went out: making or
		# pruning that point, or writing the next round
		k=$((RANDOM % 8 + 1))
		for _ in $(seq 1 600); do
			[ "$(grep -c '^MODEL [0-9]* vdb ' "$out")" -ge "$k" ] && break
			kill -0 "$fpid" 2>/dev/null || break
			sleep 0.05
		done
		ms=$((RANDOM % 400))
		sleep "0.$(printf %03d "$ms")"
		kill_staging
		wait "$fpid" 2>/dev/null
		wait "$epid" 2>/dev/null
		grep '^MODEL ' "$out" >>"$T/models"
		[ -n "$(find "$STAGING_STORE/$MACHINE/points" -maxdepth 1 -name '.new-*')" ] && half_new=$((half_new + 1))
		[ -n "$(find "$STAGING_STORE/$MACHINE/points" -maxdepth 1 -name '.del-*')" ] && half_del=$((half_del + 1))
		if [ -f "$T/exp.raw" ]; then
			[ "$(file_sha "$T/exp.raw")" = "$(model_of "$(point_seq "$want")" vda "$T/models")" ] ||
				die "$fs: kill $i: an export killed midway left a wrong file under its name"
			exp_whole=$((exp_whole + 1))
		else
			exp_none=$((exp_none + 1))
		fi
		check_points "$fs"
	done
	pass "$fs: $KILLS kills of staging (about ${dur} ms per run; $half_new left a half-made point, $half_del a half-deleted one) and of exports ($exp_whole whole, $exp_none absent): every point equals the source at its MARK"

	# the live replica: a last run to the end equals the source
	start_staging "${KEEP[@]}"
	frames "$MACHINE" "${DISKS[@]}" script --steps "$T/steps" >"$T/run.last" ||
		die "$fs: last run failed: $(cat "$T/run.last")"
	[ "$(file_sha "$STAGING_STORE/$MACHINE/disk-vda.img")" = "$(grep '^MODEL [0-9]* vda ' "$T/run.last" | sed -n '$p' | cut -d' ' -f4)" ] ||
		die "$fs: the live replica of vda differs from the source"
	[ "$(file_sha "$STAGING_STORE/$MACHINE/disk-vdb.img")" = "$(grep '^MODEL [0-9]* vdb ' "$T/run.last" | sed -n '$p' | cut -d' ' -f4)" ] ||
		die "$fs: the live replica of vdb differs from the source"
	[ -z "$(find "$STAGING_STORE/$MACHINE/points" -maxdepth 1 -name '.new-*' -o -maxdepth 1 -name '.del-*')" ] ||
		die "$fs: half-made or half-deleted points were not cleaned up"
	check_points "$fs"
	stop_staging
	pass "$fs: the live replica equals the source after the kills; leftovers cleaned"
	unset STAGING_STORE
}

run_fs ext4
run_fs xfs
