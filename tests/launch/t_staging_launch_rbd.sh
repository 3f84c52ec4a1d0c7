#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# Staging's launch and destroy jobs on the RBD image store, all real
# (docs/launch.md, "Launching from staging" and "Points on Ceph RBD"): the
# Debian 12 BIOS machine and its data disk (copies on loop devices)
# replicated by the real livemigd into a scratch cluster's pool through a
# staging server with --image-store rbd:POOL, --launch-driver libvirt and
# --launch-ceph-secret; the operator's test through the console's API:
# staging exports nothing, livemig-launch clones the point's protected
# snapshots, converts the clones in place and libvirt boots them as rbd
# network disks (no file disk) to the first-boot marker, the point pinned;
# mark ready: the destroy job hands the conversion's report to
# livemig-launch destroy: the domain, the clones and the pin gone, the
# snapshots unprotected; the snapshots' data unchanged (sha256).
#   t_staging_launch_rbd.sh BUILD      (tests/launch/run.sh BUILD rbd runs it)
# Needs LIBVIRT_URI (libvirt_lib.sh) and a cluster (tests/with_ceph.sh: run
# without one, it starts one for itself).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../ceph_reexec.sh" "$@"
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$TESTS/agent_lib.sh"
. "$TESTS/console_lib.sh"
. "$TESTS/../launch/lifecycle_lib.sh"
need_root
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
[ -x "$BUILD/livemig-launch" ] || die "$BUILD/livemig-launch is not built (make check-launch-rbd builds it)"
for tool in rbd ceph jq virsh; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh launch and test install it)"
done
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] ||
	die "QEMU has no rbd driver: apt-get install qemu-block-extra (ci/deps.sh launch)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
JOB_TIMEOUT=${JOB_TIMEOUT:-5400} # conversion + boot, under TCG on a busy host
POOL=$LIVEMIG_TEST_CEPH_POOL
DISKS=(sda sdb)
SECRET=$(uuidgen)

