#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ceph RBD image store (docs/staging-store.md) against a real
# single-node Ceph cluster that tests/with_ceph.sh brings up for this test
# and removes: a real agent mirrors a loop device into an RBD image, each
# `livemig sync` makes a point that is an RBD snapshot; a point exports
# (raw, qcow2) to exactly the source at its sync after more writes; the
# live image equals the source; staging restarted resumes on the same
# image and removes a snapshot that belongs to no point (one protected
# under a clone once the clone is gone), and killed with
# SIGKILL loses nothing it acknowledged; a deleted point's
# snapshot is gone; a point whose snapshot has a clone is neither deleted
# (the refusal names the clone) nor pruned, and goes once the clone is
# gone; /metrics reports the pool's free space.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../ceph_reexec.sh" "$@"
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
. "$TESTS/points_lib.sh"
need_root
for tool in qemu-img jq rbd curl; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh test installs it)"
done
"$BUILD/livemig-staging" --help | has_line -e '--image-store' ||
	die "this livemig-staging has no --image-store"
MACHINE=rb
POOL=$LIVEMIG_TEST_CEPH_POOL
IMAGE=livemig-$MACHINE+d0
size=64M
[ "$SANITIZED" = 1 ] && size=16M

live_sha() {
	rbd export "$POOL/$IMAGE" - 2>/dev/null | sha256sum | cut -d' ' -f1
}

snaps() {
	rbd snap ls "$POOL/$IMAGE" --format json | jq -r '[.[].name] | join(" ")'
}

STAGING_STORE=$T/store
metrics_port=$(free_port)
start_staging --image-store "rbd:$POOL" --ceph-conf "$CEPH_CONF" --ceph-id admin \
	--metrics "127.0.0.1:$metrics_port"
grep -q 'recovery points: snapshots' "$STAGING_LOG" || die "staging did not say points are snapshots"
jq -e --arg p "$POOL" '.backend == "rbd" and .pool == $p' "$STAGING_STORE/.image-store.json" \
	>/dev/null || die "the store did not record its image store: $(cat "$STAGING_STORE/.image-store.json")"

python3 "$TESTS/make_disk.py" "$T/src.img" "$size" --seed 71
dev=$(make_loop "$T/src.img")
write_agent_config "$MACHINE" "$dev"
t0=$(date +%s%N)
start_agent "$MACHINE"
wait_status "s['state'] == 'CHANGE_COPY'" 300
# a figure, not a check: librbd's cache is off (docs/staging-store.md)
mirror_ms=$((($(date +%s%N) - t0) / 1000000))
[ ! -e "$(replica "$MACHINE" d0)" ] || die "an image file was made in the store directory"
rbd info "$POOL/$IMAGE" >/dev/null || die "no RBD image $POOL/$IMAGE"
lm sync >/dev/null || die "first sync failed"
sha1=$(file_sha "$dev")
[ "$(snaps)" = "point-1" ] || die "after the first sync the snapshots are '$(snaps)', not point-1"
jq -e '.mode == "snapshot"' "$STAGING_STORE/$MACHINE/points/1/point.json" >/dev/null ||
	die "point 1 is not a snapshot point: $(cat "$STAGING_STORE/$MACHINE/points/1/point.json")"
pass "mirror of $size into RBD image $POOL/$IMAGE in $mirror_ms ms; the sync made snapshot point-1"

# more writes, replicated while point 1 stays as it was
python3 "$TESTS/writer.py" "$dev" --seed 72 --rate 100 >"$T/writer.out" 2>&1 &
wpid=$!
track_pid "$wpid"
for _ in $(seq 120); do
	[ "$(live_sha)" != "$sha1" ] && break
	sleep 0.5
