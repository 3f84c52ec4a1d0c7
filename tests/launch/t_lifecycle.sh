#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# The launch lifecycle end to end, all real (docs/launch.md, "Lifecycle"):
# the Debian 12 BIOS machine (guest_image.sh bios and its data disk
# guest_image.sh data, which its fstab mounts as /dev/sdb1 on /srv/data;
# copies of both on loop devices) replicated by the real livemigd to a real
# staging server whose launcher is livemig-launch with libvirt; the operator
# drives the console's API: test (staging exports both disks of the point,
# converts them, boots them as vda and vdb: up with its DHCP address under
# the test hostname, the data disk mounted by UUID, the point pinned; what is
# refused meanwhile answers 409) -> mark ready (the test domain destroyed,
# the pin gone) -> cutover (the heartbeat asks the running agent for a
# consistent point, the console launches from it: up under the source's
# hostname, the data disk mounted) -> finalize (the license is freed,
# livemigd hears 410 finalized and exits 0). The source images are unchanged.
#   t_lifecycle.sh BUILD      (needs LIBVIRT_URI: tests/launch/libvirt_lib.sh)
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$TESTS/agent_lib.sh"
. "$TESTS/console_lib.sh"
. "$TESTS/../launch/lifecycle_lib.sh"
need_root
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
[ -x "$BUILD/livemig-launch" ] || die "$BUILD/livemig-launch is not built (make check-launch builds it)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
JOB_TIMEOUT=${JOB_TIMEOUT:-5400} # export + conversion + boot, under TCG on a busy host

LOGIN=alice@acme:operator-password
A=$T/agents
STAGING_STORE=$T/store
LDIR=$STAGING_STORE/.launches

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }

step "source disks (bios and its data disk) on loop devices"
SRC=$("$TESTS/../launch/guest_image.sh" bios) || die "cannot build the bios source image"
DATA=$("$TESTS/../launch/guest_image.sh" data) || die "cannot build the data disk"
sha_before=$(file_sha "$SRC")
data_sha_before=$(file_sha "$DATA")
cp --sparse=always "$SRC" "$T/source.raw" # the agent reads copies: the cache is never written
cp --sparse=always "$DATA" "$T/data.raw"
dev=$(make_loop "$T/source.raw")
dev2=$(make_loop "$T/data.raw")
took "copy"

setup_pki
start_console --heartbeat-interval 1s
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
	--console-credential "$T/st1.secret" --console-interval 1s \
	--launch-driver libvirt --launch-uri "$LIBVIRT_URI" --launch-nic user --launch-timeout "$BOOT_TIMEOUT"
grep -q "launches: driver libvirt, launcher $BUILD/livemig-launch, instances in $LDIR" "$STAGING_LOG" ||
	die "staging's launch setup: $(grep launches "$STAGING_LOG")"
