#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# The console's launch and destroy jobs on a real staging server, with the
# real console handing them over and the real livemig-launch (docs/launch.md,
# "Launching from staging"): what needs no bootable guest. A staging server
# without a launcher, or with a launcher path that does not exist, fails the
# job in one line with the remedy; a point that does not exist fails it; a
# destroy of an instance that does not exist succeeds, and a destroy removes
# the instance's directory and its pin. A launch pins its point while it
# runs; staging stopped in the middle (SIGTERM) fails it "staging stopped"
# and ends the launcher; staging killed (SIGKILL) takes the launcher with
# it; each restart runs the job again from the beginning, destroying what
# the earlier run left, and the conversion's real failure on a disk with no
# operating system ends the job with its one-line reason, the pin removed
# and nothing left in the launch directory. --launch-ceph-secret that is
# not a UUID, or without the RBD store, is a usage error.
# A launch that boots is tests/launch/t_staging_launch.sh (make check-launch).
# The console has no command that queues these kinds yet: the jobs are
# inserted into its database as job_create (src/console/jobs.c) does.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/points_lib.sh"
need_root
db_is_pg || command -v sqlite3 >/dev/null || die "sqlite3 is missing (ci/deps.sh test installs it)"
for tool in jq qemu-img; do
	command -v "$tool" >/dev/null || die "$tool is missing (ci/deps.sh test installs it)"
done
[ -x "$BUILD/livemig-launch" ] ||
	die "$BUILD/livemig-launch is not built: it needs libguestfs-dev and libvirt-dev (ci/deps.sh test installs them)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}

LOGIN=alice@acme:operator-password
A=$T/agents
STAGING_STORE=$T/store
LDIR=$STAGING_STORE/.launches
NO_LAUNCHER="this staging server has no launcher (--launch-driver): docs/launch.md"

