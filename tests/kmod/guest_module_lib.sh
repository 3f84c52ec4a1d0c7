# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by the module-level guest tests (guest_basic.sh, guest_devices.sh,
# guest_inflight.sh, guest_freeze.sh) after they set OUT: the paths, the
# verdict helpers, the kernel log check and null_blk disks through configfs.
# Callers start with failures=0.
KO=$OUT/build/livemig_cbt.ko
T=$OUT/cbt_tool
S=/sys/class/misc/livemig-cbt
NB=/sys/kernel/config/nullb
BS=65536

pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # name got want
	if [ "$2" = "$3" ]; then pass "$1: $2"; else fail "$1: got '$2' want '$3'"; fi
}
# Several tests run in one boot, and one may leave messages it expects (a
# freeze that timed out): each judges only the kernel log since it began.
KLOG_START=$(dmesg | wc -l)
kernel_log_check() {
	local bad
	bad=$(dmesg | tail -n +"$((KLOG_START + 1))" | grep -E 'WARNING:|BUG:|livemig_cbt: ' |
		grep -v -e 'module verification failed' -e 'out-of-tree module taints') || true
	if [ -n "$bad" ]; then
		echo "$bad"
		fail "kernel log"
	else
		pass "kernel log clean"
	fi
}
snapblocks() { "$T" snapshot "$1" | sed 's/.*blocks=//'; }
rd() { "$T" read "$1" extents 2>/dev/null; }
# nullb NAME key=value...: a null_blk disk through configfs, powered on
nullb() {
	local name=$1 kv
	shift
	mkdir "$NB/$name" || return 1
	for kv in "$@"; do echo "${kv#*=}" >"$NB/$name/${kv%%=*}" || return 1; done
	echo 1 >"$NB/$name/power" || return 1
	# before 5.14 (bullseye's 5.10) the disk is nullb<index>, not NAME:
	# /dev/NAME becomes a link to it
	for _ in $(seq 50); do
		[ -b "/dev/$name" ] && return 0
		[ -b "/dev/nullb$(cat "$NB/$name/index")" ] &&
			ln -sfn "nullb$(cat "$NB/$name/index")" "/dev/$name" && return 0
		sleep 0.1
	done
	return 1
}
# the kernel's name of a disk (nullb0 for a linked /dev/nbfio)
kname() { basename "$(readlink -f "/dev/$1")"; }
