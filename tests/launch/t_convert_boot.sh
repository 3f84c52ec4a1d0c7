#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A Debian 12 source disk (IDE/SATA naming: fstab and root=/dev/sda*, a
# static address on ens3 pinned to its old MAC, livemigd enabled, the
# agent's credentials) converted by livemig-launch and booted by libvirt on
# virtio under TCG: it must come up (first-boot marker: multi-user and an
# address by DHCP from QEMU's user network), with livemigd inactive, the
# copy's files as docs/launch.md says, and the source image unchanged.
#   t_convert_boot.sh BUILD VARIANT     VARIANT: bios, uefi or novirtio
# novirtio is also the negative control: its initramfs lacks virtio, so an
# unconverted copy must fail to boot on virtio, and the converted one (its
# initramfs rebuilt natively) must boot.
# Needs LIBVIRT_URI (a libvirtd the caller started, libvirt_lib.sh).
. "$(dirname "$0")/../integration/lib.sh" "$1"
VARIANT=${2:?variant}
need_root
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
LAUNCH=$BUILD/livemig-launch
NAME=lmtest-$VARIANT-$$
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1200}

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }

step "source image ($VARIANT)"
SRC=$("$TESTS/../launch/guest_image.sh" "$VARIANT") || die "cannot build the $VARIANT source image"
took image
sha_before=$(file_sha "$SRC")

# launch NAME CONVERSION OUT: the launcher's exit status; OUT gets its JSON.
# A TCG guest on an overloaded host can fail the kernel's early timer check
# ("IO-APIC + timer doesn't work", before any driver loads): that boot says
# nothing about the copy, so it is tried again (at most twice more).
launch() {
	local name=$1 conv=$2 out=$3 try rc
	for try in 1 2 3; do
		"$LAUNCH" launch --driver libvirt --uri "$LIBVIRT_URI" --conversion "$conv" --name "$name" \
			--state-dir "$T/state" --timeout "$BOOT_TIMEOUT" --json >"$out" 2>"$out.err"
		rc=$?
		[ "$rc" -ne 0 ] && jq -e '.serial_tail | test("IO-APIC \\+ timer doesn.t work")' "$out" >/dev/null 2>&1 ||
			return "$rc"
		echo "   (boot $try of $name: the kernel's timer check failed under TCG on a busy host; again)"
	done
	return "$rc"
}

cleanup_domain() {
	"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME" >/dev/null 2>&1
	"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME-raw" >/dev/null 2>&1
	return 0
}
# lib.sh's cleanup (scratch directory, loop devices, processes) after ours,
# with the test's exit status
trap 'rc=$?; cleanup_domain; (exit $rc); _lib_cleanup' EXIT

if [ "$VARIANT" = novirtio ]; then
	step "negative control: the unconverted copy on virtio"
	qemu-img create -q -f qcow2 -b "$SRC" -F raw "$T/unconverted.qcow2"
	jq -n --arg o "$T/unconverted.qcow2" \
		'{result: "converted", output: $o, firmware: "bios", marker: "LIVEMIG-FIRSTBOOT token=unconverted"}' \
		>"$T/unconverted.json"
	if launch "$NAME-raw" "$T/unconverted.json" "$T/unconverted-result.json"; then
		fail "the unconverted copy (no virtio in its initramfs) came up on virtio"
	fi
	cat "$T/unconverted-result.json.err"
	jq -e '.state == "failed" and (.error | test("boot stopped"))' "$T/unconverted-result.json" >/dev/null ||
		fail "the unconverted copy failed, but not at the boot: $(jq -r .error "$T/unconverted-result.json")"
	jq -e '.serial_tail | test("sda1 does not exist|Gave up waiting for root")' "$T/unconverted-result.json" >/dev/null ||
		fail "the unconverted copy's serial console does not show the missing root device"
	pass "negative control: the unconverted copy does not find its root disk on virtio (failed, with the serial tail)"
	took "unconverted boot"
fi

step "convert"
"$LAUNCH" convert --input "$SRC" --output "$T/copy.qcow2" --workdir "$T" --report "$T/conv.json" \
	2>"$T/convert.log" || { cat "$T/convert.log"; fail "conversion of the $VARIANT disk failed"; }
took convert
jq -c .timings_ms "$T/conv.json"
R=$T/conv.json
expect_fw=bios
[ "$VARIANT" = uefi ] && expect_fw=uefi
check "the report says firmware $expect_fw, debian 12, GRUB 2, initramfs-tools" \
	jq -e --arg fw "$expect_fw" '.firmware == $fw and .os.distro == "debian" and .os.major == 12
		and .boot_loader == "grub2" and .initramfs_tool == "initramfs-tools"' "$R"
check "the report names every kind of change" \
	jq -e '[.changes[].what] as $w | all("fstab", "network", "agent", "credentials", "identity",
		"first-boot", "boot-loader"; . as $k | $w | index($k) != null)' "$R"
if [ "$VARIANT" = novirtio ]; then
	check "the initramfs lacking virtio was rebuilt natively" jq -e '.kernels[0].rebuilt == true' "$R"
else
	check "the initramfs that has virtio was kept (no rebuild)" jq -e '.kernels[0].rebuilt == false' "$R"
fi
check "the copy is an overlay on the source" \
	bash -c "qemu-img info --output=json '$T/copy.qcow2' | jq -e --arg s '$SRC' '.[\"backing-filename\"] == \$s' >/dev/null"

