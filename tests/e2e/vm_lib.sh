# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The end-to-end test's source machine under QEMU TCG (no usable KVM here):
# pc machine, 1 vCPU, 2 GiB, its disks on IDE, an e1000 NIC with a fixed MAC
# on QEMU's user network with restrict=on (it reaches nothing but what is
# forwarded), the serial console into a file. Sourced; needs bash.
#
#   vm_start ROOT DATA SERIAL_LOG "PORT..." [SSH_PORT]
#       start QEMU in the background (sets VM_PID). Each PORT: the guest's
#       connections to $VM_HOST_ADDR:PORT reach the host's 127.0.0.1:PORT.
#       SSH_PORT: the host's 127.0.0.1:SSH_PORT reaches the guest's sshd.
#   vm_ssh CMD...         run CMD as root in the guest (VM_KEY, VM_SSH_PORT);
#                         bounded by VM_SSH_TIMEOUT (default 900 s)
#   vm_wait_ssh BOUND     until sshd answers; fails when QEMU exits or after BOUND s
#   vm_wait_exit BOUND    until QEMU exits by itself (the guest powered off)
#   vm_stop               power off from inside, else kill; always returns
#   vm_kill               SIGKILL QEMU (the trap's last resort)

VM_HOST_ADDR=10.0.2.100 # where the host's forwarded services are
VM_GUEST_ADDR=10.0.2.15 # QEMU's first DHCP address, configured statically
VM_GATEWAY=10.0.2.2
VM_MAC=52:54:00:e2:e0:0a
VM_PID=

vm_start() {
	local root=$1 data=$2 log=$3 ports=$4 ssh_port=${5:-} net p
	net="user,id=n0,restrict=on,ipv6=off,net=10.0.2.0/24"
	[ -z "$ssh_port" ] || net+=",hostfwd=tcp:127.0.0.1:$ssh_port-:22"
	for p in $ports; do
		# a socat per connection (a plain tcp: chardev carries only one)
		net+=",guestfwd=tcp:$VM_HOST_ADDR:$p-cmd:socat - TCP:127.0.0.1:$p"
	done
	: >"$log"
	qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 2048 -smp 1 \
		-drive "file=$root,format=raw,if=ide,index=0,cache=unsafe" \
		-drive "file=$data,format=raw,if=ide,index=1,cache=unsafe" \
		-netdev "$net" -device "e1000,netdev=n0,mac=$VM_MAC" \
		-display none -monitor none -serial "file:$log" </dev/null >"$log.qemu" 2>&1 &
	VM_PID=$!
}

vm_ssh() {
	timeout "${VM_SSH_TIMEOUT:-900}" ssh -i "$VM_KEY" -p "$VM_SSH_PORT" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=120 -o ServerAliveInterval=30 -o ServerAliveCountMax=20 \
		root@127.0.0.1 "$@"
}

vm_wait_ssh() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -le "$end" ]; do
		kill -0 "$VM_PID" 2>/dev/null || return 1
		VM_SSH_TIMEOUT=180 vm_ssh true </dev/null 2>/dev/null && return 0
		sleep 2
	done
	return 1
}

vm_wait_exit() {
	local end=$((SECONDS + $1))
	while kill -0 "$VM_PID" 2>/dev/null; do
		[ "$SECONDS" -le "$end" ] || return 1
		sleep 1
	done
	wait "$VM_PID" 2>/dev/null
	VM_PID=
	return 0
}

vm_stop() {
	[ -n "$VM_PID" ] || return 0
	VM_SSH_TIMEOUT=60 vm_ssh systemctl poweroff </dev/null >/dev/null 2>&1
	vm_wait_exit 300 || vm_kill
	return 0
}

vm_kill() {
	[ -n "$VM_PID" ] || return 0
	kill -9 "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=
	return 0
}
