#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Module reloads under the agent, and the agent's use of the module around
# them (guest side; run by tests/kmod/run.sh guest_reload_agent.sh). On /dev/vdb with a
# partition table and a mounted ext4 under fio and file churn:
#  1. without the module: tracker = auto goes on with scan and says why
#     (status and log); tracker = kmod refuses to start, saying why;
#     `livemig check` reports the module as not loadable
#  2. with the module: tracker = kmod mirrors and change-copies
#  3. kill -9 of the agent: the restarted agent finds the tracking under the
#     same epoch and resumes without a rescan
#  4. the module is unloaded and loaded again mid-replication while writes go
#     on: the epoch changes, the agent rescans, and the replica ends identical
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"

checkpoint_epoch() {
	jq -r '.disks[0].epoch' "$T/$1.state/checkpoint.json"
}

start_staging
make_fs
fio --name=pre --filename="$FS/pre.dat" --size=8M --rw=write --bs=1M --refill_buffers \
	--output=/dev/null >/dev/null 2>&1 || die "fio pre-fill"

echo "== 1. no module"
[ -e /dev/livemig-cbt ] && die "the module is loaded already"
write_agent_config nomod "$DISK" -- "tracker = auto"
start_agent nomod
[ "$(st .tracker)" = scan ] || die "tracker = auto without the module runs $(st .tracker)"
reason=$(st .tracker_reason)
case $reason in
"tracker = auto: using scan because module livemig_cbt is not built for this kernel"*) ;;
*) die "status tracker_reason: '$reason'" ;;
esac
grep -q "using scan because module livemig_cbt is not built" "$AGENT_LOG" || die "the log does not say why"
stop_agent_checked
pass "tracker = auto without the module: scan ($reason)"
write_agent_config nomodk "$DISK" -- "tracker = kmod"
rc=0
"$BUILD/livemigd" -c "$T/nomodk.conf" >"$T/nomodk.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "livemigd with tracker = kmod and no module exited $rc"
grep -q "tracker = kmod cannot be used: module livemig_cbt is not built" "$T/nomodk.log" ||
	die "livemigd did not say why: $(cat "$T/nomodk.log")"
pass "tracker = kmod without the module: refused ($(grep -o 'tracker = kmod cannot.*' "$T/nomodk.log" | cut -c1-100)...)"
rc=0
"$BUILD/livemig" check --tracker kmod >"$T/check.out" 2>&1 || rc=$?
grep -E '^FAIL  kmod-loadable .*not built for' "$T/check.out" >/dev/null ||
	die "livemig check --tracker kmod: $(cat "$T/check.out")"
[ "$rc" = 1 ] || die "livemig check --tracker kmod exited $rc with the module missing"
grep -E '^PASS  secure-boot ' "$T/check.out" >/dev/null || die "secure-boot: $(grep secure-boot "$T/check.out")"
pass "livemig check --tracker kmod: kmod-loadable fails, secure-boot passes (no EFI)"

echo "== 2. with the module"
insmod "$KO" || die "insmod $KO"
"$BUILD/livemig" check --tracker kmod >"$T/check.out" 2>&1
grep -E '^PASS  kmod-loadable .*is loaded' "$T/check.out" >/dev/null ||
	die "livemig check with the module: $(grep kmod-loadable "$T/check.out")"
pass "livemig check: kmod-loadable passes once the module is loaded"
write_agent_config rl "$DISK" -- "tracker = kmod" "scan_interval = 50ms"
start_agent rl
[ "$(st .tracker)" = kmod ] || die "not kmod: $(st .tracker_reason)"
start_writers 7
wait_st '.state == "CHANGE_COPY"' 300
e1=$(checkpoint_epoch rl)
wait_generations "$(generations)" 10 300
pass "mirrored with tracker = kmod, epoch $e1"

echo "== 3. kill -9 and restart: same epoch, no rescan"
kill_agent
sleep 1
start_agent rl
wait_st '.state == "CHANGE_COPY" and .rounds >= 1' 300
wait_for_log "$AGENT_LOG" "resuming from checkpoint" 30 || die "did not resume from the checkpoint"
grep -q "kmod tracking continues" "$AGENT_LOG" || die "did not find the kernel's tracking"
grep -qE "rescan" "$AGENT_LOG" && die "rescanned after kill -9 although the tracking went on"
[ "$(checkpoint_epoch rl)" = "$e1" ] || die "epoch changed over a restart"
wait_generations "$(generations)" 5 300
pass "restarted after kill -9: resumed under epoch $e1 without a rescan"

echo "== 4. reload the module mid-replication"
# rmmod fails while an ioctl holds the device; the agent never keeps it open
for i in $(seq 100); do rmmod livemig_cbt 2>/dev/null && break; sleep 0.05; done
[ -e /sys/module/livemig_cbt ] && die "could not unload the module"
sleep 2 # writes land while nothing tracks them
insmod "$KO" || die "insmod again"
wait_for_log "$AGENT_LOG" "change tracking was interrupted" 60 || { agent_dump; die "the agent did not notice"; }
wait_for_log "$AGENT_LOG" "rescan complete" 300 || { agent_dump; die "no rescan after the reload"; }
e2=$(checkpoint_epoch rl)
[ "$e2" != "$e1" ] || die "the epoch did not change over a reload"
grep -E "change tracking was interrupted|tracking restarted|rescan" "$AGENT_LOG" | sed 's/^/   /' | cut -c1-160
wait_generations "$(generations)" 10 300
pass "unloaded for 2 s, loaded again: epoch $e1 -> $e2, rescanned"

echo "== 4b. reloaded while the agent waits: the module no longer knows the disk"
n0=$(grep -c "rescan complete" "$AGENT_LOG")
# paused, the agent waits for a free slot in mid-round (the writers go on, so
# every round has extents) and makes no call until resumed: the reload is
# over before it looks again, and it finds a module without its tracking
lm pause >/dev/null || die "livemig pause"
sleep 1
for i in $(seq 100); do rmmod livemig_cbt 2>/dev/null && break; sleep 0.05; done
[ -e /sys/module/livemig_cbt ] && die "could not unload the module"
insmod "$KO" || die "insmod again"
lm resume >/dev/null || die "livemig resume"
wait_for_log "$AGENT_LOG" "the module no longer tracks the disk" 120 ||
	{ agent_dump; die "the agent did not see its tracking gone"; }
for _ in $(seq 600); do
	[ "$(grep -c "rescan complete" "$AGENT_LOG")" -gt "$n0" ] && break
	sleep 0.2
done
[ "$(grep -c "rescan complete" "$AGENT_LOG")" -gt "$n0" ] || { agent_dump; die "no rescan after the quick reload"; }
e3=$(checkpoint_epoch rl)
[ "$e3" != "$e2" ] || die "the epoch did not change over the quick reload"
grep -E "change tracking was interrupted|ACK failed" "$AGENT_LOG" | tail -2 | sed 's/^/   /' | cut -c1-160
wait_generations "$(generations)" 10 300
stop_writers
frozen_compare rl "module reloaded twice mid-replication: epochs $e1 -> $e2 -> $e3, rescans, replica identical" ||
	die "replica differs after the reloads"
stop_agent_checked
umount "$FS"
