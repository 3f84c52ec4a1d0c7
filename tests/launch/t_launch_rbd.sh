#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A test launch from a recovery point on Ceph RBD, without a copy of its
# disks (docs/launch.md, "Points on Ceph RBD"): the cached `bios` disk and
# its data disk imported into a scratch cluster's pool as staging's RBD
# store names them (livemig-<machine>+<disk>, snapshot point-1); the
# conversion protects each snapshot and clones it, and edits the clones in
# place (libguestfs and qemu-storage-daemon through QEMU's rbd driver); the
# libvirt launcher boots the clones as rbd network disks (cephx, the key in
# a libvirt secret) to the first-boot marker under TCG; the protected
# snapshot cannot be removed while its clone lives; destroy removes the
# domain and the clones and unprotects the snapshots; a conversion that
# cannot make its second clone removes the first and unprotects both; one
# killed (SIGKILL) after its first clone, which wrote no report, is
# cleaned up by destroy given the clones' names (--snapshot/--clone),
# which leaves an image of such a name that is no clone of its snapshot;
# the snapshots' data is what it was before (sha256).
#   t_launch_rbd.sh BUILD      (tests/launch/run.sh BUILD rbd runs it)
# Needs LIBVIRT_URI (libvirt_lib.sh) and a cluster (tests/with_ceph.sh: run
# without one, it starts one for itself).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../ceph_reexec.sh" "$@"
. "$(dirname "$0")/../integration/lib.sh" "$1"
need_root
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
for tool in rbd ceph jq virsh qemu-img; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh launch and test install it)"
done
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] ||
	die "QEMU has no rbd driver: apt-get install qemu-block-extra (ci/deps.sh launch)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
LAUNCH=$BUILD/livemig-launch
POOL=$LIVEMIG_TEST_CEPH_POOL
MACHINE=lmrbd
NAME=lmrbd-test-$$
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1200}
DISKS=(sda sdb)
SECRET=$(uuidgen)

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }
# no_clone_left PREFIX: no clone PREFIX-<disk>, and no disk's point-1 with
# a clone or protected
no_clone_left() {
	local d
	for d in "${DISKS[@]}"; do
		rbd info "$POOL/$1-$d" >/dev/null 2>&1 && fail "the clone $1-$d is still there"
		[ -z "$(rbd children "$POOL/livemig-$MACHINE+$d@point-1")" ] || fail "livemig-$MACHINE+$d@point-1 has a clone"
		rbd info --format json "$POOL/livemig-$MACHINE+$d@point-1" | jq -e '.protected == "false"' >/dev/null ||
			fail "livemig-$MACHINE+$d@point-1 is still protected"
	done
}

snap_sha() {
	rbd export --no-progress "$POOL/livemig-$MACHINE+$1@point-1" - | sha256sum | cut -d' ' -f1
}

cleanup_launch() {
	if [ -s "$T/conv.json" ]; then
		"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME" \
			--conversion "$T/conv.json" >/dev/null 2>&1
	fi
	virsh -c "$LIBVIRT_URI" secret-undefine "$SECRET" >/dev/null 2>&1
	return 0
}
trap 'rc=$?; cleanup_launch; (exit $rc); _lib_cleanup' EXIT

step "the point on RBD: the bios disk and its data disk, snapshot point-1"
SRC_SDA=$("$TESTS/../launch/guest_image.sh" bios) || die "cannot build the bios source image"
SRC_SDB=$("$TESTS/../launch/guest_image.sh" data) || die "cannot build the data source image"
srcs=("$SRC_SDA" "$SRC_SDB")
for i in 0 1; do
	img=$POOL/livemig-$MACHINE+${DISKS[$i]}
	# layering only, as staging's RBD store creates its images
	rbd import --no-progress --image-feature layering "${srcs[$i]}" "$img" || fail "rbd import ${srcs[$i]}"
	rbd snap create --no-progress "$img@point-1" || fail "rbd snap create $img@point-1"
done
took "import"
declare -A sha_before
for d in "${DISKS[@]}"; do
	sha_before[$d]=$(snap_sha "$d")
done
[ "${sha_before[sda]}" = "$(file_sha "$SRC_SDA")" ] && [ "${sha_before[sdb]}" = "$(file_sha "$SRC_SDB")" ] ||
	fail "the imported snapshots differ from the source disks"
pass "point-1 of sda and sdb: RBD snapshots equal to the source disks (sha256)"
took "checksums"

step "convert: the snapshots cloned, the clones edited in place"
args=()
for d in "${DISKS[@]}"; do
	args+=(--input "rbd:$POOL/livemig-$MACHINE+$d@point-1" --output "rbd:$POOL/$NAME-$d")