setup_pki
start_console
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
out=$(api register --dir "$A" --machine m1 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m1: $out"
M=$(cat "$A/m1.id")
MACHINE=$M

staging_up() {
	start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
		--console-credential "$T/st1.secret" --console-interval 1s "$@"
}
# queue KIND PARAMS: a queued job of machine M, as job_create makes it; prints its id
queue() {
	db_query "INSERT INTO staging_jobs (machine_ref, kind, params, owner, state, created_at)
		SELECT id, '$1', '$2', 'alice@acme', 'queued', $(date +%s)
		FROM machines WHERE machine_id = '$M' RETURNING id"
}
job_view() { api_body "$(api call GET "/api/v1/machines/$M/jobs/$1" --basic "$LOGIN")"; }
# ended ID [BOUND_S]: wait for the job's end (default bound 600 s), print its view
ended() {
	local view end=$((SECONDS + ${2:-600}))
	while [ "$SECONDS" -le "$end" ]; do
		view=$(job_view "$1")
		case $(jq -r .state <<<"$view") in succeeded | failed) echo "$view"; return 0 ;; esac
		sleep 0.2
	done
	die "job $1 did not end: $view"
}
# console_has ID REGEX: wait until the console holds a log line of the job matching REGEX
console_has() {
	local i
	for ((i = 0; i < 600; i++)); do
		job_view "$1" | jq -r '.log[].line' | has_line -E "$2" && return 0
		sleep 0.2
	done
	die "the console has no log line of job $1 matching $2: $(job_view "$1")"
}
pins_of() { pts show "$M" "$1" --json | jq -c .pins; }
# gone PID: the process ends within the bound
gone() {
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# a machine with one recovery point of two disks (16 and 8 MiB, no operating
# system); their names sort the other way round than the machine orders them
staging_up
cat >"$T/steps" <<S
data 1 0 4M 1
data 2 1M 2M 2
mark $(date +%s%N)
S
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$A/m1.pem" --key "$A/m1.key" \
	--machine "$M" --disk 1:sys:16M --disk 2:data:8M script --steps "$T/steps" >"$T/frames.out" 2>&1 ||
	die "frames: $(cat "$T/frames.out")"
POINT=$(pts list "$M" --json | jq '.points[0].id')
[ "$POINT" -ge 1 ] 2>/dev/null || die "no recovery point: $(pts list "$M" --json)"
[ "$(pts show "$M" "$POINT" --json | jq -c '[.disks[].name]')" = '["sys","data"]' ] ||
	die "the point's disks: $(pts show "$M" "$POINT" --json | jq -c .disks)"
for _ in $(seq 300); do
	stored=$(api_body "$(api call GET "/api/v1/machines/$M/points" --basic "$LOGIN")" | jq -c '[.stored_on[].staging]')
	[ "$stored" = '["st1"]' ] && break
	sleep 0.2
done
[ "$stored" = '["st1"]' ] || die "the console does not know that st1 stores $M: $stored"
pass "machine $M has point $POINT on st1, and the console knows it"

# --- no launcher configured ---
j=$(queue launch "{\"name\": \"$M-test-1\", \"purpose\": \"test\", \"point\": $POINT, \"hostname_suffix\": \"-test\"}")
view=$(ended "$j")
[ "$(jq -r '.state + ": " + .error' <<<"$view")" = "failed: $NO_LAUNCHER" ] || die "no launcher: $view"
[ "$(pins_of "$POINT")" = "[]" ] || die "a launch without a launcher pinned the point: $(pins_of "$POINT")"
pass "no --launch-driver: a launch fails: $NO_LAUNCHER"
# the destroy that follows a refused launch: nothing was launched, nothing to do
j=$(queue destroy "{\"name\": \"$M-test-1\", \"point\": $POINT}")
view=$(ended "$j")
jq -e --arg n "$M-test-1" '.state == "succeeded" and .result == {"name": $n, "destroyed": true}' <<<"$view" >/dev/null ||
	die "no launcher, destroy of what was never launched: $view"
# one that was (a launch directory of that name): the destroy cannot run
mkdir -p "$LDIR/$M-test-0"
j=$(queue destroy "{\"name\": \"$M-test-0\", \"point\": $POINT}")
view=$(ended "$j")
[ "$(jq -r '.state + ": " + .error' <<<"$view")" = "failed: $NO_LAUNCHER" ] || die "no launcher, destroy: $view"
rmdir "$LDIR/$M-test-0"
pass "no --launch-driver: a destroy of what was never launched here succeeds; of what was, fails: $NO_LAUNCHER"

# --- a launcher that is not there ---
stop_staging
"$BUILD/livemig-staging" --listen 127.0.0.1:1 --store "$T/x" --ca "$AGENT_CA" --cert "$SERVER_CERT" \
	--key "$SERVER_KEY" --launch-driver cloud >/dev/null 2>"$T/usage.err" && die "--launch-driver cloud accepted"
grep -q "launch-driver 'cloud' is not one of libvirt, export" "$T/usage.err" || die "usage: $(cat "$T/usage.err")"
# the RBD store's secret: a UUID, and only with that store and libvirt
"$BUILD/livemig-staging" --listen 127.0.0.1:1 --store "$T/x" --ca "$AGENT_CA" --cert "$SERVER_CERT" \
	--key "$SERVER_KEY" --launch-driver libvirt --launch-ceph-secret nope >/dev/null 2>"$T/usage.err" &&
	die "--launch-ceph-secret nope accepted"
grep -q "launch-ceph-secret 'nope' is not a UUID" "$T/usage.err" || die "usage: $(cat "$T/usage.err")"
"$BUILD/livemig-staging" --listen 127.0.0.1:1 --store "$T/x" --ca "$AGENT_CA" --cert "$SERVER_CERT" \
	--key "$SERVER_KEY" --launch-driver libvirt --launch-ceph-secret 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 \
	>/dev/null 2>"$T/usage.err" && die "--launch-ceph-secret accepted on the files store"
grep -q "launch-ceph-secret goes with --launch-driver libvirt and --image-store rbd:POOL" "$T/usage.err" ||
	die "usage: $(cat "$T/usage.err")"
staging_up --launch-driver export --launcher "$T/nowhere/livemig-launch"
grep -q "launches: the launcher $T/nowhere/livemig-launch cannot be run" "$STAGING_LOG" ||
	die "staging did not warn about the missing launcher at its start"
j=$(queue launch "{\"name\": \"$M-test-2\", \"purpose\": \"test\", \"point\": $POINT}")
view=$(ended "$j")
jq -e --arg p "$T/nowhere/livemig-launch" '.state == "failed" and (.error | startswith("the launcher " + $p +
	" cannot be run: no such file (install livemig-launch on this staging server, or pass --launcher PATH)"))' \
	<<<"$view" >/dev/null || die "missing launcher: $view"
