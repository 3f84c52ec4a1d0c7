#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Recovery points on a reflink file system (XFS, reflink=1) and on one
# without (ext4, copy-on-write deltas): every MARK makes a point of all the
# machine's disks; raw and qcow2 exports and the read-only NBD server give
# exactly the disk as of the point, identical on both stores; deleting a
# point keeps the others intact; a pinned point survives pruning, which
# frees space; errors are clear.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/points_lib.sh"
need_root
for tool in mkfs.xfs qemu-img nbdkit jq; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh test installs it)"
done

MACHINE=pm
DISKS=(--disk 1:vda:16M --disk 2:vdb:4M)
now() { date +%s%N; }
cat >"$T/steps" <<S
data 1 0 4M 1
data 2 0 1M 2
mark $(now) 2 2
data 1 1M 2M 3
zero 2 256K 256K
mark $(now) 2 3
data 1 0 512K 4
data 1 8M 1M 5
mark $(now) 3 1
data 1 2M 3M 6
zero 1 0 64K
mark $(now)
data 1 100K 10K 7
data 2 0 4M 8
S

# run_store FS: the whole scenario on a store on that file system
run_store() {
	local fs=$1 id d seq want got before after out
	make_fs "$fs" "$T/$fs" 512M
	STAGING_STORE=$T/$fs/store
	start_staging
	case $fs in
	xfs) grep -q 'recovery points: reflink clones' "$STAGING_LOG" || die "XFS not detected as reflink" ;;
	ext4) grep -q 'recovery points: copy-on-write deltas' "$STAGING_LOG" || die "ext4 not detected as copy-on-write" ;;
	esac
	out=$T/$fs.script
	frames "$MACHINE" --codecs $((2 | 32768)) "${DISKS[@]}" script --steps "$T/steps" >"$out" ||
		die "$fs: script failed: $(cat "$out")"
	# POINT comes before the ACK covering its MARK
	for seq in $(sed -n 's/^POINT \([0-9]*\) .*/\1/p' "$out"); do
		[ "$(grep -nE "^(POINT $seq |ACK $seq$)" "$out" | sed -n 1p | cut -d' ' -f1 | cut -d: -f2)" = POINT ] ||
			die "$fs: ACK $seq came before POINT $seq"
	done
	[ "$(grep -c '^POINT ' "$out")" -eq 4 ] || die "$fs: expected 4 POINT frames: $(cat "$out")"
	[ "$(pts list "$MACHINE" --json | jq -c '[.points[].id]')" = '[1,2,3,4]' ] ||
		die "$fs: points are not 1..4: $(pts list "$MACHINE" --json)"
	pts show "$MACHINE" 3 --json | jq -e '.origin == "requested" and .consistency == "crash" and
		(.disks | map(.name) == ["vda", "vdb"]) and .disks[0].size == 16777216 and
		.pinned == false' >/dev/null || die "$fs: point 3 shows wrong: $(pts show "$MACHINE" 3 --json)"
	pts show "$MACHINE" 4 --json | jq -e '.origin == "final-sync"' >/dev/null ||
		die "$fs: an older MARK's point is not a final sync"
	for id in 1 2 3 4; do
		seq=$(point_seq "$id")
		for d in vda vdb; do
			want=$(model_of "$seq" "$d" "$out")
			got=$(export_sha "$id" "$d")
			[ "$got" = "$want" ] || die "$fs: point $id disk $d: raw export differs from the source at that point"
			cp "$T/export.$id.$d.raw" "$T/$fs.$id.$d.raw"
		done
	done
	pass "$fs: raw exports of 4 points x 2 disks equal the source at each point"
	for d in vda vdb; do
		[ "$(export_sha 2 "$d" qcow2)" = "$(model_of "$(point_seq 2)" "$d" "$out")" ] ||
			die "$fs: qcow2 export of point 2 disk $d differs"
	done
	pass "$fs: qcow2 exports (qemu-img) hold the same bytes"

	# read-only NBD, served by nbdkit. A log of its own per file system: the
	# previous one's "serving" line must not be taken for this server's (the
	# background job truncates its log only when it gets to run).
	"$BUILD/livemig-staging" points serve "$MACHINE" 3 --disk vda --socket "$T/nbd.sock" \
		--store "$STAGING_STORE" >"$T/serve.$fs.out" 2>&1 &
	local spid=$!
	track_pid "$spid"
	wait_for_log "$T/serve.$fs.out" '^serving point 3 disk vda read-only' 60 ||
		die "$fs: NBD server did not start: $(cat "$T/serve.$fs.out")"
	qemu-img convert -f raw -O raw "nbd+unix:///?socket=$T/nbd.sock" "$T/nbd.raw" ||
		die "$fs: cannot read the NBD export"
	[ "$(file_sha "$T/nbd.raw")" = "$(model_of "$(point_seq 3)" vda "$out")" ] ||
		die "$fs: the NBD export differs from point 3"
	if qemu-io -f raw -c 'write 0 4096' "nbd+unix:///?socket=$T/nbd.sock" >"$T/nbdw.out" 2>&1 &&
		! grep -qi 'read-only\|permission\|error' "$T/nbdw.out"; then
		die "$fs: the NBD export accepted a write"
	fi
	kill -TERM "$spid"
	wait "$spid" || die "$fs: points serve did not end cleanly on SIGTERM: $(cat "$T/serve.$fs.out")"
	[ -z "$(find "$STAGING_STORE" -name '.serve-*')" ] || die "$fs: the served copy was left behind"
	pass "$fs: read-only NBD export of point 3 equals the source; served copy removed"

	# a middle point deleted: the others still read right
	pts delete "$MACHINE" 2 >/dev/null || die "$fs: delete of point 2 failed"
	for id in 1 3; do
		[ "$(export_sha "$id" vda)" = "$(model_of "$(point_seq "$id")" vda "$out")" ] ||
			die "$fs: point $id changed when point 2 was deleted"
	done
	pass "$fs: deleting point 2 leaves points 1 and 3 intact"

	# pinned points survive pruning; pruning frees space
	pts pin "$MACHINE" 1 --name launch-7 >/dev/null || die "$fs: pin failed"
	pts show "$MACHINE" 1 --json | jq -e '.pinned and .pins == ["launch-7"]' >/dev/null ||
		die "$fs: pin not shown"
	before=$(du -sb "$STAGING_STORE/$MACHINE/points" | cut -f1)
	pts prune "$MACHINE" --keep-all 0 --keep-hourly 0 --keep-daily 0 >"$T/prune.out" ||
		die "$fs: prune failed"
	after=$(du -sb "$STAGING_STORE/$MACHINE/points" | cut -f1)
	[ "$(pts list "$MACHINE" --json | jq -c '[.points[].id]')" = '[1,4]' ] ||
		die "$fs: after pruning, expected the pinned point 1 and the newest 4: $(pts list "$MACHINE" --json)"
	[ "$after" -lt "$before" ] || die "$fs: pruning freed nothing ($before -> $after bytes)"
	[ "$(export_sha 1 vdb)" = "$(model_of "$(point_seq 1)" vdb "$out")" ] ||
		die "$fs: the pinned point changed when others were pruned"
	pass "$fs: pinned point 1 survives pruning ($before -> $after bytes in points/)"

	# clear errors
	if pts delete "$MACHINE" 1 >"$T/err" 2>&1; then die "$fs: a pinned point was deleted"; fi
	grep -q 'pinned by launch-7 (unpin it first)' "$T/err" || die "$fs: unclear error: $(cat "$T/err")"
	if pts show "$MACHINE" 9 >"$T/err" 2>&1; then die "$fs: show of a missing point succeeded"; fi
	grep -q 'has no point 9' "$T/err" || die "$fs: unclear error: $(cat "$T/err")"
	if pts export "$MACHINE" 1 --disk vdz --format raw --output "$T/x" >"$T/err" 2>&1; then
		die "$fs: export of a missing disk succeeded"
	fi
	grep -q 'has no disk vdz' "$T/err" || die "$fs: unclear error: $(cat "$T/err")"
	if pts list nosuch >"$T/err" 2>&1; then die "$fs: list of a missing machine succeeded"; fi
	grep -q 'holds no machine nosuch' "$T/err" || die "$fs: unclear error: $(cat "$T/err")"
	pts unpin "$MACHINE" 1 --name launch-7 >/dev/null || die "$fs: unpin failed"
	pts delete "$MACHINE" 1 >/dev/null || die "$fs: delete after unpin failed"
	pass "$fs: clear errors; unpinned point deleted"

	# the live replica: the script's final state
	[ -z "$(find "$STAGING_STORE/$MACHINE/points" -name '.new-*' -o -name '.del-*')" ] ||
		die "$fs: half-made points left"
	stop_staging
	unset STAGING_STORE
}

run_store xfs
run_store ext4
for id in 1 2 3 4; do
	for d in vda vdb; do
		cmp "$T/xfs.$id.$d.raw" "$T/ext4.$id.$d.raw" || die "point $id disk $d: XFS and ext4 exports differ"
	done
done
pass "XFS (reflink) and ext4 (copy-on-write) exports are byte-identical"
"$BUILD/livemig-staging" points --help | has_line 'export MACHINE ID' || die "points --help"
if "$BUILD/livemig-staging" points list m --store "$T" --bogus >"$T/err" 2>&1; then die "bad option accepted"; fi
grep -q "unknown option '--bogus'" "$T/err" || die "unclear usage error: $(cat "$T/err")"
pass "points --help and usage errors"
