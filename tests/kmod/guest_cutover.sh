#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The cutover point with the kmod tracker (guest side; tests/kmod/run.sh
# guest_cutover.sh): a real livemig-console, livemig-staging and livemigd
# (tracker = kmod, periodic points off) in the guest, ext4 on /dev/vdb under
# writers. The console's heartbeat answer asks for the cutover point (the
# lifecycle's cutover action, `admin lifecycle ... cutover`): livemigd makes one
# recovery point with the file system frozen (engine_point), reports its
# staging id and time, and staging holds exactly that point, filesystem-
# consistent, after requested_at; the repeated request makes no other.
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"
# shellcheck source=tests/integration/console_lib.sh
. "$REPO/tests/integration/console_lib.sh"

A=$T/agents
mkdir -p "$A"
loaded=0
if [ ! -d /sys/module/livemig_cbt ]; then
	insmod "$KO" || die "insmod $KO"
	loaded=1
fi
modprobe loop || die "modprobe loop"
make_fs

setup_pki
start_console --heartbeat-interval 1s
admin create-account acme --licenses 1 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
out=$(api register --dir "$A" --machine cut --token "$TOKEN" --identity "mac=02:00:00:00:00:01")
[ "$(api_status "$out")" = 201 ] || die "register: $out"
chmod 600 "$A/cut.secret"
M=$(jq -r .machine_id "$A/cut.json")
AGENT_CA=$CONSOLE_CA/ca.pem start_staging
mkdir -p "$T/$M.state"
cat >"$T/$M.conf" <<CONF
[agent]
machine = $M
state_dir = $T/$M.state
socket = $T/$M.sock
scan_interval = 200ms
nice = 0
tracker = kmod
point_interval = 0
freeze_max = 2s
freeze_buffer = 64M
[staging]
address = 127.0.0.1:$STAGING_PORT
ca = $SERVER_CA
cert = $A/cut.pem
key = $A/cut.key
[console]
url = https://127.0.0.1:$CONSOLE_PORT
ca = $SERVER_CA
machine_id = $M
secret_file = $A/cut.secret
[disk]
name = d0
path = $DISK
CONF
start_writers 7
start_agent "$M"
wait_st '.tracker == "kmod" or .tracker == "scan"' 300
[ "$(st .tracker)" = kmod ] || die "the agent runs tracker $(st .tracker): $(st .tracker_reason)"
wait_st '.state == "CHANGE_COPY" and .console.connected' 900
[ "$(st .points.made)" = 0 ] || die "points before the request: $(st .points)"
pass "machine $M replicates with the kmod tracker and reports to the console"

# the steps before the cutover (a test launch, marked ready) need a
# launcher (tests/launch); from READY_FOR_CUTOVER on it is the console's own
python3 - "$CONSOLE_DB" "$M" <<'PY' || die "cannot put the machine in READY_FOR_CUTOVER"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=60)
db.execute("INSERT INTO machine_lifecycle (machine_ref, state, since) SELECT id, 'READY_FOR_CUTOVER', ?"
           " FROM machines WHERE machine_id = ?", (int(time.time()), sys.argv[2]))
db.commit()
PY
admin lifecycle acme "$M" cutover >"$T/cutover.out" 2>&1 || die "admin lifecycle cutover: $(cat "$T/cutover.out")"
REQ=$(admin lifecycle acme "$M" show --json | jq -r .cutover.requested_at)
[ "$REQ" -gt 0 ] 2>/dev/null || die "no cutover request after the action: $(admin lifecycle acme "$M" show --json)"
wait_st '.cutover.state == "done" or .cutover.state == "failed"' 600
co=$(lm status --json | jq -c .cutover)
[ "$(jq -r .state <<<"$co")" = "done" ] || die "the cutover point failed: $co"
id=$(jq -r .point_id <<<"$co")
[ "$id" -gt 0 ] || die "a kmod cutover point without staging's id: $co"
# exact integers: not through jq, whose numbers are doubles
lm status --json | python3 -c 'import json, sys
co = json.load(sys.stdin)["cutover"]
pts = json.loads(sys.argv[1])["points"]
req = int(sys.argv[2]) * 10**9
after = [p for p in pts if p["time_ns"] >= req]
assert co["consistent_ns"] >= req, co
assert [p["id"] for p in after] == [co["point_id"]], (after, co)
assert after[0]["time_ns"] == co["consistent_ns"], (after, co)
assert after[0]["consistency"] == "filesystem" and after[0]["origin"] == "requested", after' \
	"$("$BUILD/livemig-staging" points list "$M" --json --store "$STAGING_STORE")" "$REQ" ||
	die "staging's points do not hold the cutover point: $("$BUILD/livemig-staging" points list "$M" --store "$STAGING_STORE")"
grep -q "recovery point $id made (requested, filesystem-consistent)" "$AGENT_LOG" ||
	die "no point line in the agent's log"
pass "cutover point $id: file system frozen, on staging at its time, after requested_at; status $co"

# the console keeps repeating the request: no other point
hb=$(grep -c "POST /api/v1/machines/$M/status -> 200" "$CONSOLE_LOG")
for _ in $(seq 600); do
	[ "$(grep -c "POST /api/v1/machines/$M/status -> 200" "$CONSOLE_LOG")" -ge $((hb + 3)) ] && break
	sleep 0.2
done
[ "$(st .points.made)" = 1 ] || die "the repeated request made more points: $(st .points)"
[ "$(grep -c "the console asks for the cutover point" "$AGENT_LOG")" = 1 ] || die "the request was acted on twice"
pass "the request repeated in $(($(grep -c "POST /api/v1/machines/$M/status -> 200" "$CONSOLE_LOG") - hb)) more answers: still one point"

stop_writers
stop_agent_checked
stop_console
[ "$loaded" = 0 ] || rmmod livemig_cbt || die "rmmod livemig_cbt"