done
"$LAUNCH" convert "${args[@]}" --ceph-conf "$CEPH_CONF" --workdir "$T" --report "$T/conv.json" \
	2>"$T/convert.log" || { tail -n 30 "$T/convert.log"; fail "the conversion of the RBD point failed"; }
took convert
R=$T/conv.json
jq -c .timings_ms "$R"
check "the report: debian 12, bios, both disks' clones in order, the monitors" \
	jq -e --arg p "$POOL" --arg n "$NAME" --arg m "$MACHINE" '.result == "converted" and .firmware == "bios"
		and .os.distro == "debian" and [.disks[].output] == ["rbd:\($p)/\($n)-sda", "rbd:\($p)/\($n)-sdb"]
		and .disks[0].input == "rbd:\($p)/livemig-\($m)+sda@point-1" and .ceph.id == "admin"
		and (.ceph.monitors | length) >= 1' "$R"
check "the copy is an RBD clone, said in the report" \
	jq -e '[.changes[] | select(.what == "copy") | .detail] | length == 2 and all(test("RBD clone of snapshot"))' "$R"
check "the report names the other changes (fstab, network, agent, first boot)" \
	jq -e '[.changes[].what] as $w | all("fstab", "network", "agent", "first-boot"; . as $k | $w | index($k) != null)' "$R"
for d in "${DISKS[@]}"; do
	parent=$(rbd info --format json "$POOL/$NAME-$d" | jq -r '.parent | "\(.pool)/\(.image)@\(.snapshot)"')
	[ "$parent" = "$POOL/livemig-$MACHINE+$d@point-1" ] || fail "$NAME-$d's parent is $parent"
	rbd info --format json "$POOL/livemig-$MACHINE+$d@point-1" | jq -e '.protected == "true"' >/dev/null ||
		fail "livemig-$MACHINE+$d@point-1 is not protected"
done
pass "each clone's parent is its disk's point-1, which is protected"
used=$(rbd du --format json "$POOL/$NAME-sda" | jq '.images[] | select(.snapshot == null) | .used_size')
prov=$(rbd du --format json "$POOL/$NAME-sda" | jq '.images[] | select(.snapshot == null) | .provisioned_size')
echo "   the boot disk's clone: $((used / 1048576)) MiB written of $((prov / 1048576)) MiB"
[ "$used" -lt $((prov / 4)) ] || fail "the clone holds $used bytes: the disk was copied"
pass "nothing copied: the clone holds only what the conversion wrote ($((used / 1048576)) MiB)"
if rbd snap rm --no-progress "$POOL/livemig-$MACHINE+sda@point-1" 2>"$T/snaprm.err"; then
	fail "the snapshot under a clone could be removed"
fi
grep -q "protected" "$T/snaprm.err" || fail "snap rm failed, but not for protection: $(cat "$T/snaprm.err")"
pass "the point's snapshot cannot be removed while the clone exists (protected)"

step "launch with libvirt: the clones as rbd network disks (cephx, TCG)"
printf "<secret ephemeral='no' private='yes'><uuid>%s</uuid><usage type='ceph'><name>client.admin %s</name></usage></secret>\n" \
	"$SECRET" "$NAME" >"$T/secret.xml"
virsh -c "$LIBVIRT_URI" secret-define "$T/secret.xml" >/dev/null || fail "virsh secret-define"
# from a file, base64 as ceph prints it: not on a command line
(umask 077 && ceph auth get-key client.admin >"$T/admin.key") || fail "ceph auth get-key"
virsh -c "$LIBVIRT_URI" secret-set-value "$SECRET" --file "$T/admin.key" >/dev/null || fail "virsh secret-set-value"
rm -f "$T/admin.key"
if "$LAUNCH" launch --driver libvirt --uri "$LIBVIRT_URI" --conversion "$R" --name "$NAME" \
	--state-dir "$T/state" --timeout 60 >/dev/null 2>"$T/nosecret.err"; then
	fail "an RBD launch without --ceph-secret was accepted"
