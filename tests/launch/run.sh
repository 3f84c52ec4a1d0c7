#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check-launch`: the source disks (debootstrap, cached), a private
# libvirtd, then each conversion + boot test, and the launch through
# staging and the lifecycle; the time of each step.
#   tests/launch/run.sh BUILD [TEST...]    (default: uefi novirtio lifecycle)
# bios, uefi, novirtio: t_convert_boot.sh of that source disk;
# lifecycle: t_lifecycle.sh (the bios disk and its data disk replicated,
# test, mark ready, cutover and finalize through the console, launched by
# staging); datadisks: t_convert_datadisks.sh (three disks converted, one
# an LVM volume, without a boot; not in the default: the lifecycle boots a
# machine with a data disk); rbd: t_launch_rbd.sh, then
# t_staging_launch_rbd.sh, each under tests/with_ceph.sh (the bios disk and
# its data disk as a point on a scratch Ceph cluster, launched from clones
# of its snapshots by hand, then replicated by livemigd into staging's RBD
# store and launched by staging's jobs through the console; `make
# check-launch-rbd`, not in the default: it needs the Ceph daemons and
# qemu-block-extra).
set -uo pipefail
BUILD=${1:-build}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
variants=("$@")
# bios is not in the default: the lifecycle converts and boots the same BIOS
# disk (from a recovery point), and uefi runs the same checks of the copy's
# files; CI's time goes to what nothing else proves.
[ ${#variants[@]} -gt 0 ] || variants=(uefi novirtio lifecycle)
if [ "$(id -u)" -ne 0 ]; then
	echo "check-launch: FAIL: needs root (debootstrap, loop devices, mounts, libvirtd)" >&2
	exit 1
fi
[ -x "$BUILD/livemig-launch" ] || { echo "check-launch: FAIL: $BUILD/livemig-launch not built" >&2; exit 1; }
. "$HERE/libvirt_lib.sh"
t0=$(date +%s)
failed=()
WORK=$(mktemp -d /tmp/livemig-launch-run.XXXXXX)
trap 'libvirt_stop; rm -rf "$WORK"' EXIT
# an interrupted run (Ctrl-C, a CI timeout) still stops its libvirtd
trap 'exit 130' INT TERM

images=()
for v in "${variants[@]}"; do
	case $v in
	lifecycle | datadisks | rbd) images+=(bios data) ;;
	bios | uefi | novirtio) images+=("$v") ;;
	*) echo "check-launch: unknown test $v (bios, uefi, novirtio, lifecycle, datadisks or rbd)" >&2; exit 2 ;;
	esac
done
mapfile -t images < <(printf '%s\n' "${images[@]}" | sort -u)
for v in "${images[@]}"; do
	s=$(date +%s)
	"$HERE/guest_image.sh" "$v" >/dev/null || { echo "== source image $v: FAILED"; exit 1; }
	echo "== source image $v: ready in $(($(date +%s) - s)) s"
done
s=$(date +%s)
libvirt_start "$WORK/libvirt" || exit 1
echo "== private libvirtd: up in $(($(date +%s) - s)) s"

# libvirtd is this script's infrastructure, not what is tested: once (a
# clean CI run from empty caches) it exited between two tests with nothing
# in its log. Said, with its log, and started again, so that the next test
# runs rather than failing on a missing socket.
libvirt_alive() {
	[ -S "$LV/sock/libvirt-sock" ] && virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1 && return 0
	echo "== private libvirtd: gone before test $1; its log:"
	tail -n 20 "$LV/log/libvirtd.log" 2>/dev/null | sed 's/^/   | /'
	libvirt_stop
	libvirt_start "$WORK/libvirt.$1" || return 1
	echo "== private libvirtd: started again for $1"
}

for v in "${variants[@]}"; do
	s=$(date +%s)
	libvirt_alive "$v" || { failed+=("$v"); continue; }
	if [ "$v" = datadisks ]; then
		echo "== convert three disks (a data partition, an LVM volume, a disk left out)"
		if nice "$HERE/t_convert_datadisks.sh" "$BUILD"; then
			echo "== convert three disks: passed in $(($(date +%s) - s)) s"
		else
			echo "== convert three disks: FAILED after $(($(date +%s) - s)) s"
			failed+=("$v")
		fi
		continue
	fi
	if [ "$v" = rbd ]; then
		echo "== a test launch from RBD clones (a scratch Ceph cluster)"
		if nice "$HERE/../with_ceph.sh" "$HERE/t_launch_rbd.sh" "$BUILD"; then
			echo "== a test launch from RBD clones: passed in $(($(date +%s) - s)) s"
		else
			echo "== a test launch from RBD clones: FAILED after $(($(date +%s) - s)) s"
			failed+=("$v")
		fi
		s=$(date +%s)
		libvirt_alive "$v-staging" || { failed+=("$v-staging"); continue; }
		echo "== staging's launch and destroy jobs on the RBD store (a scratch Ceph cluster)"
		if nice "$HERE/../with_ceph.sh" "$HERE/t_staging_launch_rbd.sh" "$BUILD"; then
			echo "== staging's launch and destroy jobs on the RBD store: passed in $(($(date +%s) - s)) s"
		else
			echo "== staging's launch and destroy jobs on the RBD store: FAILED after $(($(date +%s) - s)) s"
			failed+=("$v-staging")
		fi
		continue
	fi
	if [ "$v" = lifecycle ]; then
		echo "== the lifecycle through the console and staging"
		if nice "$HERE/t_lifecycle.sh" "$BUILD"; then
			echo "== the lifecycle through the console and staging: passed in $(($(date +%s) - s)) s"
		else
			echo "== the lifecycle through the console and staging: FAILED after $(($(date +%s) - s)) s"
			failed+=("$v")
		fi
		continue
	fi
	echo "== convert and boot: $v"
	if nice "$HERE/t_convert_boot.sh" "$BUILD" "$v"; then
		echo "== convert and boot: $v: passed in $(($(date +%s) - s)) s"
	else
		echo "== convert and boot: $v: FAILED after $(($(date +%s) - s)) s"
		failed+=("$v")
	fi
done
echo "check-launch: $(($(date +%s) - t0)) s in all"
if [ ${#failed[@]} -gt 0 ]; then
	echo "check-launch: FAILED: ${failed[*]}"
	exit 1
fi
echo "check-launch: passed"