[ "$(pins_of "$POINT")" = "[]" ] || die "a launch without its launcher pinned the point"
pass "a launcher path that does not exist: $(jq -r .error <<<"$view")"

# --- the real launcher (next to livemig-staging: the default) ---
stop_staging
staging_up --launch-driver export
grep -q "launches: driver export, launcher $BUILD/livemig-launch, instances in $LDIR" "$STAGING_LOG" ||
	die "staging did not find livemig-launch next to itself: $(grep launches "$STAGING_LOG")"
j=$(queue launch "{\"name\": \"$M-test-3\", \"purpose\": \"test\", \"point\": 99}")
view=$(ended "$j")
[ "$(jq -r '.state + ": " + .error' <<<"$view")" = "failed: machine $M has no recovery point 99 on this staging server" ] ||
	die "unknown point: $view"
j=$(queue launch "{\"name\": \"$M-test-3\", \"purpose\": \"sideways\", \"point\": $POINT}")
view=$(ended "$j")
[ "$(jq -r .error <<<"$view")" = "params.purpose must be test or cutover" ] || die "bad purpose: $view"
pass "a point that does not exist, a purpose that does not: failed in one line, nothing pinned"

j=$(queue destroy "{\"name\": \"$M-test-404\", \"point\": $POINT}")
view=$(ended "$j")
jq -e --arg n "$M-test-404" '.state == "succeeded" and .result == {"name": $n, "destroyed": true}' <<<"$view" >/dev/null ||
	die "destroy of an unknown instance: $view"
pass "destroy of an instance that does not exist succeeds: $(jq -c .result <<<"$view")"

# an instance's directory and pin, as a launch leaves them
N=$M-test-5
pts pin "$M" "$POINT" --name "$N" >/dev/null || die "pin"
mkdir -p "$LDIR/$N"
echo image >"$LDIR/$N/$N.qcow2"
echo image >"$LDIR/$N/$N-disk1.qcow2"
echo '{}' >"$LDIR/$N/$N.qcow2.json"
echo copy >"$LDIR/$N/copy-sys.qcow2"
echo copy >"$LDIR/$N/copy-data.qcow2"
j=$(queue destroy "{\"name\": \"$N\", \"point\": $POINT}")
view=$(ended "$j")
[ "$(jq -r .state <<<"$view")" = succeeded ] || die "destroy: $view"
[ ! -e "$LDIR/$N" ] || die "destroy left $LDIR/$N: $(ls -la "$LDIR/$N")"
[ "$(pins_of "$POINT")" = "[]" ] || die "destroy left the pin: $(pins_of "$POINT")"
jq -r '.log[].line' <<<"$view" >"$T/destroy.log"
grep -q "^livemig-launch destroy: pid [0-9]*$" "$T/destroy.log" || die "destroy log: $(cat "$T/destroy.log")"
pass "destroy ran livemig-launch destroy, removed $LDIR/$N and unpinned point $POINT"

# --- a launch stopped, killed, run again to its end ---
N=$M-test-6
j=$(queue launch "{\"name\": \"$N\", \"purpose\": \"test\", \"point\": $POINT, \"hostname_suffix\": \"-test\"}")
# convert_pid: wait for the job's conversion to start on the current staging,
# and hold it still (SIGSTOP) so that it cannot end before staging is stopped
# or killed, however fast the host; print its pid
convert_pid() {
	local pid
	wait_for_log "$STAGING_LOG" "job $j \\(launch, machine $M\\): livemig-launch convert: pid [0-9]+" 300 ||
		die "the conversion did not start: $(grep "job $j " "$STAGING_LOG")"
	pid=$(grep -E "job $j \\(launch, machine $M\\): livemig-launch convert: pid" "$STAGING_LOG" | sed -n '$p' | sed 's/.*pid //')
	kill -STOP "$pid" || die "the conversion (pid $pid) ended before the test could hold it"
	echo "$pid"
}
pid=$(convert_pid) || exit 1
[ "$(pins_of "$POINT")" = "[\"$N\"]" ] || die "the launch did not pin its point: $(pins_of "$POINT")"
for d in sys data; do
	[ -s "$LDIR/$N/disk-$d.qcow2" ] || die "disk $d was not exported to $LDIR/$N/disk-$d.qcow2: $(ls -la "$LDIR/$N")"
	[ "$(qemu-img info --output=json "$LDIR/$N/disk-$d.qcow2" | jq -r .format)" = qcow2 ] || die "disk-$d.qcow2 is not qcow2"
	pts export "$M" "$POINT" --disk "$d" --format raw --output "$T/point-$d.raw" >/dev/null 2>&1 || die "points export $d"
	qemu-img compare -q "$LDIR/$N/disk-$d.qcow2" "$T/point-$d.raw" || die "disk-$d.qcow2 differs from point $POINT's disk $d"
