#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Recovery points under a real agent: each `livemig sync` makes a point
# (final sync), and a point exports (raw, qcow2) to exactly the source as of
# its sync while a writer keeps changing the source and the agent keeps
# replicating it into the same store. On ext4 (copy-on-write deltas) and
# XFS (reflink).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
. "$TESTS/points_lib.sh"
need_root
for tool in mkfs.xfs qemu-img jq; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh test installs it)"
done
MACHINE=pa
size=128M
[ "$SANITIZED" = 1 ] && size=32M

run_fs() {
	local fs=$1 dev sha1 sha2 live1 live2 wpid seed=$2
	make_fs "$fs" "$T/$fs" 1G
	STAGING_STORE=$T/$fs/store
	start_staging
	python3 "$TESTS/make_disk.py" "$T/$fs.src.img" "$size" --seed "$seed"
	dev=$(make_loop "$T/$fs.src.img")
	write_agent_config "$MACHINE" "$dev"
	start_agent "$MACHINE"
	wait_status "s['state'] == 'CHANGE_COPY'" 300
	lm sync >/dev/null || die "$fs: first sync failed"
	sha1=$(file_sha "$dev")
	pts show "$MACHINE" 1 --json | jq -e '.origin == "final-sync" and .consistency == "crash" and
		.disks == [{"name": "d0", "size": '"$(blockdev --getsize64 "$dev")"'}]' >/dev/null ||
		die "$fs: point 1 after the sync: $(pts show "$MACHINE" 1 --json)"

	# the source keeps changing and the agent keeps replicating
	python3 "$TESTS/writer.py" "$dev" --seed "$seed" --rate 100 >"$T/$fs.writer.out" 2>&1 &
	wpid=$!
	track_pid "$wpid"
	live1=$(file_sha "$(replica "$MACHINE" d0)")
	[ "$(export_sha 1 d0)" = "$sha1" ] || die "$fs: raw export of point 1 during replication differs from the source at the sync"
	[ "$(export_sha 1 d0 qcow2)" = "$sha1" ] || die "$fs: qcow2 export of point 1 during replication differs"
	for _ in $(seq 120); do
		live2=$(file_sha "$(replica "$MACHINE" d0)")
		[ "$live1" != "$live2" ] && break
		sleep 0.5
	done
	[ "$live1" != "$live2" ] || die "$fs: the replica never changed: replication was not going on"
	[ "$(export_sha 1 d0)" = "$sha1" ] || die "$fs: point 1 changed while replication went on"
	pass "$fs: point 1 exports (raw, qcow2) equal the source at its sync while the replica changes"

	kill -TERM "$wpid"
	wait "$wpid" 2>/dev/null
	lm sync >/dev/null || die "$fs: second sync failed"
	sha2=$(file_sha "$dev")
	[ "$sha2" != "$sha1" ] || die "$fs: the writer changed nothing"
	[ "$(export_sha 2 d0)" = "$sha2" ] || die "$fs: point 2 differs from the source at the second sync"
	[ "$(export_sha 1 d0)" = "$sha1" ] || die "$fs: point 1 changed after point 2"
	pass "$fs: point 2 equals the source at the second sync; point 1 unchanged"
	stop_agent
	stop_staging
	unset STAGING_STORE
}

run_fs ext4 61
run_fs xfs 62
