#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# A launch through staging, end to end and all real: the Debian 12 BIOS
# source disk (guest_image.sh bios, a copy of it on a loop device) is
# replicated by the real livemigd to a real staging server, whose final sync
# makes a recovery point; the console hands staging a `launch` job for that
# point; staging exports the boot disk, runs livemig-launch convert and
# launch --driver libvirt, and the job's result says the copy is up with its
# address from DHCP. A `destroy` job then removes the domain, the launch
# directory and the point's pin.
#   t_staging_launch.sh BUILD      (needs LIBVIRT_URI: tests/launch/libvirt_lib.sh)
# The console has no command that queues these kinds yet: the jobs are
# inserted into its database as job_create (src/console/jobs.c) does.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$TESTS/agent_lib.sh"
. "$TESTS/console_lib.sh"
need_root
: "${LIBVIRT_URI:?start a libvirtd first (tests/launch/libvirt_lib.sh)}"
[ -x "$BUILD/livemig-launch" ] || die "$BUILD/livemig-launch is not built (make check-launch builds it)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
JOB_TIMEOUT=${JOB_TIMEOUT:-5400} # export + conversion + boot, under TCG on a busy host

LOGIN=alice@acme:operator-password
A=$T/agents
STAGING_STORE=$T/store
LDIR=$STAGING_STORE/.launches

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }

step "source disk (bios) on a loop device"
SRC=$("$TESTS/../launch/guest_image.sh" bios) || die "cannot build the bios source image"
sha_before=$(file_sha "$SRC")
cp --sparse=always "$SRC" "$T/source.raw" # the agent reads a copy: the cache is never written
dev=$(make_loop "$T/source.raw")
took "copy"

setup_pki
start_console
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
	--console-credential "$T/st1.secret" --console-interval 1s \
	--launch-driver libvirt --launch-uri "$LIBVIRT_URI" --launch-nic user --launch-timeout "$BOOT_TIMEOUT"
grep -q "launches: driver libvirt, launcher $BUILD/livemig-launch, instances in $LDIR" "$STAGING_LOG" ||
	die "staging's launch setup: $(grep launches "$STAGING_LOG")"
out=$(api register --dir "$A" --machine src-bios --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register: $out"
chmod 600 "$A/src-bios.secret"
M=$(cat "$A/src-bios.id")

step "replicate with livemigd, final sync: a recovery point"
mkdir -p "$T/src-bios.state"
cat >"$T/src-bios.conf" <<CONF
[agent]
machine = $M
state_dir = $T/src-bios.state
socket = $T/src-bios.sock
scan_interval = 300ms
nice = 0
[staging]
address = 127.0.0.1:$STAGING_PORT
ca = $SERVER_CA
cert = $A/src-bios.pem
key = $A/src-bios.key
[console]
url = https://127.0.0.1:$CONSOLE_PORT
ca = $SERVER_CA
machine_id = $M
secret_file = $A/src-bios.secret
[disk]
name = sda
path = $dev
CONF
start_agent src-bios
wait_status "s['state'] == 'CHANGE_COPY'" 1800
lm sync >"$T/sync.out" 2>&1 || die "final sync: $(cat "$T/sync.out")"
stop_agent
POINT=$("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE" --json | jq '.points[-1].id')
[ "$POINT" -ge 1 ] 2>/dev/null || die "no recovery point after the final sync"
for _ in $(seq 300); do
	stored=$(api_body "$(api call GET "/api/v1/machines/$M/points" --basic "$LOGIN")" | jq -c '[.stored_on[].staging]')
	[ "$stored" = '["st1"]' ] && break
	sleep 0.2
done
[ "$stored" = '["st1"]' ] || die "the console does not know that st1 stores $M: $stored"
took "replication"
pass "replicated by livemigd: point $POINT on st1"

queue() {
	sqlite3 -cmd ".timeout 10000" "$CONSOLE_DB" "INSERT INTO staging_jobs (machine_ref, kind, params, owner,
		state, created_at) SELECT id, '$1', '$2', 'alice@acme', 'queued', strftime('%s', 'now')
		FROM machines WHERE machine_id = '$M' RETURNING id;"
}
job_view() { api_body "$(api call GET "/api/v1/machines/$M/jobs/$1" --basic "$LOGIN")"; }
ended() { # ID BOUND_S
	local view end=$((SECONDS + $2))
	while [ "$SECONDS" -le "$end" ]; do
		view=$(job_view "$1")
		case $(jq -r .state <<<"$view") in succeeded | failed) echo "$view"; return 0 ;; esac
		sleep 2
	done
	die "job $1 did not end within $2 s: $(jq -c '{state, log: [.log[-5:][].line]}' <<<"$view")"
}

step "launch job: export, convert, libvirt boot"
N=$M-test-1
j=$(queue launch "{\"name\": \"$N\", \"purpose\": \"test\", \"point\": $POINT, \"hostname_suffix\": \"-test\", \"cpus\": 1, \"memory_mib\": 1024}")
view=$(ended "$j" "$JOB_TIMEOUT")
took "launch job"
jq -r '.log[] | "   | " + .line' <<<"$view" | sed -n '1,400p'
[ "$(jq -r .state <<<"$view")" = succeeded ] || die "the launch failed: $(jq -r .error <<<"$view")"
jq -c .result <<<"$view"
jq -e --arg n "$N" --argjson p "$POINT" '.result | .name == $n and .purpose == "test" and .point == $p and
	.driver == "libvirt" and .state == "up" and (.address | startswith("10.0.2.")) and (.seconds > 0)' \
	<<<"$view" >/dev/null || die "the launch's result: $(jq -c .result <<<"$view")"
jq -e '.result.marker_line | test("result=up") and test("host=src-bios-test ") and test("livemigd=(inactive|failed|unknown)")' \
	<<<"$view" >/dev/null || die "the first-boot marker: $(jq -r .result.marker_line <<<"$view")"
pass "launched through staging: up at $(jq -r .result.address <<<"$view") under its test hostname, livemigd inactive"
virsh -c "$LIBVIRT_URI" domstate "$N" | has_line -x running || die "the domain $N is not running"
[ "$("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins)" = "[\"$N\"]" ] ||
	die "the launched point is not pinned by $N"
pass "domain $N running, point $POINT pinned by it"

step "destroy job"
j=$(queue destroy "{\"name\": \"$N\", \"point\": $POINT}")
view=$(ended "$j" 600)
took "destroy job"
jq -e --arg n "$N" '.state == "succeeded" and .result == {"name": $n, "destroyed": true}' <<<"$view" >/dev/null ||
	die "destroy: $view"
virsh -c "$LIBVIRT_URI" list --all --name | has_line -x "$N" && die "the domain $N is still defined"
[ ! -e "$LDIR/$N" ] || die "$LDIR/$N is still there"
[ "$("$BUILD/livemig-staging" points show "$M" "$POINT" --store "$STAGING_STORE" --json | jq -c .pins)" = "[]" ] ||
	die "the point is still pinned"
pass "destroyed: no domain, no launch directory, no pin"
[ "$(file_sha "$SRC")" = "$sha_before" ] || die "the cached source image changed"
pass "the cached source image is unchanged (sha256)"