LOGIN=alice@acme:operator-password
A=$T/agents
STAGING_STORE=$T/store
LDIR=$STAGING_STORE/.launches

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }
snap() { echo "$POOL/livemig-$M+$1@point-$POINT"; }
pins() { "$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins; }

cleanup_secret() {
	virsh -c "$LIBVIRT_URI" secret-undefine "$SECRET" >/dev/null 2>&1
	return 0
}
trap 'rc=$?; cleanup_secret; (exit $rc); _lib_cleanup' EXIT

step "source disks (bios and its data disk) on loop devices; the libvirt secret"
SRC=$("$TESTS/../launch/guest_image.sh" bios) || die "cannot build the bios source image"
DATA=$("$TESTS/../launch/guest_image.sh" data) || die "cannot build the data disk"
cp --sparse=always "$SRC" "$T/source.raw" # the agent reads copies: the cache is never written
cp --sparse=always "$DATA" "$T/data.raw"
dev=$(make_loop "$T/source.raw")
dev2=$(make_loop "$T/data.raw")
printf "<secret ephemeral='no' private='yes'><uuid>%s</uuid><usage type='ceph'><name>client.admin %s</name></usage></secret>\n" \
	"$SECRET" "$SECRET" >"$T/secret.xml"
virsh -c "$LIBVIRT_URI" secret-define "$T/secret.xml" >/dev/null || die "virsh secret-define"
# from a file, base64 as ceph prints it: not on a command line
(umask 077 && ceph auth get-key client.admin >"$T/admin.key") || die "ceph auth get-key"
virsh -c "$LIBVIRT_URI" secret-set-value "$SECRET" --file "$T/admin.key" >/dev/null || die "virsh secret-set-value"
rm -f "$T/admin.key"
took "copy"

setup_pki
start_console --heartbeat-interval 1s
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
# without the secret, libvirt launches from the RBD store are refused at start
if "$BUILD/livemig-staging" --listen 127.0.0.1:1 --store "$T/x" --ca "$AGENT_CA" --cert "$SERVER_CERT" \
	--key "$SERVER_KEY" --image-store "rbd:$POOL" --console "https://127.0.0.1:$CONSOLE_PORT" \
	--console-ca "$SERVER_CA" --console-credential "$T/st1.secret" --launch-driver libvirt \
	>/dev/null 2>"$T/nosecret.err"; then
	die "staging started with --image-store rbd: and --launch-driver libvirt without --launch-ceph-secret"
fi
grep -q -- "--launch-driver libvirt with --image-store rbd:POOL needs --launch-ceph-secret UUID" "$T/nosecret.err" ||
	die "no secret: $(cat "$T/nosecret.err")"
pass "libvirt launches on the RBD store without --launch-ceph-secret: refused at start, saying so"
start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
	--console-credential "$T/st1.secret" --console-interval 1s \
	--image-store "rbd:$POOL" --ceph-conf "$CEPH_CONF" --ceph-id admin \
	--launch-driver libvirt --launch-uri "$LIBVIRT_URI" --launch-nic user --launch-timeout "$BOOT_TIMEOUT" \
	--launch-ceph-secret "$SECRET"
grep -q "launches: driver libvirt, launcher $BUILD/livemig-launch, instances in $LDIR, from clones of the point's snapshots in pool $POOL" "$STAGING_LOG" ||
	die "staging's launch setup: $(grep launches "$STAGING_LOG")"
out=$(api register --dir "$A" --machine src-bios --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register: $out"
chmod 600 "$A/src-bios.secret"
M=$(cat "$A/src-bios.id")

step "replicate with livemigd into RBD, final sync: a recovery point"
write_source_config
start_agent src-bios
wait_status "s['state'] == 'CHANGE_COPY'" 1800
lm sync >"$T/sync.out" 2>&1 || die "final sync: $(cat "$T/sync.out")"
POINT=$("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json | jq '.points[-1].id')
[ "$POINT" -ge 1 ] 2>/dev/null || die "no recovery point after the sync"
wait_console_point "$POINT"
declare -A sha_before
for d in "${DISKS[@]}"; do
	rbd info "$(snap "$d")" >/dev/null || die "no snapshot $(snap "$d")"
	sha_before[$d]=$(rbd export --no-progress "$(snap "$d")" - | sha256sum | cut -d' ' -f1)
done
took "replication"
pass "replicated by livemigd into pool $POOL: point $POINT is the snapshots $(snap sda) and $(snap sdb)"

step "test launch from point $POINT: clones of its snapshots, converted, booted by libvirt"
j=$(lc_do test "\"point\": $POINT")
N=$M-test-$j
wait_lc '.state != "TESTING" or .instance.state == "up"' "$JOB_TIMEOUT" "test instance up"
took "test launch"
show_log "$j"
view=$(job_view "$j")
[ "$(lc_get | jq -r '.state + " " + .instance.state')" = "TESTING up" ] ||
	die "the test launch failed: $(jq -r .error <<<"$view")"
jq -e --arg n "$N" --argjson p "$POINT" '.result | .name == $n and .point == $p and .driver == "libvirt" and
	.state == "up" and (.address | startswith("10.0.2.")) and .disks == ["sda", "sdb"] and
	(.marker_line | test("host=src-bios-test ") and test(" mounted=/,/srv/data unmounted=none$"))' \
	<<<"$view" >/dev/null || die "the launch's result: $(jq -c .result <<<"$view")"
jq -r '.log[].line' <<<"$view" >"$T/launch.log"
grep -q "^converting 2 clones of point $POINT's snapshots in pool $POOL" "$T/launch.log" ||
	die "the job's log does not say it converts clones: $(cat "$T/launch.log")"
grep -q "^exporting disk" "$T/launch.log" && die "the job exported a disk: $(grep '^exporting' "$T/launch.log")"
ls "$LDIR/$N"/*.qcow2 >/dev/null 2>&1 && die "disk files in $LDIR/$N: $(ls -la "$LDIR/$N")"
pass "$N up at $(jq -r .result.address <<<"$view"), its data disk mounted; nothing exported, no disk file in $LDIR/$N"
jq -e --arg p "$POOL" --arg n "$N" --arg m "$M" --argjson pt "$POINT" '[.disks[] | {input, output}] ==
	[{input: "rbd:\($p)/livemig-\($m)+sda@point-\($pt)", output: "rbd:\($p)/\($n)-sda"},
	 {input: "rbd:\($p)/livemig-\($m)+sdb@point-\($pt)", output: "rbd:\($p)/\($n)-sdb"}]' \
	"$LDIR/$N/conversion.json" >/dev/null ||
	die "the conversion's disks: $(jq -c '[.disks[] | {input, output}]' "$LDIR/$N/conversion.json")"
virsh -c "$LIBVIRT_URI" dumpxml "$N" >"$T/domain.xml"
for d in "${DISKS[@]}"; do
	grep -q "<source protocol='rbd' name='$POOL/$N-$d'" "$T/domain.xml" || die "the domain has no rbd source $POOL/$N-$d"
	parent=$(rbd info --format json "$POOL/$N-$d" | jq -r '.parent | "\(.pool)/\(.image)@\(.snapshot)"')
	[ "$parent" = "$(snap "$d")" ] || die "$N-$d's parent is $parent"
	rbd info --format json "$(snap "$d")" | jq -e '.protected == "true"' >/dev/null || die "$(snap "$d") is not protected"
done
grep -q "<secret type='ceph' uuid='$SECRET'/>" "$T/domain.xml" || die "the domain's disks have no cephx secret"
grep -q "<disk type='file'" "$T/domain.xml" && die "the domain has a file disk: $(grep -A3 "<disk type='file'" "$T/domain.xml")"
virsh -c "$LIBVIRT_URI" domstate "$N" | has_line -x running || die "the domain $N is not running"
[ "$(pins)" = "[\"$N\"]" ] || die "the launched point is not pinned by $N: $(pins)"
used=$(rbd du --format json "$POOL/$N-sda" 2>/dev/null | jq '.images[] | select(.snapshot == null) | .used_size')
pass "the domain's vda and vdb are rbd clones $POOL/$N-sda and -sdb of the protected snapshots (cephx secret, no file disk; the boot clone holds $((used / 1048576)) MiB); point $POINT pinned by $N"

step "mark ready: the destroy job removes the domain and the clones, unprotects the snapshots"
lc_do mark-ready >/dev/null
wait_lc '.state == "READY_FOR_CUTOVER" and .instance == null' 600 "READY_FOR_CUTOVER without an instance"
took "mark ready"
dj=$(lc_get | jq -r '[.jobs[] | select(.kind == "destroy")][0].id')
show_log "$dj"
job_view "$dj" | jq -r '.log[].line' >"$T/destroy.log"
grep -q "^destroying instance $N (libvirt, its RBD clones with it)" "$T/destroy.log" ||
	die "the destroy job's log: $(cat "$T/destroy.log")"
virsh -c "$LIBVIRT_URI" list --all --name | has_line -x "$N" && die "the domain $N is still defined"
for d in "${DISKS[@]}"; do
	rbd info "$POOL/$N-$d" >/dev/null 2>&1 && die "the clone $N-$d is still there"
	[ -z "$(rbd children "$(snap "$d")")" ] || die "$(snap "$d") has a clone"
	rbd info --format json "$(snap "$d")" | jq -e '.protected == "false"' >/dev/null ||
		die "$(snap "$d") is still protected"
done
[ ! -e "$LDIR/$N" ] || die "$LDIR/$N is still there"
[ "$(pins)" = "[]" ] || die "the point is still pinned: $(pins)"
pass "READY_FOR_CUTOVER: no domain, no clone, the snapshots unprotected, $LDIR/$N removed, point $POINT unpinned"

for d in "${DISKS[@]}"; do
	[ "$(rbd export --no-progress "$(snap "$d")" - | sha256sum | cut -d' ' -f1)" = "${sha_before[$d]}" ] ||
		die "$(snap "$d") changed"
done
pass "the snapshots' data is unchanged by the launch (sha256 before and after)"
