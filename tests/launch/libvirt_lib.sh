# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# A private libvirtd + virtlogd for the launch tests, apart from any other
# on the machine: both run in their own mount namespace where libvirt's
# directories (/etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/log/libvirt, /var/cache/libvirt) are the test's own; only the client
# socket lies outside, in $LV/sock.
#   libvirt_start DIR    start them; sets LIBVIRT_URI, LIBVIRT_PID
#   libvirt_stop         stop them (by pid) and wait
# The system group kvm and libvirt-qemu user are created when missing, as
# libvirt-daemon-system would (Debian's recipe without systemd).
# qemu.conf: QEMU as root without relabelling or a security driver, so that
# the test's images in /tmp can be opened (the simple test settings).

libvirt_start() {
	LV=$1
	local d
	# what libvirt-daemon-system's postinst would create: the qemu driver
	# resolves its built-in default user even when qemu.conf says root
	getent group kvm >/dev/null || groupadd -r kvm
	getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
	id libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
	mkdir -p "$LV"/{etc,run,lib,log,cache,sock}
	for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
		mkdir -p "$d"
	done
	cat >"$LV/etc/libvirtd.conf" <<CONF
unix_sock_dir = "$LV/sock"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$LV/log/libvirtd.log"
CONF
	cat >"$LV/etc/qemu.conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
CONF
	printf 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"\n' >"$LV/etc/virtlogd.conf"
	unshare -m --propagation private bash -c '
		set -e
		LV=$1
		mount --bind "$LV/etc" /etc/libvirt
		mount --bind "$LV/run" /run/libvirt
		mount --bind "$LV/lib" /var/lib/libvirt
		mount --bind "$LV/log" /var/log/libvirt
		mount --bind "$LV/cache" /var/cache/libvirt
		virtlogd -d -f /etc/libvirt/virtlogd.conf -p "$LV/virtlogd.pid"
		exec libvirtd -f /etc/libvirt/libvirtd.conf -p "$LV/libvirtd.pid"
	' libvirt-ns "$LV" >"$LV/libvirtd.out" 2>&1 &
	LIBVIRT_PID=$!
	LIBVIRT_URI="qemu:///system?socket=$LV/sock/libvirt-sock"
	export LIBVIRT_URI
	local i
	for ((i = 0; i < 600; i++)); do
		if [ -S "$LV/sock/libvirt-sock" ] && virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$LIBVIRT_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "libvirtd did not start:" >&2
	cat "$LV/libvirtd.out" "$LV/log/libvirtd.log" >&2 2>/dev/null
	libvirt_stop
	return 1
}

libvirt_stop() {
	local f pid i
	[ -n "${LV:-}" ] || return 0
	# libvirtd leaves running domains behind when it exits: ours go first
	if [ -S "$LV/sock/libvirt-sock" ]; then
		local doms dom
		doms=$(virsh -c "$LIBVIRT_URI" list --all --name 2>/dev/null) || doms=
		for dom in $doms; do
			virsh -c "$LIBVIRT_URI" destroy "$dom" >/dev/null 2>&1
			virsh -c "$LIBVIRT_URI" undefine --nvram "$dom" >/dev/null 2>&1
		done
	fi
	for f in "$LV/libvirtd.pid" "$LV/virtlogd.pid"; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	[ -n "${LIBVIRT_PID:-}" ] && wait "$LIBVIRT_PID" 2>/dev/null
	LV=
	return 0
}
