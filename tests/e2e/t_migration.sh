#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# A whole migration, end to end (docs/testing.md, check-e2e): a running
# Debian 12 server with PostgreSQL (tests/e2e/source_image.sh, under QEMU
# TCG: systemd, its own kernel, two disks, the data on LVM) is installed
# the way operators install it and moved to a new VM launched by staging
# with libvirt, with its workload running. The host runs the console and
# staging; the guest reaches them, and a local apt repository of the built
# .debs, through QEMU's forwards to the host's loopback only.
#   1. the token preseeded with debconf; apt-get install livemig-agent
#      livemig-cbt-dkms: DKMS builds the module for the guest's kernel, it
#      loads, systemd runs the hardened livemigd.service (its sandboxing in
#      force), it registers, both disks replicate with tracker kmod
#   2. workload from before the mirror to the cutover: pgbench at a bounded
#      rate and the numbered fsync'd record writer (records.py)
#   3. mid change copy, an upgrade to the next version's packages: livemigd
#      restarted by the package resumes from its checkpoint (no rescan), DKMS
#      builds the new module; what it sends in the 2 minutes after stays
#      under 5% of the disks plus the data written meanwhile
#   4. a reboot: the unit starts livemigd and loads the module by itself;
#      tracking continuity is lost, so it rescans (the bytes are reported)
#   5. a test launch from a periodic point while the workload runs:
#      PostgreSQL starts, pg_amcheck clean, pgbench history and records hold
#      every transaction/record acknowledged before the point's freeze;
#      replication never paused; mark ready
#   6. cutover: workload stopped, count + checksum + marker noted; the launched
#      machine (virtio, new MAC, DHCP) holds exactly them, livemigd inactive;
#      the downtime is reported
#   7. finalize: the license count drops, the source's agent stops and
#      removes its configuration (docs/agent-console.md)
# The launched machines are seen through their serial logs: the fixture's
# e2e-report.service prints one E2E-REPORT line (tests/e2e/e2e-report.sh).
# Any failure prints its step, the source's serial tail and livemigd's journal.
#   t_migration.sh BUILD DEBDIR DEBDIR_NEXT   (needs LIBVIRT_URI: tests/launch/libvirt_lib.sh)
# DEBDIR_NEXT: the same packages rebuilt as the next version (step 3)
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$TESTS/console_lib.sh"
. "$TESTS/../launch/lifecycle_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/vm_lib.sh"
need_root
DEBS=$(cd "${2:?usage: t_migration.sh BUILD DEBDIR DEBDIR_NEXT}" && pwd)
DEBS_NEXT=$(cd "${3:?usage: t_migration.sh BUILD DEBDIR DEBDIR_NEXT}" && pwd)
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
[ -x "$BUILD/livemig-launch" ] || die "$BUILD/livemig-launch is not built (make check-e2e builds it)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
# hang bounds only: under TCG on a busy host everything is slow
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
JOB_TIMEOUT=${JOB_TIMEOUT:-5400}
MIRROR_TIMEOUT=${MIRROR_TIMEOUT:-5400}
INSTALL_TIMEOUT=${INSTALL_TIMEOUT:-5400}
PGBENCH_RATE=2 # transactions per second: a bounded workload; at 5 it took a
# quarter of the TCG source's CPU (about 40 ms of PostgreSQL a transaction)

LOGIN=alice@acme:operator-password
STAGING_STORE=$T/store
LDIR=$STAGING_STORE/.launches
SERIAL=$T/source.serial.log
CONSOLE_HOST=console.e2e.test
STAGING_HOST=staging.e2e.test
export SERVER_EXTRA_SANS="DNS:$CONSOLE_HOST,DNS:$STAGING_HOST"

STEP=setup
step_t0=$SECONDS
TIMES=()
step() { STEP=$1; step_t0=$SECONDS; echo "-- step $*"; }
took() {
	TIMES+=("$STEP: $((SECONDS - step_t0)) s")
	echo "   (step $STEP: $((SECONDS - step_t0)) s)"
	guest_cpu
}