fi
grep -q -- "--ceph-secret" "$T/nosecret.err" || fail "no --ceph-secret: $(cat "$T/nosecret.err")"
pass "without --ceph-secret the launch is refused, saying so"
rc=1
for try in 1 2 3; do
	"$LAUNCH" launch --driver libvirt --uri "$LIBVIRT_URI" --conversion "$R" --name "$NAME" \
		--ceph-secret "$SECRET" --state-dir "$T/state" --timeout "$BOOT_TIMEOUT" --json \
		>"$T/launch.json" 2>"$T/launch.err"
	rc=$?
	# a TCG guest on an overloaded host can fail the kernel's early timer
	# check: that boot says nothing about the disks (as t_convert_boot.sh)
	if [ "$rc" -eq 0 ] ||
		! jq -e '.serial_tail | test("IO-APIC \\+ timer doesn.t work")' "$T/launch.json" >/dev/null 2>&1; then
		break
	fi
	echo "   (boot $try: the kernel's timer check failed under TCG on a busy host; again)"
done
[ "$rc" = 0 ] || { cat "$T/launch.err" "$T/launch.json"; fail "the launch from the RBD clones did not come up"; }
took "boot to up"
jq -c '{state, seconds, address, marker_line}' "$T/launch.json"
check "up: an address by DHCP, the test hostname, livemigd inactive, the data disk mounted" \
	jq -e '.state == "up" and (.address | startswith("10.0.2.")) and (.marker_line | test("host=src-bios-test ")
		and test("livemigd=(inactive|failed|unknown)") and test("mounted=/,/srv/data unmounted=none"))' \
	"$T/launch.json"
virsh -c "$LIBVIRT_URI" dumpxml "$NAME" >"$T/domain.xml"
for d in "${DISKS[@]}"; do
	grep -q "<source protocol='rbd' name='$POOL/$NAME-$d'" "$T/domain.xml" ||
		fail "the domain has no rbd source $POOL/$NAME-$d"
done
if ! grep -q "<secret type='ceph' uuid='$SECRET'/>" "$T/domain.xml" || grep -q "<disk type='file'" "$T/domain.xml"; then
	fail "the domain's disks are not the rbd clones with the secret"
fi
pass "the domain's vda and vdb are the clones (rbd network disks, cephx secret), no file disk"

step "destroy: the domain, the clones, the snapshots unprotected"
"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME" --conversion "$R" --json \
	>"$T/destroy.json" || { cat "$T/destroy.json"; fail "destroy failed"; }
jq -c . "$T/destroy.json"
check "destroy says: domain destroyed, both clones removed, both snapshots unprotected" \
	jq -e '.state == "destroyed" and (.clones_removed | length) == 2 and (.snapshots_unprotected | length) == 2' \
	"$T/destroy.json"
virsh -c "$LIBVIRT_URI" dominfo "$NAME" >/dev/null 2>&1 && fail "the domain is still there"
no_clone_left "$NAME"
pass "no domain, no clone left, the snapshots unprotected"
"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME" --conversion "$R" --json \
	>"$T/destroy2.json" || fail "a second destroy failed"
check "a second destroy finds nothing and succeeds" \
	jq -e '.state == "absent" and .clones_removed == [] and .snapshots_unprotected == []' "$T/destroy2.json"
rm -f "$T/conv.json"
took destroy

step "a conversion that cannot make its second clone leaves nothing"
rbd create --no-progress --size 1M "$POOL/$NAME-taken" || fail "rbd create $NAME-taken"
if "$LAUNCH" convert --input "rbd:$POOL/livemig-$MACHINE+sda@point-1" --output "rbd:$POOL/$NAME-again" \
	--input "rbd:$POOL/livemig-$MACHINE+sdb@point-1" --output "rbd:$POOL/$NAME-taken" \
	--ceph-conf "$CEPH_CONF" --workdir "$T" --report "$T/conv-taken.json" 2>"$T/convert-taken.log"; then
	fail "a conversion onto an existing image succeeded"
fi
check "it fails saying the clone's name is taken" \
	jq -e '.result == "failed" and (.error | test("as .*-taken: File exists"))' "$T/conv-taken.json"
rbd info "$POOL/$NAME-again" >/dev/null 2>&1 && fail "the first disk's clone was left behind"
for d in "${DISKS[@]}"; do
	[ -z "$(rbd children "$POOL/livemig-$MACHINE+$d@point-1")" ] || fail "livemig-$MACHINE+$d@point-1 has a clone"
	rbd info --format json "$POOL/livemig-$MACHINE+$d@point-1" | jq -e '.protected == "false"' >/dev/null ||
		fail "livemig-$MACHINE+$d@point-1 was left protected"
done
pass "the first clone removed, neither snapshot left protected"
rbd rm --no-progress "$POOL/$NAME-taken" || fail "rbd rm $NAME-taken"
took "failed conversion"

step "a conversion killed (SIGKILL) after its first clone: destroy given the clones' names cleans up"
cut=()
for d in "${DISKS[@]}"; do
	cut+=(--snapshot "rbd:$POOL/livemig-$MACHINE+$d@point-1" --clone "rbd:$POOL/$NAME-cut-$d")