step "the copy's files, read-only on this host"
touch "$T/copy.raw"
qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$T/copy.qcow2,read-only=on" \
	--blockdev driver=qcow2,node-name=q,file=f,read-only=on \
	--export "type=fuse,id=e,node-name=q,mountpoint=$T/copy.raw" --pidfile "$T/qsd.pid" --daemonize ||
	fail "qemu-storage-daemon could not export the copy"
track_pid "$(cat "$T/qsd.pid")"
off=$(jq -r '.mounts[] | select(.mountpoint == "/") | .offset' "$R")
size=$(jq -r '.mounts[] | select(.mountpoint == "/") | .size' "$R")
uuid=$(jq -r '.mounts[] | select(.mountpoint == "/") | .uuid' "$R")
loop=$(losetup -f --show -r -o "$off" --sizelimit "$size" "$T/copy.raw") || fail "losetup on the copy"
mkdir -p "$T/mnt"
mount -o ro,noload "$loop" "$T/mnt" || { losetup -d "$loop"; fail "cannot mount the copy's root"; }
M=$T/mnt
checks_ok=1
ck() { if eval "$2"; then pass "$1"; else echo "FAIL: $1" >&2; checks_ok=0; fi; }
ck "fstab names no bus device, and / by UUID" "! grep -q '^/dev/[sh]d' '$M/etc/fstab' && grep -q '^UUID=$uuid / ' '$M/etc/fstab'"
ck "grub.cfg boots root=UUID=$uuid, no root=/dev/sd*" "grep -q 'root=UUID=$uuid' '$M/boot/grub/grub.cfg' && ! grep -q 'root=/dev/sd' '$M/boot/grub/grub.cfg'"
ck "ifupdown: DHCP on any NIC, the static ens3 set aside" "grep -q 'iface livemig-dhcp inet dhcp' '$M/etc/network/interfaces' && ! grep -Eq 'inet static|192.168.50.10' '$M/etc/network/interfaces' && grep -q 'address 192.168.50.10' '$M/etc/network/interfaces.livemig-orig'"
ck "no rule pins a NIC name to the old MAC" "[ ! -e '$M/etc/udev/rules.d/70-persistent-net.rules' ] && ! grep -rqs 'MACAddress=' '$M/etc/systemd/network/'*.link"
ck "livemigd masked and not wanted" "[ \"\$(readlink '$M/etc/systemd/system/livemigd.service')\" = /dev/null ] && [ ! -e '$M/etc/systemd/system/multi-user.target.wants/livemigd.service' ]"
ck "livemig_cbt blacklisted, not loaded at boot" "grep -q 'install livemig_cbt /bin/false' '$M/etc/modprobe.d/livemig-launched.conf' && [ ! -e '$M/etc/modules-load.d/livemig.conf' ]"
ck "the agent's key, certificate, token and state removed" "[ ! -e '$M/etc/livemig/agent.key' ] && [ ! -e '$M/etc/livemig/agent.pem' ] && [ ! -e '$M/etc/livemig/token' ] && [ ! -e '$M/var/lib/livemig' ]"
ck "test launch: hostname src-$VARIANT-test, a new machine-id" "[ \"\$(cat '$M/etc/hostname')\" = src-$VARIANT-test ] && ! grep -q 0123456789abcdef0123456789abcdef '$M/etc/machine-id' && grep -Eq '^[0-9a-f]{32}\$' '$M/etc/machine-id'"
ck "the first-boot unit is enabled" "[ -L '$M/etc/systemd/system/multi-user.target.wants/livemig-firstboot.service' ] && [ -x '$M/usr/local/sbin/livemig-firstboot' ]"
if [ "$VARIANT" = novirtio ]; then
	kver=$(jq -r '.kernels[0].version' "$R")
	ck "the rebuilt initramfs carries virtio_blk and virtio_net" "lsinitramfs '$M/boot/initrd.img-$kver' >'$T/lsinitramfs.txt' 2>&1 && grep -q '/virtio_blk.ko' '$T/lsinitramfs.txt' && grep -q '/virtio_net.ko' '$T/lsinitramfs.txt'"
fi
umount "$M"
losetup -d "$loop"
kill "$(cat "$T/qsd.pid")"
[ "$checks_ok" = 1 ] || fail "the converted copy is not as docs/launch.md says"
took "copy checks"

step "launch with libvirt (virtio disk and NIC, $expect_fw, TCG)"
launch "$NAME" "$R" "$T/launch.json" || {
	cat "$T/launch.json.err" "$T/launch.json"
	fail "the converted $VARIANT copy did not come up"
}
took "boot to up"
jq -c '{state, seconds, address, marker_line}' "$T/launch.json"
check "up: multi-user and an address by DHCP (QEMU's 10.0.2.0/24)" \
	jq -e '.state == "up" and (.address | startswith("10.0.2."))' "$T/launch.json"
check "livemigd is inactive in the launched copy" \
	jq -e '.marker_line | test("livemigd=(inactive|failed|unknown)")' "$T/launch.json"
check "the launched copy runs under its test hostname" \
	jq -e --arg h "src-$VARIANT-test" '.marker_line | test("host=" + $h + " ")' "$T/launch.json"
domxml=$(virsh -c "$LIBVIRT_URI" dumpxml "$NAME")
grep -q "bus='virtio'" <<<"$domxml" && grep -q "<model type='virtio'/>" <<<"$domxml" ||
	fail "the domain's disk or NIC is not virtio"
pass "the domain has a virtio disk and a virtio NIC"
"$LAUNCH" destroy --driver libvirt --uri "$LIBVIRT_URI" --name "$NAME" >/dev/null || fail "destroy"
pass "destroyed"

[ "$(file_sha "$SRC")" = "$sha_before" ] || fail "the source image changed"
pass "the source image is unchanged (sha256)"