done
[ "$(live_sha)" != "$sha1" ] || die "the RBD image never changed: replication was not going on"
[ "$(export_sha 1 d0)" = "$sha1" ] || die "raw export of point 1 differs from the source at the sync"
kill -TERM "$wpid"
wait "$wpid" 2>/dev/null
lm sync >/dev/null || die "second sync failed"
sha2=$(file_sha "$dev")
[ "$sha2" != "$sha1" ] || die "the writer changed nothing"
[ "$(live_sha)" = "$sha2" ] || die "the live RBD image differs from the source after the sync"
[ "$(export_sha 1 d0 qcow2)" = "$sha1" ] || die "qcow2 export of point 1 differs after more writes"
[ "$(export_sha 2 d0)" = "$sha2" ] || die "point 2 differs from the source at the second sync"
pass "point 1 exports (raw, qcow2) equal the source at its sync after more writes; the live image and point 2 equal the source"

free=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" |
	sed -n 's/^livemig_staging_store_free_bytes \([0-9]*\)$/\1/p')
[ "${free:-0}" -gt 0 ] || die "/metrics has no free space of the pool"
pass "/metrics: the pool can take $free more bytes"

# staging restarted: the agent reconnects to the existing image and goes on;
# a snapshot of a point that does not exist (as a crash between making a
# snapshot and the point's rename leaves one) is removed at that HELLO
stop_staging
rbd snap create "$POOL/$IMAGE@point-99" >/dev/null 2>&1 || die "cannot make a stray snapshot"
# one under a launch's clone (livemig-launch protects it, docs/launch.md):
# it stays, and the session goes on
{
	rbd snap create "$POOL/$IMAGE@point-98" && rbd snap protect "$POOL/$IMAGE@point-98" &&
		rbd clone "$POOL/$IMAGE@point-98" "$POOL/rb-launch-clone"
} >/dev/null 2>&1 || die "cannot make a protected snapshot with a clone"
restart_staging --image-store "rbd:$POOL" --ceph-conf "$CEPH_CONF"
wait_for_log "$STAGING_LOG" "machine $MACHINE connected .*existing store" 120 1 ||
	die "the agent did not reconnect to the existing store"
[ "$(snaps)" = "point-1 point-2 point-98" ] || die "after the reconnection the snapshots are '$(snaps)'"
pass "the stray snapshot point-99 was removed when the machine reconnected; point-98, protected under a clone, stayed"
{ rbd rm "$POOL/rb-launch-clone" && rbd snap unprotect "$POOL/$IMAGE@point-98"; } >/dev/null 2>&1 ||
	die "cannot remove the clone and unprotect point-98"
python3 "$TESTS/writer.py" "$dev" --seed 73 --count 200 >"$T/writer3.out" 2>&1 ||
	die "writer failed: $(cat "$T/writer3.out")"
lm sync >/dev/null || die "sync after the restart failed"
sha3=$(file_sha "$dev")
[ "$(live_sha)" = "$sha3" ] || die "the live RBD image differs from the source after the restart"
[ "$(export_sha 3 d0)" = "$sha3" ] || die "point 3 differs from the source"
[ "$(export_sha 1 d0)" = "$sha1" ] || die "point 1 changed across the restart"
pass "staging restarted: replication resumed on the same image; point 3 and the live image equal the source"

# staging killed (SIGKILL) while the source changes: what it acknowledged
# was flushed to RBD, the rest the agent sends again
python3 "$TESTS/writer.py" "$dev" --seed 74 --rate 100 >"$T/writer4.out" 2>&1 &
wpid=$!
track_pid "$wpid"
for _ in $(seq 120); do
	[ "$(live_sha)" != "$sha3" ] && break
	sleep 0.5
done
[ "$(live_sha)" != "$sha3" ] || die "the RBD image never changed before the kill"
kill_staging
restart_staging --image-store "rbd:$POOL" --ceph-conf "$CEPH_CONF"
kill -TERM "$wpid"
wait "$wpid" 2>/dev/null
# the log holds the first restart's line too: wait for the second
wait_for_log "$STAGING_LOG" "machine $MACHINE connected .*existing store" 120 2 ||
	die "the agent did not reconnect after staging was killed"