done
"$LAUNCH" convert --input "rbd:$POOL/livemig-$MACHINE+sda@point-1" --output "rbd:$POOL/$NAME-cut-sda" \
	--input "rbd:$POOL/livemig-$MACHINE+sdb@point-1" --output "rbd:$POOL/$NAME-cut-sdb" \
	--ceph-conf "$CEPH_CONF" --workdir "$T" --report "$T/conv-cut.json" 2>"$T/convert-cut.log" &
cpid=$!
track_pid "$cpid"
wait_for_log "$T/convert-cut.log" "disk 0: cloned rbd:$POOL/livemig-$MACHINE\+sda@point-1 as rbd:$POOL/$NAME-cut-sda" 300 ||
	{ cat "$T/convert-cut.log"; fail "the conversion never said it made its first clone"; }
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
[ ! -e "$T/conv-cut.json" ] || fail "the killed conversion wrote a report"
rbd info "$POOL/$NAME-cut-sda" >/dev/null 2>&1 || fail "the killed conversion's first clone is not there"
rbd info --format json "$POOL/livemig-$MACHINE+sda@point-1" | jq -e '.protected == "true"' >/dev/null ||
	fail "the killed conversion's first snapshot is not protected"
pass "killed after its first clone: no report, the clone and its protected snapshot left"
# an image of a clone's name that is no clone of that snapshot and holds
# data is not this launch's: destroy leaves it, says so, and cleans up the
# rest; one of the snapshot's size that holds nothing is what librbd leaves
# of a clone killed while being made (the kill above may have made one of
# the second disk's): it goes
sdb_mib=$(($(rbd info --format json "$POOL/livemig-$MACHINE+sdb@point-1" | jq .size) / 1048576))
rbd create --no-progress --size "${sdb_mib}M" "$POOL/$NAME-notours" || fail "rbd create $NAME-notours"
rbd bench --io-type write --io-size 4096 --io-total 4096 "$POOL/$NAME-notours" >/dev/null ||
	fail "writing into $NAME-notours"
rbd create --no-progress --size "${sdb_mib}M" "$POOL/$NAME-halfmade" || fail "rbd create $NAME-halfmade"
if "$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME-cut" "${cut[@]}" \
	--snapshot "rbd:$POOL/livemig-$MACHINE+sdb@point-1" --clone "rbd:$POOL/$NAME-halfmade" \
	--snapshot "rbd:$POOL/livemig-$MACHINE+sdb@point-1" --clone "rbd:$POOL/$NAME-notours" \
	--ceph-conf "$CEPH_CONF" --json >"$T/destroy-cut.json" 2>"$T/destroy-cut.err"; then
	fail "destroy removed, or passed over in silence, an image that is not a clone of its snapshot"
fi
jq -c . "$T/destroy-cut.json"
check "destroy refuses the image with data that is not a clone of the snapshot, removes the clones that are and the empty one cut short" \
	jq -e --arg c "rbd:$POOL/$NAME-cut-sda" --arg h "rbd:$POOL/$NAME-halfmade" '(.error | test("notours is not a clone of .*@point-1 \\(it is no clone at all\\): not removed, it is not this launch.s"))
		and (.clones_removed | index($c) != null) and (.clones_removed | index($h) != null)
		and (.clones_removed | all(test("notours") | not))' \
	"$T/destroy-cut.json"
rbd info "$POOL/$NAME-halfmade" >/dev/null 2>&1 && fail "destroy left the empty image cut short"
rbd info "$POOL/$NAME-notours" >/dev/null 2>&1 || fail "destroy removed an image that is not its clone"
rbd rm --no-progress "$POOL/$NAME-notours" >/dev/null 2>&1 || fail "rbd rm $NAME-notours"
"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME-cut" "${cut[@]}" \
	--ceph-conf "$CEPH_CONF" --json >"$T/destroy-cut2.json" || { cat "$T/destroy-cut2.json"; fail "destroy failed"; }
check "destroy again: nothing left to remove, and that is not an error" \
	jq -e '.state == "absent" and .clones_removed == []' "$T/destroy-cut2.json"
no_clone_left "$NAME-cut"
pass "after the killed conversion: no clone left, neither snapshot protected"
took "killed conversion"

for d in "${DISKS[@]}"; do
	[ "$(snap_sha "$d")" = "${sha_before[$d]}" ] || fail "livemig-$MACHINE+$d@point-1 changed"
done
pass "the snapshots' data is unchanged by the launch (sha256 before and after)"
