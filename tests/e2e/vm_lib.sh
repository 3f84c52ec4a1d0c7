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
#   vm_wait_ssh BOUND     until sshd answers; fails when QEMU exits or after BOUND s;
#                         then starts the master connection (VM_SSH_MUX)
#   vm_mux_stop           end the master connection (before a reboot)
#   vm_wait_exit BOUND    until QEMU exits by itself (the guest powered off)
#   vm_stop               power off from inside, else kill; always returns
#   vm_kill               SIGKILL QEMU (the trap's last resort)

VM_HOST_ADDR=10.0.2.100 # where the host's forwarded services are
VM_GUEST_ADDR=10.0.2.15 # QEMU's first DHCP address, configured statically
VM_GATEWAY=10.0.2.2
VM_MAC=52:54:00:e2:e0:0a
VM_PID=
# VM_SSH_MUX: a control socket path, or empty. A login to the guest costs it
# seconds of CPU under TCG (sshd's fork and re-exec, the key exchange, PAM, a
# logind session) and the test runs hundreds of commands, most of them
# polls: with a socket they are channels of one connection. A command that
# finds no master (before the first boot answers, across the reboot)
# connects by itself, as without.
VM_SSH_MUX=${VM_SSH_MUX:-}

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

# _vm_ssh_cmd: the ssh command line, options included, into the caller's
# _VM_SSH array (timeout runs programs, not functions)
_vm_ssh_cmd() {
	_VM_SSH=(ssh -i "$VM_KEY" -p "$VM_SSH_PORT" -o BatchMode=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
		-o ConnectTimeout=120 -o ServerAliveInterval=30 -o ServerAliveCountMax=20
		-o ControlPath="${VM_SSH_MUX:-none}")
}

vm_ssh() {
	local _VM_SSH
	_vm_ssh_cmd
	timeout "${VM_SSH_TIMEOUT:-900}" "${_VM_SSH[@]}" -o ControlMaster=no root@127.0.0.1 "$@"
}

vm_wait_ssh() {
	local end=$((SECONDS + $1)) _VM_SSH
	_vm_ssh_cmd
	while [ "$SECONDS" -le "$end" ]; do
		kill -0 "$VM_PID" 2>/dev/null || return 1
		if VM_SSH_TIMEOUT=180 vm_ssh true </dev/null 2>/dev/null; then
			# no master: every command connects by itself, slower only
			[ -z "$VM_SSH_MUX" ] || [ -S "$VM_SSH_MUX" ] ||
				timeout 180 "${_VM_SSH[@]}" -o ControlMaster=yes -o ControlPersist=yes -f -N \
					root@127.0.0.1 </dev/null >/dev/null 2>&1 || true
			return 0
		fi
		sleep 2
	done
	return 1
}

vm_mux_stop() {
	local _VM_SSH
	[ -n "$VM_SSH_MUX" ] && [ -S "$VM_SSH_MUX" ] || return 0
	_vm_ssh_cmd
	timeout 30 "${_VM_SSH[@]}" -O exit root@127.0.0.1 >/dev/null 2>&1
	rm -f "$VM_SSH_MUX"
	return 0
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
	[ -n "$VM_PID" ] || { vm_mux_stop; return 0; }
	VM_SSH_TIMEOUT=60 vm_ssh systemctl poweroff </dev/null >/dev/null 2>&1
	vm_mux_stop
	vm_wait_exit 300 || vm_kill
	return 0
}

vm_kill() {
	[ -n "$VM_PID" ] || return 0
	kill -9 "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=
	vm_mux_stop
	return 0
}