[ "$(snaps)" = "point-1 point-2 point-3" ] || die "after the clone was gone the snapshots are '$(snaps)'"
pass "the stray point-98, its clone gone and unprotected, was removed at the next connection"
lm sync >/dev/null || die "sync after staging was killed failed"
sha4=$(file_sha "$dev")
[ "$sha4" != "$sha3" ] || die "the writer changed nothing before the kill"
[ "$(live_sha)" = "$sha4" ] || die "the live RBD image differs from the source after staging was killed"
[ "$(export_sha 4 d0)" = "$sha4" ] || die "point 4 differs from the source"
pass "staging killed with SIGKILL mid-replication: after the restart the live image and point 4 equal the source"

pts delete "$MACHINE" 1 >/dev/null || die "deleting point 1 failed"
[ "$(snaps)" = "point-2 point-3 point-4" ] || die "after deleting point 1 the snapshots are '$(snaps)'"
[ "$(export_sha 2 d0)" = "$sha2" ] || die "point 2 changed when point 1 was deleted"
pass "deleting point 1 removed its snapshot; point 2 unchanged"

# a point whose snapshot has a clone (a launch from it, here by hand) is
# neither deleted nor pruned: its record stays with its snapshot
{
	rbd snap protect "$POOL/$IMAGE@point-3" && rbd clone "$POOL/$IMAGE@point-3" "$POOL/rb-held-clone"
} >/dev/null 2>&1 || die "cannot clone point-3"
if pts delete "$MACHINE" 3 >"$T/held.out" 2>&1; then
	die "point 3 was deleted under its snapshot's clone"
fi
grep -q "point 3 is held by 1 clone of its snapshot of disk d0: $POOL/rb-held-clone (a launch from the point); destroy that launch first (livemig-launch destroy" "$T/held.out" ||
	die "unclear refusal: $(cat "$T/held.out")"
pts show "$MACHINE" 3 --json | jq -e '.id == 3' >/dev/null || die "point 3's record is gone"
[ "$(snaps)" = "point-2 point-3 point-4" ] || die "after the refusal the snapshots are '$(snaps)'"
pass "points delete of a point under a clone refuses, naming the clone and the remedy; record and snapshot stay"
pts prune "$MACHINE" --keep-all 0 --keep-hourly 0 --keep-daily 0 >"$T/prune.out" || die "prune failed"
grep -q "pruned 1 point of $MACHINE" "$T/prune.out" && grep -q "kept 1 point the policy would prune: held by clones" \
	"$T/prune.out" || die "prune says: $(cat "$T/prune.out")"
[ "$(pts list "$MACHINE" --json | jq -c '[.points[].id]')" = "[3,4]" ] ||
	die "after the prune the points are $(pts list "$MACHINE" --json | jq -c '[.points[].id]')"
[ "$(snaps)" = "point-3 point-4" ] || die "after the prune the snapshots are '$(snaps)'"
pass "retention pruned point 2 and kept point 3, held by its clone: the records and the snapshots agree"
# the clone gone, its protection left (a launch cut short between the two):
# nothing needs it, and the point goes
rbd rm "$POOL/rb-held-clone" >/dev/null 2>&1 || die "cannot remove rb-held-clone"
pts delete "$MACHINE" 3 >/dev/null || die "deleting point 3 after its clone was gone failed"
[ "$(snaps)" = "point-4" ] || die "after deleting point 3 the snapshots are '$(snaps)'"
pass "its clone gone, point 3 and its snapshot (still protected) deleted"

stop_agent
stop_staging
# a store in RBD refuses to be opened as files
if "$BUILD/livemig-staging" --listen "127.0.0.1:$(free_port)" --store "$STAGING_STORE" \
	--ca "$AGENT_CA" --cert "$SERVER_CERT" --key "$SERVER_KEY" >"$T/files.log" 2>&1; then
	die "staging started on an RBD store without --image-store"
fi
grep -q 'keeps its images in rbd' "$T/files.log" || die "unclear refusal: $(cat "$T/files.log")"
pass "the store refuses another image store"