# Where the guest's one vCPU went (docs/testing.md, "Where the time goes"):
# after each step, its busy CPU seconds since the previous report (USER_HZ
# ticks of /proc/stat; from the boot after a reboot) and the CPU seconds of
# its live processes by command, since they started. What is busy and not
# in a live process is what exited: DKMS's compilers, apt, dpkg.
CPU_PREV=
guest_cpu() {
	local out boot busy total pboot pb pt
	[ -n "$VM_PID" ] || return 0
	out=$(VM_SSH_TIMEOUT=120 vm_ssh 'cat /proc/sys/kernel/random/boot_id; read -r _ u n s i w q sq _ </proc/stat
		echo "$((u + n + s + q + sq)) $((u + n + s + i + w + q + sq))"
		ps -e -o comm=,times= | awk "{ t[\$1] += \$2 } END { for (c in t) if (t[c] >= 3) print t[c], c }" | sort -rn | sed -n 1,8p | paste -sd" "' </dev/null 2>/dev/null) || return 0
	{ read -r boot; read -r busy total; } <<<"$out"
	read -r pboot pb pt <<<"${CPU_PREV:-x 0 0}"
	[ "$boot" = "$pboot" ] || { pb=0; pt=0; }
	CPU_PREV="$boot $busy $total"
	echo "   guest CPU: busy $(((busy - pb) / 100)) s of $(((total - pt) / 100)) s; live processes (s, command): $(sed -n 3p <<<"$out")"
}

# stamp START: each line prefixed with the seconds since START when it came
# (the end of the line: DKMS prints a dot every 3 s while a command runs)
stamp() {
	local l
	while IFS= read -r l || [ -n "$l" ]; do printf '%5d %s\n' $((SECONDS - $1)) "$l"; done
}
# slow_lines LOG: the lines of a stamped log that took 5 s or more
slow_lines() {
	awk '{ d = $1 - p; p = $1 } d >= 5 { printf "   %5d s  %s\n", d, substr($0, 7, 120) }' "$1"
}

# what a failure shows: the step, the source's console and agent
LAUNCH_SERIAL=
_e2e_on_exit() {
	local rc=$1
	if [ "$rc" -ne 0 ]; then
		echo "== FAILED in step $STEP"
		echo "== the source's serial console, last lines:"
		tail -n 30 "$SERIAL" 2>/dev/null | sed 's/^/   | /'
		if [ -n "$VM_PID" ]; then
			echo "== journalctl -u livemigd on the source, last lines:"
			VM_SSH_TIMEOUT=120 vm_ssh journalctl -u livemigd --no-pager -n 60 </dev/null 2>&1 | sed 's/^/   | /'
		fi
		if [ -n "$LAUNCH_SERIAL" ]; then
			# once (2026-12-07) a test instance booted the source's root=/dev/sda1
			# although its conversion reported grub.cfg edited to root=UUID
			echo "== the launched machine's kernel: $(grep -a -m 1 'Command line:' "$LAUNCH_SERIAL" 2>/dev/null || echo 'no command line logged')"
			echo "== the launched machine's serial console ($LAUNCH_SERIAL), last lines:"
			tail -n 30 "$LAUNCH_SERIAL" 2>/dev/null | sed 's/^/   | /'
		fi
	fi
	# nothing reads the source after the test (its disks are copies): no
	# clean power-off, which is a shutdown under TCG (step 4 shows its time)
	vm_kill
	[ ${#TIMES[@]} -eq 0 ] || printf '   step time: %s\n' "${TIMES[@]}"
}
trap '_e2e_rc=$?; _e2e_on_exit $_e2e_rc; (exit $_e2e_rc); _lib_cleanup' EXIT

# guest 'SHELL COMMAND': run in the source by ssh (one string: ssh hands the
# remote shell one command line); its errors kept in $T/guest.log as well
guest() {
	echo "# $1" >>"$T/guest.log"
	vm_ssh "$1" 2> >(tee -a "$T/guest.log" >&2)
}

status_json() { guest 'livemig status --json' </dev/null 2>/dev/null; }
# wait_agent JQ_FILTER BOUND WHAT: the source's `livemig status --json`
wait_agent() {
	local s end=$((SECONDS + $2))
	while [ "$SECONDS" -le "$end" ]; do
		s=$(status_json) && jq -e "$1" <<<"$s" >/dev/null && return 0
		sleep 5
	done
	die "no $3 within $2 s: $(jq -c '{state, reason, tracker, tracker_reason, paused, disks: [.disks[]? | {name, state, percent}]}' <<<"$s" 2>/dev/null || echo "$s")"
}

# report_of SERIAL_LOG BOUND: the E2E-REPORT line of a launched machine
report_of() {
	local end=$((SECONDS + $2)) line
	while [ "$SECONDS" -le "$end" ]; do
		line=$(grep -a -o 'E2E-REPORT .*' "$1" 2>/dev/null | tr -d '\r' | sed -n '$p')
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 1
	done
	return 1
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# ---- the host: console, staging with libvirt, the apt repository --------
step setup
read -r SRC_ROOT SRC_DATA VM_KEY < <("$HERE/source_image.sh") || die "cannot build the source images"
[ -s "$VM_KEY" ] || die "source_image.sh gave no ssh key"
cp --sparse=always "$SRC_ROOT" "$T/root.raw"
cp --sparse=always "$SRC_DATA" "$T/data.raw"
chmod 0644 "$T/root.raw" "$T/data.raw"

mkdir -p "$T/repo"
cp "$DEBS"/livemig-agent_*.deb "$DEBS"/livemig-cbt-dkms_*.deb "$T/repo/"
(cd "$T/repo" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
REPO_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$T/repo" "$REPO_PORT" >"$T/repo.log" 2>&1 &
track_pid $!

setup_pki
STAGING_WANT_PORT=$(free_port)
start_console --heartbeat-interval 2s --staging "$STAGING_HOST:$STAGING_WANT_PORT"
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
# staging trusts the agents' certificates that the console issues
AGENT_CA=$CONSOLE_CA/ca.pem
start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
	--console-credential "$T/st1.secret" --console-interval 1s \
	--launch-driver libvirt --launch-uri "$LIBVIRT_URI" --launch-nic user --launch-timeout "$BOOT_TIMEOUT"
[ "$STAGING_PORT" = "$STAGING_WANT_PORT" ] || die "staging is not on port $STAGING_WANT_PORT"
in_use() { admin list-machines acme --json | jq .licenses.in_use; }

SSH_PORT=$(free_port)
VM_SSH_PORT=$SSH_PORT
VM_SSH_MUX=$T/ssh.mux
vm_start "$T/root.raw" "$T/data.raw" "$SERIAL" "$CONSOLE_PORT $STAGING_PORT $REPO_PORT" "$SSH_PORT"
vm_wait_ssh "$BOOT_TIMEOUT" || die "the source did not answer ssh within $BOOT_TIMEOUT s"
# what a command costs by a login of its own and as a channel of the master
ssh_ms() {
	local s
	s=$(date +%s%N)
	for _ in 1 2 3; do vm_ssh true </dev/null >/dev/null 2>&1; done
	echo $((($(date +%s%N) - s) / 3000000))
}
echo "   a guest command: $(VM_SSH_MUX='' ssh_ms) ms by its own login, $(ssh_ms) ms as a channel of the master (means of 3)"
echo "   the boot: $(guest 'systemd-analyze time | sed -n 1p; systemd-analyze blame | sed -n 1,6p | paste -sd";"' </dev/null 2>&1 | paste -sd' ')"
# the fixture's health check as the tree has it: the cached image need not
# be rebuilt when it changes
guest 'install -m 0755 /dev/stdin /usr/local/sbin/e2e-report' <"$HERE/e2e-report.sh" || die "installing e2e-report"
guest 'install -m 0755 /dev/stdin /usr/local/sbin/e2e-records' <"$HERE/records.py" || die "installing e2e-records"
kver=$(guest 'uname -r' </dev/null) || die "uname"
[ "$(guest 'findmnt -n -o SOURCE /var/lib/postgresql' </dev/null)" = /dev/mapper/vgdata-pgdata ] ||
	die "/var/lib/postgresql is not the LVM volume"
took
pass "console :$CONSOLE_PORT, staging :$STAGING_PORT (libvirt launcher), repository :$REPO_PORT; the source booted (kernel $kver), ssh on :$SSH_PORT"

# ---- 2. the workload, from before the mirror ----------------------------
# Its logs in /var/lib/e2e (they outlive the reboot of step 4), its pids in
# /run/e2e; after the reboot it is started again: pgbench appends new log
# files, the record writer numbers on from the file's prefix.
start_workload() {
	guest 'bash -euo pipefail -s' <<-EOF
		mkdir -p /run/e2e /var/lib/e2e
		chown postgres /run/e2e /var/lib/e2e
			setsid -f sh -c 'echo \$\$ >/run/e2e/pgbench.pid; exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql pgbench -n -R $PGBENCH_RATE -T 86400 -l --log-prefix=/var/lib/e2e/pgbench postgres' >>/var/lib/e2e/pgbench.out 2>&1 </dev/null
		setsid -f sh -c 'echo \$\$ >/run/e2e/records.pid; exec e2e-records write /root/records /var/lib/e2e/acks.log' >>/var/lib/e2e/records.out 2>&1 </dev/null
	EOF
}
# workload_counts: "TRANSACTIONS RECORDS" logged so far
workload_counts() {
	guest 'cat /var/lib/e2e/pgbench.[0-9]* 2>/dev/null | wc -l; cat /var/lib/e2e/acks.log 2>/dev/null | wc -l' </dev/null | paste -sd' '
}
# wait_workload_beyond TX RECS: until both have gone past those counts
wait_workload_beyond() {

	for _ in $(seq 300); do # bounded for a hang only
		read -r n_tx n_rec <<<"$(workload_counts)"
		[ "${n_tx:-0}" -gt "$1" ] && [ "${n_rec:-0}" -gt "$2" ] && return 0
		sleep 2
	done
	[ "${n_tx:-0}" -gt "$1" ] || die "pgbench commits nothing: $(guest 'tail -n 5 /var/lib/e2e/pgbench.out' </dev/null)"
	die "the record writer writes nothing: $(guest 'tail -n 5 /var/lib/e2e/records.out' </dev/null)"
}
step "2 workload"
start_workload || die "starting the workload"
wait_workload_beyond 0 0
took
pass "pgbench at $PGBENCH_RATE tps (postgres on the LVM disk) and the record writer (root disk) run: $n_tx transactions, $n_rec records so far"

# ---- 1. the installation, as an operator does it -------------------------
step "1 install"
guest 'install -D -m 0644 /dev/stdin /etc/livemig/console-ca.pem' <"$SERVER_CA" || die "console CA"
guest "echo 'deb [trusted=yes] http://$VM_HOST_ADDR:$REPO_PORT ./' >/etc/apt/sources.list && apt-get update -q" \
	</dev/null >"$T/apt-update.log" 2>&1 || { cat "$T/apt-update.log"; die "apt-get update from the local repository"; }
# the token through stdin only: not on a command line
printf '%s\n' "livemig-agent livemig-agent/console-url string https://$CONSOLE_HOST:$CONSOLE_PORT" \
	"livemig-agent livemig-agent/console-ca string /etc/livemig/console-ca.pem" \
	"livemig-agent livemig-agent/token password $TOKEN" | guest debconf-set-selections || die "debconf-set-selections"
s=$SECONDS
# DKMS compiles its feature probes and the module under TCG: many minutes
VM_SSH_TIMEOUT=$INSTALL_TIMEOUT guest 'DEBIAN_FRONTEND=noninteractive apt-get install -y livemig-agent livemig-cbt-dkms' \
	</dev/null 2>&1 | stamp "$s" >"$T/install.log"
[ "${PIPESTATUS[0]}" = 0 ] || { sed 's/^/   | /' "$T/install.log"; die "apt-get install livemig-agent livemig-cbt-dkms (or its bound, $INSTALL_TIMEOUT s)"; }
echo "   apt-get install: $((SECONDS - s)) s; its slow lines:"
slow_lines "$T/install.log"
grep -q 'livemig-setup: registered' "$T/install.log" || { sed 's/^/   | /' "$T/install.log"; die "the package did not register the machine"; }
! grep -qF "$TOKEN" "$T/install.log" || die "the token is in apt-get's output"
guest 'test ! -e /etc/livemig/token' </dev/null || die "the token file is still there"
out=$(guest 'read -r t; debconf-show livemig-agent; grep -rF -- "$t" /var/cache/debconf /var/log/apt /var/log/dpkg.log || true' <<<"$TOKEN")
! grep -qF "$TOKEN" <<<"$out" || die "the token stayed in debconf or a log: $out"
out=$(guest 'dkms status livemig-cbt' </dev/null)
grep -q ", $kver, .*: installed" <<<"$out" || die "DKMS did not build the module for $kver: $out"
guest "grep -q '^livemig_cbt ' /proc/modules" </dev/null || die "livemig_cbt is not loaded"
M=$(guest "sed -n 's/^machine = //p' /etc/livemig/livemigd.conf" </dev/null)
[ -n "$M" ] || die "no machine id in livemigd.conf"
pass "installed from the local repository with the preseeded token: registered as $M, the token gone (not in debconf nor logs), DKMS built livemig_cbt for $kver and it is loaded"

# systemd runs the packaged unit with its sandboxing in force
[ "$(guest 'systemctl is-active livemigd' </dev/null)" = active ] || die "livemigd.service is not active"
props=$(guest 'systemctl show livemigd -p ProtectSystem,ProtectHome,PrivateTmp,NoNewPrivileges,ProtectKernelModules,ProtectKernelTunables,ProtectControlGroups,RestrictNamespaces,MemoryDenyWriteExecute,LockPersonality,RestrictSUIDSGID,CapabilityBoundingSet,UMask,MainPID' </dev/null)
for want in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes ProtectKernelModules=yes \
	ProtectKernelTunables=yes ProtectControlGroups=yes RestrictNamespaces=yes MemoryDenyWriteExecute=yes \
	LockPersonality=yes RestrictSUIDSGID=yes UMask=0077; do
	has_line -x "$want" <<<"$props" || die "systemctl show livemigd: no $want in: $props"
done
caps=$(sed -n 's/^CapabilityBoundingSet=//p' <<<"$props")
[ "$(tr ' ' '\n' <<<"$caps" | sort | paste -sd' ')" = "cap_dac_override cap_dac_read_search cap_sys_admin cap_sys_rawio" ] ||
	die "CapabilityBoundingSet=$caps"
pid=$(sed -n 's/^MainPID=//p' <<<"$props")
# in force on the running process: its status, and /usr read-only in its mount namespace
inproc=$(guest "grep -E '^(NoNewPrivs|CapBnd):' /proc/$pid/status; nsenter -t $pid -m touch /usr/livemig-e2e 2>/dev/null || echo usr-read-only" </dev/null)
has_line -x $'NoNewPrivs:\t1' <<<"$inproc" || die "livemigd (pid $pid) runs without no_new_privs: $inproc"
has_line -x $'CapBnd:\t0000000000220006' <<<"$inproc" || die "livemigd's bounding set: $inproc"
has_line -x usr-read-only <<<"$inproc" || die "/usr is writable in livemigd's namespace: $inproc"
pass "livemigd.service active under systemd; systemctl show: $(grep -v -e MainPID -e CapabilityBoundingSet <<<"$props" | paste -sd' '); the process: no_new_privs, CapBnd 0x220006 (dac_override dac_read_search sys_rawio sys_admin), /usr read-only"

# an operator's tuning (docs/configuration.md): points every minute, so that
# the test need not wait the default 10 minutes for a periodic point
guest 'sed -i "/^\[agent\]/a point_interval = 1m" /etc/livemig/livemigd.conf && systemctl restart livemigd' </dev/null ||
	die "setting point_interval"
# and a freeze hook, as operators add one for their database: it counts the
# committed pgbench transactions just before each freeze (freeze_witness.sh)
guest "runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c 'CREATE ROLE root LOGIN; GRANT SELECT ON pgbench_history TO root' >/dev/null &&
	install -D -m 0755 /dev/stdin /etc/livemig/freeze-hooks.d/50-e2e-witness" <"$HERE/freeze_witness.sh" ||
	die "installing the freeze hook"
wait_agent '.state == "CHANGE_COPY"' "$MIRROR_TIMEOUT" "CHANGE_COPY (initial mirror of both disks)"
st=$(status_json)
jq -e '.tracker == "kmod"' <<<"$st" >/dev/null || die "tracker: $(jq -c '{tracker, tracker_reason}' <<<"$st")"
[ "$(jq -c '[.disks[].name] | sort' <<<"$st")" = '["sda","sdb"]' ] || die "replicated disks: $(jq -c '[.disks[] | {name, path}]' <<<"$st")"
tracked=$(guest 'cat /sys/class/misc/livemig-cbt/tracked_disks' </dev/null)
[ "$tracked" = 2 ] || die "the module tracks $tracked disks, not 2"
disks_bytes=$(jq '[.disks[].size] | add' <<<"$st")
took
pass "CHANGE_COPY: sda and sdb ($((disks_bytes >> 20)) MiB) replicated to staging with tracker kmod (the module tracks 2 disks); the workload ran through the mirror"

# ---- 3. an upgrade while replicating ----------------------------------------
step "3 upgrade"
# bytes written to the source's disks so far: /sys/block/*/stat field 7, in
# 512-byte sectors (the LVM volume's writes are sdb's)
written() { guest "awk '{ s += \$7 } END { print s * 512 }' /sys/block/sda/stat /sys/block/sdb/stat" </dev/null; }
OLD=$(guest "dpkg-query -W -f='\${Version}' livemig-agent" </dev/null)
NEXT=$(dpkg-deb -f "$(ls "$DEBS_NEXT"/livemig-agent_*.deb)" Version)
[ "$NEXT" != "$OLD" ] || die "the next packages have the installed version $OLD"
cp "$DEBS_NEXT"/livemig-agent_*.deb "$DEBS_NEXT"/livemig-cbt-dkms_*.deb "$T/repo/"
(cd "$T/repo" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
pid0=$(guest 'systemctl show -p MainPID --value livemigd' </dev/null)
w0=$(written)
s=$SECONDS
VM_SSH_TIMEOUT=$INSTALL_TIMEOUT guest 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y livemig-agent livemig-cbt-dkms' \
	</dev/null 2>&1 | stamp "$s" >"$T/upgrade.log"
[ "${PIPESTATUS[0]}" = 0 ] || { sed 's/^/   | /' "$T/upgrade.log"; die "apt-get install of $NEXT (or its bound, $INSTALL_TIMEOUT s)"; }
t_upgraded=$SECONDS
echo "   apt-get install of $NEXT: $((SECONDS - s)) s; its slow lines:"
slow_lines "$T/upgrade.log"
vers=$(guest "dpkg-query -W -f='\${Version}\n' livemig-agent livemig-cbt-dkms" </dev/null)
[ "$(sort -u <<<"$vers")" = "$NEXT" ] || die "installed after the upgrade: $vers"
out=$(guest 'dkms status livemig-cbt' </dev/null)
grep -q "livemig-cbt/$NEXT, $kver, .*: installed" <<<"$out" || die "DKMS did not build $NEXT for $kver: $out"
! grep -qF "livemig-cbt/$OLD," <<<"$out" || die "DKMS still holds $OLD: $out"
pid1=$(guest 'systemctl show -p MainPID --value livemigd' </dev/null)
[ "$(guest 'systemctl is-active livemigd' </dev/null)" = active ] && [ "$pid1" != 0 ] && [ "$pid1" != "$pid0" ] ||
	die "the upgrade did not restart livemigd (MainPID $pid0 -> $pid1)"
wait_agent '.state == "CHANGE_COPY"' "$MIRROR_TIMEOUT" "CHANGE_COPY after the upgrade"
for _ in $(seq 120); do # bounded for a hang only: the line follows staging's answer
	j=$(guest "journalctl -u livemigd _PID=$pid1 --no-pager -o cat" </dev/null)
	grep -q 'resuming from checkpoint' <<<"$j" && break
	sleep 5
done
grep -q 'resuming from checkpoint' <<<"$j" || die "the upgraded livemigd did not resume from its checkpoint: $(tail -n 20 <<<"$j")"
! grep -q 'rescanning' <<<"$j" || die "the upgrade made livemigd rescan: $(grep rescanning <<<"$j")"
# the issue's measure: what the new livemigd sent by 2 minutes after the
# upgrade, against 5% of the disks plus what was written meanwhile (both
# counted from before apt-get ran, so the bound is never the smaller side)
sleep $((120 - (SECONDS - t_upgraded) > 0 ? 120 - (SECONDS - t_upgraded) : 0))
sent=$(status_json | jq .sent_bytes)
w1=$(written)
bound=$((disks_bytes / 20 + w1 - w0))
[ "$sent" -le "$bound" ] 2>/dev/null ||
	die "after the upgrade livemigd sent $sent bytes, more than 5% of the disks plus the $((w1 - w0)) bytes written ($bound)"
took
pass "upgraded $OLD -> $NEXT while replicating: livemigd restarted by the package (pid $pid0 -> $pid1) and resumed from its checkpoint, no rescan; DKMS built $NEXT for $kver (the loaded module stays until the next boot)"
pass "bytes sent by the upgraded livemigd within 2 minutes of the upgrade: $sent ($(awk -v a="$sent" -v b="$disks_bytes" 'BEGIN { printf "%.2f", 100 * a / b }')% of the disks), bound $bound (5% of the disks + $((w1 - w0)) bytes written meanwhile)"

# ---- 4. a reboot of the source ----------------------------------------------
step "4 reboot"
read -r n_tx0 n_rec0 <<<"$(workload_counts)"
boot0=$(guest 'cat /proc/sys/kernel/random/boot_id' </dev/null)
t_reboot=$(guest 'date +%s' </dev/null)
guest 'systemctl reboot' </dev/null >/dev/null 2>&1 || true # the connection may end first
# the master's connection ends with the old boot; until the new one answers
# every try connects by itself
vm_mux_stop
# the same QEMU boots the guest again (no -no-reboot); ssh may answer from
# the old boot for a moment, so the new boot is told by its boot id
end=$((SECONDS + BOOT_TIMEOUT))
while :; do
	kill -0 "$VM_PID" 2>/dev/null || die "QEMU exited on the reboot: $(tail -n 5 "$SERIAL.qemu")"
	b=$(VM_SSH_TIMEOUT=180 vm_ssh cat /proc/sys/kernel/random/boot_id </dev/null 2>/dev/null) || b=
	[ -n "$b" ] && [ "$b" != "$boot0" ] && break
	[ "$SECONDS" -le "$end" ] || die "the source did not come back within $BOOT_TIMEOUT s"
	sleep 5
done
t_boot=$((SECONDS - step_t0))
vm_wait_ssh 600 || die "the source's sshd stopped answering after the reboot"
# the shutdown's length: the old boot's last journal entry (persistent)
t_down=$(guest 'journalctl -b -1 -n 1 -o short-unix --no-pager | sed -n "\$s/\..*//p"' </dev/null 2>/dev/null)
[ -z "$t_down" ] || echo "   the shutdown: $((t_down - t_reboot)) s (the old boot's last journal entry)"
echo "   the boot: $(guest 'systemd-analyze time | sed -n 1p; systemd-analyze blame | sed -n 1,6p | paste -sd";"' </dev/null 2>&1 | paste -sd' ')"
start_workload || die "starting the workload again"
# nobody starts livemigd: the enabled unit does, and loads the module
for _ in $(seq 120); do # bounded for a hang only
	[ "$(guest 'systemctl is-active livemigd' </dev/null)" = active ] && break
	sleep 5
done
[ "$(guest 'systemctl is-active livemigd' </dev/null)" = active ] || die "livemigd did not come back after the reboot"
# tracking continuity ended with the boot: both disks are rescanned (hashes
# compared with staging, only what differs sent), then change copy
for _ in $(seq 720); do # bounded for a hang only: 1 hour
	j=$(guest 'journalctl -b -u livemigd --no-pager -o cat' </dev/null)
	[ "$(grep -c ': rescan complete' <<<"$j")" -ge 2 ] && break
	sleep 5
done
[ "$(grep -c ': rescan complete' <<<"$j")" -ge 2 ] || die "no rescan of both disks after the reboot: $(tail -n 20 <<<"$j")"
why=$(grep -m1 'rescanning' <<<"$j" || true)
st=$(status_json)
jq -e '.tracker == "kmod"' <<<"$st" >/dev/null || die "tracker after the reboot: $(jq -c '{tracker, tracker_reason}' <<<"$st")"
sent=$(jq .sent_bytes <<<"$st")
mod=$(guest 'dkms status livemig-cbt; grep "^livemig_cbt " /proc/modules' </dev/null)
grep -q '^livemig_cbt ' <<<"$mod" || die "livemig_cbt is not loaded after the reboot: $mod"
wait_agent '.state == "CHANGE_COPY"' "$MIRROR_TIMEOUT" "CHANGE_COPY after the rescan"
wait_workload_beyond "$n_tx0" "$n_rec0"
took
pass "rebooted (up again in $t_boot s): livemigd started by its unit with the module ($NEXT) loaded, tracker kmod; tracking continuity lost (${why:-no reason logged}), so both disks were rescanned: $sent bytes sent by the rescan's end ($(awk -v a="$sent" -v b="$disks_bytes" 'BEGIN { printf "%.2f", 100 * a / b }')% of the disks); the workload runs again ($n_tx transactions, $n_rec records)"

# ---- 5. a test launch from a periodic point, the workload running --------
step "5 test launch"
pts_json() { "$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json; }
POINT=
for _ in $(seq 360); do # bounded for a hang only: 30 min
	POINT=$(pts_json | jq '[.points[] | select(.origin == "periodic")] | last | .id // empty')
	[ -n "$POINT" ] && break
	sleep 5
done
[ -n "$POINT" ] || die "no periodic point on staging: $(pts_json | jq -c '[.points[] | {id, origin}]')"
# not jq for time_ns: it reads numbers as doubles
TNS=$(pts_json | python3 -c 'import json, sys
print(next(p["time_ns"] for p in json.load(sys.stdin)["points"] if p["id"] == int(sys.argv[1])))' "$POINT")
pdisks=$(pts_json | jq -c --argjson p "$POINT" '.points[] | select(.id == $p) | [.disks[].name]')
[ "$pdisks" = '["sda","sdb"]' ] || die "point $POINT holds disks $pdisks"
wait_console_point "$POINT"
[ "$(lc_get | jq -r .state)" = READY_FOR_TEST ] || die "not READY_FOR_TEST: $(lc_get)"
rounds0=$(status_json | jq .rounds)
j=$(lc_do test "\"point\": $POINT")
N=$M-test-$j
LAUNCH_SERIAL=$LDIR/$N/$N.serial.log
# replication goes on all along: the agent's state sampled while staging converts and boots
not_copying=()
end=$((SECONDS + JOB_TIMEOUT))
while :; do
	view=$(lc_get)
	jq -e '.state != "TESTING" or .instance.state == "up"' <<<"$view" >/dev/null && break
	[ "$SECONDS" -le "$end" ] || die "the test instance is not up within $JOB_TIMEOUT s: $(jq -c '{state, instance}' <<<"$view")"
	st=$(status_json) || st='{}'
	jq -e '.state == "CHANGE_COPY" and .paused == false' <<<"$st" >/dev/null ||
		not_copying+=("$(jq -c '{state, paused, reason}' <<<"$st" 2>/dev/null || echo "$st")")
	sleep 10
done
show_log "$j"
[ "$(lc_get | jq -r '.state + " " + .instance.state')" = "TESTING up" ] ||
	die "the test launch failed: $(job_view "$j" | jq -r .error)"
rep=$(report_of "$LAUNCH_SERIAL" "$BOOT_TIMEOUT") || die "no E2E-REPORT line from $N within $BOOT_TIMEOUT s"
echo "   $N: $rep"
[ ${#not_copying[@]} -eq 0 ] || die "replication paused during the test launch: ${not_copying[*]}"
rounds1=$(status_json | jq .rounds)
[ "$rounds1" -gt "$rounds0" ] || die "no change-copy round during the test launch ($rounds0 -> $rounds1)"
# What committed before the point's freeze, two ways.
# 1. The freeze hook's count (freeze_witness.sh), read by PostgreSQL itself
#    just before livemigd took the point's time: exact, one clock.
# 2. pgbench's log: a line per transaction, its end as epoch seconds + us in
#    fields 5 and 6 (a transaction that failed has a word instead of its
#    latency in field 3 and committed nothing). pgbench stamps it with
#    CLOCK_MONOTONIC plus an offset to the epoch it takes once, at its start,
#    from two clock reads; livemigd stamps the point with CLOCK_REALTIME. In
#    a busy TCG guest the two reads can be a preemption apart (realtime -
#    monotonic measured by a script the same way moved by 14.7 ms in one
#    boot, 2026-12-07), and once pgbench logged a transaction as ending
#    before a point that did not hold it. So its log is held to the point
#    only up to PGBENCH_CLOCK_SLACK_US before the point's time: every
#    transaction it saw end earlier than that must be there.
PGBENCH_CLOCK_SLACK_US=${PGBENCH_CLOCK_SLACK_US:-1000000}
witness=
while read -r _ c a; do
	c=${c#count=} a=${a#at=}
	[[ "$c" =~ ^[0-9]+$ && "$a" =~ ^[0-9]+$ ]] && [ "$a" -lt "$TNS" ] && witness=$c
done < <(guest 'journalctl -u livemigd --no-pager -o cat | grep "^E2E-WITNESS "' </dev/null)
[ -n "$witness" ] || die "no E2E-WITNESS line of the freeze hook before point $POINT's time in livemigd's journal"
read -r committed logged_before < <(guest 'cat /var/lib/e2e/pgbench.[0-9]*' </dev/null | awk -v t="$TNS" -v slack="$PGBENCH_CLOCK_SLACK_US" '
	$3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (e < t / 1000 - slack) n++; if (e < t / 1000) m++ }
	END { print n + 0, m + 0 }')
acked=$(guest "e2e-records acked /var/lib/e2e/acks.log $TNS" </dev/null)
[ "$(field "$rep" host)" = e2e-src-test ] || die "the test instance's hostname: $rep"
[ "$(field "$rep" amcheck)" = ok ] || die "pg_amcheck in the test instance: $rep"
count=$(field "$rep" count)
echo "   committed before point $POINT: $witness seen by the freeze hook; pgbench logged $logged_before as ended before its time, $committed more than $((PGBENCH_CLOCK_SLACK_US / 1000)) ms before it; the point holds $count"
if ! [ "$count" -ge "$witness" ] 2>/dev/null || ! [ "$count" -ge "$committed" ]; then
	echo "   the transactions that ended within 3 s of the point's time $TNS (ms from it):"
	guest 'cat /var/lib/e2e/pgbench.[0-9]*' </dev/null | awk -v t="$TNS" '
		{ d = ($5 * 1000000 + $6) - t / 1000; if (d > -3000000 && d < 3000000) printf "   | %+.3f ms: %s\n", d / 1000, $0 }'
	echo "   the freeze hook's lines and the agent's points:"
	guest 'journalctl -u livemigd --no-pager -o short-precise | grep -E "E2E-WITNESS|recovery point"' </dev/null 2>&1 | tail -n 16 | sed 's/^/   | /'
	die "pgbench history holds $count rows; committed before the freeze: $witness by the freeze hook, $committed by pgbench's log: $rep"
fi
recs=$(field "$rep" records)
[ "$recs" -ge "$acked" ] 2>/dev/null || die "the record file's prefix is $recs, $acked records were acknowledged before the freeze: $rep"
[ "$(field "$rep" livemigd)" != active ] || die "livemigd is active in the test instance: $rep"
[[ "$(field "$rep" addr)" == 10.0.2.*/dynamic ]] || die "the test instance's address is not from DHCP: $rep"
[ "$(field "$rep" mac)" != "$VM_MAC" ] || die "the test instance kept the source's MAC: $rep"
# while a test instance lives, its point stays and nothing may replace it
pins() { "$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins; }
[ "$(pins)" = "[\"$N\"]" ] || die "the launched point is not pinned by $N: $(pins)"
conflict cutover
conflict finalize
took
pass "TESTING: point $POINT (periodic, sda+sdb) launched as $N: PostgreSQL up, pg_amcheck clean, $count history rows >= $witness committed before the freeze (the freeze hook's count), records: a gap-free prefix of $recs >= $acked acknowledged; livemigd $(field "$rep" livemigd), $(field "$rep" mac) at $(field "$rep" addr); replication went on ($rounds0 -> $rounds1 rounds, never paused); the point pinned by $N, cutover and finalize refused (409)"

step "5 mark ready"
lc_do mark-ready >/dev/null
wait_lc '.state == "READY_FOR_CUTOVER" and .instance == null' 600 "READY_FOR_CUTOVER without an instance"
virsh -c "$LIBVIRT_URI" list --all --name | has_line -x "$N" && die "the domain $N is still defined"
[ ! -e "$LDIR/$N" ] || die "$LDIR/$N (the test instance's disks) is still there"
[ "$(pins)" = "[]" ] || die "the point is still pinned: $(pins)"
LAUNCH_SERIAL=
took
pass "READY_FOR_CUTOVER: the test instance $N deleted: its domain, its disks and its pin"

# ---- 6. cutover -----------------------------------------------------------
step "6 cutover"
MARK=e2e-marker-$$-$RANDOM
t_stop=$(date +%s%N)
guest 'kill -INT "$(cat /run/e2e/pgbench.pid)" "$(cat /run/e2e/records.pid)"
	for _ in $(seq 600); do
		kill -0 "$(cat /run/e2e/pgbench.pid)" 2>/dev/null || kill -0 "$(cat /run/e2e/records.pid)" 2>/dev/null || exit 0
		sleep 0.1
	done
	exit 1' </dev/null || die "the workload did not stop"
noted=$(guest 'e2e-report --stdout' </dev/null) || die "e2e-report on the source"
guest "echo $MARK >/root/e2e-marker && sync" </dev/null || die "writing the marker"
echo "   noted on the source: $noted"
n_count=$(field "$noted" count)
n_sum=$(field "$noted" sum)
n_recs=$(field "$noted" records)
[ "$n_count" -gt 0 ] 2>/dev/null || die "no pgbench history on the source: $noted"
[ "$(field "$noted" amcheck)" = ok ] || die "pg_amcheck on the source: $noted"
lc_do cutover >/dev/null
# the downtime ends when the launched machine's PostgreSQL answers: its
# report line, watched as it appears
rep=
end=$((SECONDS + JOB_TIMEOUT))
while [ "$SECONDS" -le "$end" ]; do
	view=$(lc_get)
	jq -e '.state != "CUTTING_OVER" and .state != "CUTOVER"' <<<"$view" >/dev/null &&
		die "the cutover failed: $(jq -c '{state, jobs: [.jobs[:3][] | {id, kind, state, error}]}' <<<"$view")"
	name=$(jq -r '.instance.name // empty' <<<"$view")
	if [ -n "$name" ]; then
		LAUNCH_SERIAL=$LDIR/$name/$name.serial.log
		rep=$(grep -a -o 'E2E-REPORT .*' "$LAUNCH_SERIAL" 2>/dev/null | tr -d '\r' | sed -n '$p')
		[ -n "$rep" ] && break
	fi
	sleep 1
done
t_up=$(date +%s%N)
[ -n "$rep" ] || die "no E2E-REPORT from the cutover instance within $JOB_TIMEOUT s"
DOWNTIME=$(((t_up - t_stop) / 1000000000))
wait_lc '.state == "CUTOVER" and .instance.state == "up"' "$BOOT_TIMEOUT" "CUTOVER with its instance up"
echo "   $name: $rep"
co=$(status_json | jq -c .cutover)
jq -e '.state == "done"' <<<"$co" >/dev/null || die "the agent's cutover: $co"
[ "$(field "$rep" host)" = e2e-src ] || die "the cutover instance's hostname: $rep"
[ "$(field "$rep" amcheck)" = ok ] || die "pg_amcheck in the cutover instance: $rep"
[ "$(field "$rep" count)" = "$n_count" ] || die "pgbench history: $(field "$rep" count) rows, $n_count committed on the source"
[ "$(field "$rep" sum)" = "$n_sum" ] || die "pgbench tables' checksum: $(field "$rep" sum), the source's $n_sum"
[ "$(field "$rep" records)" = "$n_recs" ] || die "records: $(field "$rep" records), the source's $n_recs"
[ "$(field "$rep" marker)" = "$MARK" ] || die "the marker: $(field "$rep" marker), written $MARK"
[ "$(field "$rep" livemigd)" != active ] || die "livemigd is active in the cutover instance: $rep"
[[ "$(field "$rep" addr)" == 10.0.2.*/dynamic ]] || die "the cutover instance's address is not from DHCP: $rep"
[ "$(field "$rep" mac)" != "$VM_MAC" ] || die "the cutover instance kept the source's MAC: $rep"
TIMES+=("cutover downtime (workload stopped -> PostgreSQL answering on the launched machine): $DOWNTIME s")
took
pass "CUTOVER: $name (virtio, MAC $(field "$rep" mac), $(field "$rep" addr)) holds exactly $n_count history rows, checksum $n_sum, $n_recs records and the marker; livemigd $(field "$rep" livemigd) in it; the agent's cutover: $co"
pass "cutover downtime: $DOWNTIME s, from stopping the workload to PostgreSQL answering on the launched machine"

# ---- 7. finalize ------------------------------------------------------------
step "7 finalize"
[ "$(in_use)" = 1 ] || die "licenses in use before finalize: $(in_use)"
lc_do finalize >/dev/null
wait_lc '.state == "FINALIZED"' 300 "FINALIZED"
[ "$(in_use)" = 0 ] || die "licenses in use after finalize: $(in_use)"
# until the unit has settled: "deactivating" is the agent still removing
# what install wrote (seconds under TCG), "activating" a restart after a
# failure; either is read again
for _ in $(seq 120); do # bounded for a hang only: heartbeats every 2 s
	case $(guest 'systemctl is-active livemigd' </dev/null) in
	active | deactivating | activating | reloading) sleep 2 ;;
	*) break ;;
	esac
done
fin=$(guest 'systemctl show livemigd -p ActiveState,ExecMainStatus; test -e /etc/livemig/livemigd.conf && echo conf-left; journalctl -u livemigd --no-pager | grep -c "the migration was finalized in the console"' </dev/null)
has_line -x ActiveState=inactive <<<"$fin" || die "livemigd is not inactive after the finalize: $fin"
has_line -x ExecMainStatus=0 <<<"$fin" || die "livemigd did not exit 0 after the finalize: $fin"
has_line -x conf-left <<<"$fin" && die "livemigd.conf is still there after the finalize: $fin"
[ "$(sed -n '$p' <<<"$fin")" -ge 1 ] || die "livemigd did not log the finalize: $fin"
# the packages stay (docs/agent-console.md); the operator removes them
guest 'DEBIAN_FRONTEND=noninteractive apt-get purge -y livemig-agent livemig-cbt-dkms' </dev/null >"$T/purge.log" 2>&1 ||
	{ sed 's/^/   | /' "$T/purge.log"; die "apt-get purge"; }
# purged packages leave no line in dpkg's database: dpkg -l says so
dpkg_l=$(guest 'dpkg -l livemig-agent livemig-cbt-dkms 2>&1 | sed -n "/^[a-z][a-z] \|no packages found/p"' </dev/null)
sed 's/^/   | /' <<<"$dpkg_l"
! grep -q '^ii' <<<"$dpkg_l" || die "packages still installed: $dpkg_l"
took
pass "FINALIZED: licenses in use 1 -> 0; the source's livemigd exited 0 and removed its configuration; apt-get purge removed the packages (dpkg -l: $(paste -sd';' <<<"$dpkg_l"))"