out=$(api register --dir "$A" --machine src-bios --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register: $out"
chmod 600 "$A/src-bios.secret"
M=$(cat "$A/src-bios.id")

step "replicate with livemigd, final sync: a recovery point"
write_source_config
start_agent src-bios
wait_status "s['state'] == 'CHANGE_COPY'" 1800
lm sync >"$T/sync.out" 2>&1 || die "final sync: $(cat "$T/sync.out")"
POINT=$("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json | jq '.points[-1].id')
[ "$POINT" -ge 1 ] 2>/dev/null || die "no recovery point after the sync"
[ "$("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c '[.disks[].name]')" = '["sda","sdb"]' ] ||
	die "the point's disks: $("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .disks)"
wait_console_point "$POINT"
took "replication"
pass "replicated by livemigd (it keeps running): point $POINT on st1, listed by the console"


step "test launch from point $POINT: export, convert, libvirt boot"
[ "$(lc_get | jq -r .state)" = READY_FOR_TEST ] || die "not READY_FOR_TEST: $(lc_get)"
j=$(lc_do test "\"point\": $POINT")
N=$M-test-$j
conflict cutover
conflict finalize
wait_lc '.state != "TESTING" or .instance.state == "up"' "$JOB_TIMEOUT" "test instance up"
took "test launch"
show_log "$j"
view=$(job_view "$j")
[ "$(lc_get | jq -r '.state + " " + .instance.state')" = "TESTING up" ] ||
	die "the test launch failed: $(jq -r .error <<<"$view")"
jq -e --arg n "$N" --argjson p "$POINT" '.result | .name == $n and .purpose == "test" and .point == $p and
	.driver == "libvirt" and .state == "up" and (.address | startswith("10.0.2.")) and .disks == ["sda", "sdb"]' \
	<<<"$view" >/dev/null || die "the launch's result: $(jq -c .result <<<"$view")"
jq -e '.result.marker_line | test("result=up") and test("host=src-bios-test ") and test("livemigd=(inactive|failed|unknown)")' \
	<<<"$view" >/dev/null || die "the first-boot marker: $(jq -r .result.marker_line <<<"$view")"
# the data disk: its fstab entry by UUID, and mounted in the running copy
jq -e '.result.marker_line | test(" mounted=/,/srv/data unmounted=none$")' <<<"$view" >/dev/null ||
	die "the data disk is not mounted in the launched copy: $(jq -r .result.marker_line <<<"$view")"
data_uuid=$(blkid -o value -s UUID -p --offset 1048576 "$DATA") || die "blkid of the data disk"
jq -e --arg u "$data_uuid" '[.changes[] | select(.what == "fstab")] | any(.detail == "/dev/sdb1 -> UUID=" + $u + " (/srv/data)")' \
	"$LDIR/$N/conversion.json" >/dev/null || die "the conversion's fstab changes: $(jq -c '[.changes[] | select(.what == "fstab")]' "$LDIR/$N/conversion.json")"
jq -e '[.disks[].output | sub(".*/"; "")] == ["copy-sda.qcow2", "copy-sdb.qcow2"] and
	any(.mounts[]; .mountpoint == "/srv/data" and .disk == 1)' "$LDIR/$N/conversion.json" >/dev/null ||
	die "the conversion's disks and mounts: $(jq -c '{disks, mounts}' "$LDIR/$N/conversion.json")"
blk=$(virsh -c "$LIBVIRT_URI" domblklist "$N")
grep -Eq "^ *vda +$LDIR/$N/copy-sda.qcow2\$" <<<"$blk" || die "the domain's disks: $blk"
grep -Eq "^ *vdb +$LDIR/$N/copy-sdb.qcow2\$" <<<"$blk" || die "the domain's disks: $blk"
[ "$(lc_get | jq -r .instance.address)" = "$(jq -r .result.address <<<"$view")" ] || die "the lifecycle's instance address: $(lc_get)"
virsh -c "$LIBVIRT_URI" domstate "$N" | has_line -x running || die "the domain $N is not running"
[ "$("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins)" = "[\"$N\"]" ] ||
	die "the launched point is not pinned by $N"
conflict cutover
conflict finalize
[ "$(status_get "s['state']")" = CHANGE_COPY ] || die "replication stopped during the test launch: $(lm status --json | jq -c .state)"
pass "TESTING: $N up at $(jq -r .result.address <<<"$view") under its test hostname, livemigd inactive in it, its data disk vdb mounted on /srv/data by UUID, point $POINT pinned; replication goes on; cutover and finalize refused (409)"

step "mark ready: the test instance deleted"
lc_do mark-ready >/dev/null
wait_lc '.state == "READY_FOR_CUTOVER" and .instance == null' 600 "READY_FOR_CUTOVER without an instance"
took "mark ready"
virsh -c "$LIBVIRT_URI" list --all --name | has_line -x "$N" && die "the domain $N is still defined"
[ ! -e "$LDIR/$N" ] || die "$LDIR/$N is still there"
[ "$("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins)" = "[]" ] ||
	die "the point is still pinned"
pass "READY_FOR_CUTOVER: the test domain, its directory and its pin are gone"

step "cutover: the agent's consistent point, launched"
before=$("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json | jq '.points | length')
j=$(lc_do cutover)
wait_lc '.state != "CUTTING_OVER" or (.instance != null and .instance.state == "up")' "$JOB_TIMEOUT" "cutover instance up"
took "cutover"
view=$(lc_get)
[ "$(jq -r .state <<<"$view")" = CUTOVER ] || die "the cutover failed: $(jq -c '[.jobs[:3][] | {id, kind, state, error}]' <<<"$view")"
CP=$(jq -r .instance.point <<<"$view")
[ "$CP" -gt "$POINT" ] 2>/dev/null || die "the cutover launched point $CP, not a new one after $POINT"
[ "$("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json | jq '.points | length')" -gt "$before" ] ||
	die "no new point on staging for the cutover"
co=$(lm status --json | jq -c .cutover)
jq -e '.state == "done"' <<<"$co" >/dev/null || die "the agent's cutover: $co"
lj=$(jq -r .instance.job <<<"$view")
show_log "$lj"
jq -e '.result.marker_line | test("result=up") and test("host=src-bios ") and test(" mounted=/,/srv/data unmounted=none$")' \
	<<<"$(job_view "$lj")" >/dev/null ||
	die "the cutover marker: $(job_view "$lj" | jq -r .result.marker_line)"
pass "CUTOVER: the agent made point $CP on request ($co), launched as $(jq -r .instance.name <<<"$view"), up at $(jq -r .instance.address <<<"$view") under the source's hostname"

step "finalize: license freed, the agent stops"
in_use() { admin list-machines acme --json | jq .licenses.in_use; }
[ "$(in_use)" = 1 ] || die "licenses in use before finalize: $(in_use)"
lc_do finalize >/dev/null
wait_lc '.state == "FINALIZED"' 120 "FINALIZED"
[ "$(in_use)" = 0 ] || die "licenses in use after finalize: $(in_use)"
end=$((SECONDS + 120))
while kill -0 "$AGENT_PID" 2>/dev/null && [ "$SECONDS" -le "$end" ]; do sleep 1; done
kill -0 "$AGENT_PID" 2>/dev/null && die "livemigd still runs 120 s after the finalize"
rc=0
wait "$AGENT_PID" || rc=$?
[ "$rc" = 0 ] || die "livemigd exited $rc after the finalize"
grep -q "the migration was finalized in the console" "$AGENT_LOG" || die "livemigd did not say it was finalized"
took "finalize"
pass "FINALIZED: 0 licenses in use, livemigd heard 410 finalized and exited 0"
[ "$(file_sha "$SRC")" = "$sha_before" ] || die "the cached source image changed"
[ "$(file_sha "$DATA")" = "$data_sha_before" ] || die "the cached data disk changed"
pass "the cached source images are unchanged (sha256)"