done
# the conversion gets them in the point's order, each with its own copy
args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
want="--input $LDIR/$N/disk-sys.qcow2 --output $LDIR/$N/copy-sys.qcow2 --input $LDIR/$N/disk-data.qcow2 --output $LDIR/$N/copy-data.qcow2 --input-format qcow2 "
[[ "$args" == *" convert $want"* ]] || die "the conversion's arguments: $args"
console_has "$j" "^livemig-launch convert: pid $pid\$"
console_has "$j" "^converting the copy of 2 disks for the target"
pass "the launch pinned point $POINT as $N, exported both its disks (sys, then data) as qcow2 equal to the point's, runs livemig-launch convert on both in that order (pid $pid)"

kill -TERM "$STAGING_PID"
kill -CONT "$pid"
wait "$STAGING_PID" || die "livemig-staging exited with $? after SIGTERM"
grep -q "job $j (launch, machine $M): failed: staging stopped" "$STAGING_LOG" ||
	die "SIGTERM: the job did not fail 'staging stopped': $(grep "job $j " "$STAGING_LOG")"
gone "$pid" || die "the conversion (pid $pid) outlived staging's stop"
[ "$(jq -r .state <<<"$(job_view "$j")")" = running ] || die "the console ended the job: $(job_view "$j")"
pass "SIGTERM: the job failed 'staging stopped', its livemig-launch ended, the console still has it running"

staging_up --launch-driver export
wait_for_log "$STAGING_LOG" "job $j \\(launch, machine $M\\): $LDIR/$N exists: an earlier run of this launch did not finish" 120 ||
	die "the restarted staging did not run the job again from the beginning: $(grep "job $j " "$STAGING_LOG")"
pid=$(convert_pid) || exit 1
console_has "$j" "^livemig-launch convert: pid $pid\$"
kill_staging
kill -CONT "$pid" # its parent-death signal waits for it to run again
gone "$pid" || die "the conversion (pid $pid) outlived staging's SIGKILL"
pass "restarted: the job runs again, destroying the earlier run's instance first; SIGKILL: its livemig-launch ended too"

staging_up --launch-driver export
# the whole conversion this time: on a fresh machine libguestfs first builds its appliance
view=$(ended "$j" 1800)
[ "$(jq -r '.state + ": " + .error' <<<"$view")" = "failed: conversion failed: unknown operating system: inspection found no root file system" ] ||
	die "the launch of a disk without an OS: $view"
[ "$(pins_of "$POINT")" = "[]" ] || die "the failed launch left its pin: $(pins_of "$POINT")"
[ ! -e "$LDIR/$N" ] || die "the failed launch left $LDIR/$N: $(ls -la "$LDIR/$N")"
jq -r '.log[].line' <<<"$view" >"$T/launch.log"
[ "$(jq '[.log[].seq] == ([.log[].seq] | unique) and ([.log[].seq] | sort) == [.log[].seq]' <<<"$view")" = true ] ||
	die "the log's lines are not numbered in order: $(jq -c '[.log[].seq]' <<<"$view")"
grep -q "exists: an earlier run of this launch did not finish" "$T/launch.log" ||
	die "the console's log lacks the re-run: $(cat "$T/launch.log")"
grep -q "not converted: unknown operating system" "$T/launch.log" ||
	die "the console's log lacks livemig-launch's stderr: $(cat "$T/launch.log")"
[ "$(grep -c '^started$' "$T/launch.log")" -ge 2 ] || die "the console's log has one run only: $(cat "$T/launch.log")"
pass "run to the end: $(jq -r .error <<<"$view"); unpinned, $LDIR/$N removed; the console has $(wc -l <"$T/launch.log") log lines of $(grep -c '^started$' "$T/launch.log") runs"
stop_staging
