#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# The launch lifecycle on the console's side (docs/launch.md, "Lifecycle"),
# with a real console, a real staging server and a real agent replicating a
# loop device: every legal and illegal transition through the API (409 with
# the reason and what is allowed), a viewer's 403, another account's 404,
# the page's session with its CSRF token; a staging server without a
# launcher makes the test launch and the cutover launch fail visibly and the
# state go back; the cutover waits for a recovery point made after its
# request (the heartbeat asks for it) and fails after --cutover-timeout;
# kill -9 of the console while staging runs a launch, and while the cutover
# waits, resumes them; finalize
# frees the license and the agent's heartbeat then hears 410 "finalized";
# the admin command does the same steps.
# A launch that comes up needs staging's launcher kinds, which this branch's
# livemig-staging does not run: those ends come from
# staging_launcher_standin.py, which speaks the documented sync protocol as
# a second staging server holding the machine's newer points.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

ALICE=alice@acme:operator-password # operator
VIC=vic@acme:viewer-password       # viewer
BOB=bob@other:other-password       # another account's admin
A=$T/agents

setup_pki
start_console --heartbeat-interval 1s
admin create-account acme --licenses 5 >/dev/null || die "create-account acme"
admin create-account other --licenses 1 >/dev/null || die "create-account other"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user alice"
echo 'viewer-password' | admin create-user acme vic --role viewer >/dev/null || die "create-user vic"
echo 'other-password' | admin create-user other bob >/dev/null || die "create-user bob"
out=$(echo 'x-password' | admin create-user acme eve --role boss 2>&1) && die "--role boss accepted: $out"
grep -q "not one of admin, operator, viewer" <<<"$out" || die "--role boss: $out"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>/dev/null || die "add-staging st1"
admin add-staging standin >"$T/standin.secret" 2>/dev/null || die "add-staging standin"
chmod 600 "$T/st1.secret" "$T/standin.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
staging_with_console() {
	start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
		--console-credential "$T/st1.secret" --console-interval 1s
}
staging_with_console
wait_for_log "$STAGING_LOG" "enforcing its certificate list" 30 || die "staging never synced"

# --- a real agent replicates m1; its final sync makes a point on st1 ---
mkdir -p "$A"
out=$(api register --dir "$A" --machine m1 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m1: $out"
chmod 600 "$A/m1.secret"
M1=$(cat "$A/m1.id")
python3 "$TESTS/make_disk.py" "$T/m1.img" 32M --zeros 0 --files 0 --random 1 --seed 11
dev1=$(make_loop "$T/m1.img")
mkdir -p "$T/m1.state"
cat >"$T/m1.conf" <<CONF
[agent]
machine = $M1
state_dir = $T/m1.state
socket = $T/m1.sock
scan_interval = 300ms
nice = 0
[staging]
address = 127.0.0.1:$STAGING_PORT
ca = $SERVER_CA
cert = $A/m1.pem
key = $A/m1.key
[console]
url = https://127.0.0.1:$CONSOLE_PORT
ca = $SERVER_CA
machine_id = $M1
secret_file = $A/m1.secret
[disk]
name = d0
path = $dev1
CONF
start_agent m1
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >"$T/sync.out" 2>&1 || die "final sync: $(cat "$T/sync.out")"
npoints() { json_get "$(api_body "$(api call GET "/api/v1/machines/$M1/points" --basic "$ALICE")")" 'len(d["points"])'; }
for _ in $(seq 300); do
	[ "$(npoints)" -ge 1 ] && break
	sleep 0.2
done
[ "$(npoints)" -ge 1 ] || die "the console never listed m1's point"
pass "m1 replicates to st1; its point reached the console"

# --- helpers ---
lc_get() { # [LOGIN]
	api_body "$(api call GET "/api/v1/machines/$M1/lifecycle" --basic "${1:-$ALICE}")"
}
lc_post() { # ACTION [LOGIN] [EXTRA JSON MEMBERS]
	api call POST "/api/v1/machines/$M1/lifecycle" --basic "${2:-$ALICE}" \
		--json "{\"action\": \"$1\"${3:+, $3}}"
}
lc_do() { # ACTION [EXTRA]: 202, echo the job id (or None)
	local out
	out=$(lc_post "$1" "$ALICE" "${2:-}")
	[ "$(api_status "$out")" = 202 ] || die "$1: $out"
	json_get "$(api_body "$out")" 'd["job"]["id"] if d["job"] else None'
}
wait_lc() { # PYTHON_EXPR_ON_d TIMEOUT WHAT
	local view
	for _ in $(seq $(($2 * 5))); do
		view=$(lc_get)
		[ "$(json_get "$view" "$1")" = True ] && return 0
		sleep 0.2
	done
	die "timed out after $2 s waiting for $3: $view"
}
job_of() { # ID: the job's document
	api_body "$(api call GET "/api/v1/machines/$M1/jobs/$1" --basic "$ALICE")"
}
conflict() { # ACTION WHAT: 409 conflict naming the state and what is allowed
	local out
	out=$(lc_post "$1")
	expect_error "$2" 409 conflict "$out"
	grep -q "allowed now: " <<<"$out" || die "$2: the 409 does not say what is allowed: $out"
}
state_is() { [ "$(json_get "$(lc_get)" 'd["state"]')" = "$1" ] || die "state $(lc_get), expected $1"; }
heartbeat() { # [STATUS_JSON]: POST a status as m1's agent: the raw answer
	local out doc=${1:-}
	[ -n "$doc" ] || doc='{"state": "CHANGE_COPY"}'
	for _ in $(seq 50); do
		out=$(api call POST "/api/v1/machines/$M1/status" --bearer "$(cat "$A/m1.secret")" \
			--json "$doc")
		[ "$(api_status "$out")" = 429 ] || break
		sleep 0.5
	done
	echo "$out"
}
cutover_done() { # POINT_ID: as m1's agent, report the cutover point asked for made
	local at out
	at=$(json_get "$(lc_get)" 'd["cutover"]["requested_at"]')
	out=$(heartbeat "{\"state\": \"CHANGE_COPY\", \"cutover\": {\"requested_at\": $at, \"state\": \"done\", \"point_id\": $1, \"consistent_ns\": $(now_ns), \"error\": \"\"}}")
	[ "$(api_status "$out")" = 200 ] || die "the agent's cutover report: $out"
}
licenses_in_use() {
	json_get "$(api_body "$(api call GET /api/v1/machines --basic "$ALICE")")" 'd["licenses"]["in_use"]'
}

# --- READY_FOR_TEST: what the fleet, the machine and the lifecycle say ---
view=$(lc_get)
[ "$(json_get "$view" 'd["state"], d["allowed"], d["instance"], d["jobs"]')" = "('READY_FOR_TEST', ['test'], None, [])" ] ||
	die "initial lifecycle: $view"
[ "$(json_get "$(api_body "$(api call GET "/api/v1/machines/$M1" --basic "$ALICE")")" 'd["lifecycle"]')" = READY_FOR_TEST ] ||
	die "machine GET has no lifecycle"
[ "$(json_get "$(api_body "$(api call GET /api/v1/machines --basic "$ALICE")")" '[m["lifecycle"] for m in d["machines"]]')" = "['READY_FOR_TEST']" ] ||
	die "the fleet list has no lifecycle"
pass "a new machine is READY_FOR_TEST (machine, fleet list, lifecycle); only test is allowed"
for a in mark-ready cutover revert finalize; do
	conflict "$a" "$a from READY_FOR_TEST"
done

# --- who may: viewer 403 (reads 200), other account 404, no login 401 ---
expect_error "a viewer's test" 403 forbidden "$(lc_post test "$VIC")"
[ "$(json_get "$(lc_get "$VIC")" 'd["state"]')" = READY_FOR_TEST ] || die "a viewer cannot read the lifecycle"
expect_error "another account's GET" 404 no_such_machine "$(api call GET "/api/v1/machines/$M1/lifecycle" --basic "$BOB")"
expect_error "another account's POST" 404 no_such_machine "$(lc_post test "$BOB")"
expect_error "no login" 401 auth_required "$(api call POST "/api/v1/machines/$M1/lifecycle" --json '{"action":"test"}')"
expect_error "an unknown action" 400 malformed "$(lc_post launch)"
expect_error "a point with mark-ready" 400 malformed "$(lc_post mark-ready "$ALICE" '"point": 1')"
expect_error "a size with mark-ready" 400 malformed "$(lc_post mark-ready "$ALICE" '"cpus": 2')"
expect_error "65 CPUs" 400 malformed "$(lc_post test "$ALICE" '"cpus": 65')"
expect_error "32 MiB of memory" 400 malformed "$(lc_post test "$ALICE" '"memory_mib": 32')"
expect_error "a launch job through the jobs API" 400 lifecycle_kind \
	"$(api call POST "/api/v1/machines/$M1/jobs" --basic "$ALICE" --json '{"kind": "launch"}')"
state_is READY_FOR_TEST

# --- a test launch while staging is frozen: TESTING, launching; what is refused then ---
kill -STOP "$STAGING_PID" # staging frozen: the launch stays queued
job=$(lc_do test '"cpus": 3, "memory_mib": 1536')
view=$(lc_get)
[ "$(json_get "$view" 'd["state"], d["instance"]["state"], d["instance"]["name"], d["allowed"]')" = \
	"('TESTING', 'launching', '$M1-test-$job', [])" ] || die "test: $view"
[ "$(json_get "$(job_of "$job")" 'd["kind"], d["state"], d["owner"], d["params"]["purpose"], d["params"]["hostname_suffix"], d["params"]["cpus"], d["params"]["memory_mib"]')" = \
	"('launch', 'queued', 'alice@acme', 'test', '-test', 3, 1536)" ] || die "launch job (the operator's size over the inventory's): $(job_of "$job")"
for a in test mark-ready revert cutover finalize; do
	conflict "$a" "$a while the test launch runs"
done
# --- staging without a launcher: the launch fails visibly, the state goes back ---
kill -CONT "$STAGING_PID"
wait_lc 'd["state"] == "READY_FOR_TEST"' 60 "the failed test launch to return to READY_FOR_TEST"
jv=$(job_of "$job")
[ "$(json_get "$jv" 'd["state"] == "failed" and d["staging"] == "st1" and len(d["error"]) > 0 and d["ended"] is not None')" = True ] ||
	die "the failed launch job: $jv"
pass "staging without a launcher: launch job $job failed visibly ($(json_get "$jv" 'd["error"]')); back to READY_FOR_TEST"
wait_lc 'd["instance"] is None and d["jobs"][0]["kind"] == "destroy" and d["jobs"][0]["state"] in ("succeeded", "failed")' 60 \
	"the failed launch's cleanup"
pass "the failed launch's cleanup (destroy job $(json_get "$(lc_get)" 'd["jobs"][0]["id"]')) ended: $(json_get "$(lc_get)" 'd["jobs"][0]["state"]')"

# --- a launcher: the stand-in holds a newer point; test, revert, test, mark-ready ---
now_ns() { date +%s%N; }
point_json() { # ID TIME_NS
	printf '{"id": %s, "time": "t", "time_ns": %s, "origin": "requested", "consistency": "filesystem", "pinned": false}' "$1" "$2"
}
echo "[$(point_json 1000 "$(now_ns)")]" >"$T/standin.points"
: >"$T/standin.jobs"
python3 "$TESTS/staging_launcher_standin.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" \
	--secret "$T/standin.secret" --machine "$M1" --points "$T/standin.points" \
	--jobs-log "$T/standin.jobs" --hold "$T/standin.hold" >"$T/standin.log" 2>&1 &
STANDIN=$!
track_pid "$STANDIN"
for _ in $(seq 150); do
	[ "$(json_get "$(api_body "$(api call GET "/api/v1/machines/$M1/points" --basic "$ALICE")")" 'd["points"][0]["id"]')" = 1000 ] && break
	sleep 0.2
done
job=$(lc_do test)
wait_lc 'd["state"] == "TESTING" and d["instance"]["state"] == "up"' 60 "the test instance to come up"
view=$(lc_get)
[ "$(json_get "$view" 'd["instance"]["point"], d["instance"]["address"], d["allowed"]')" = \
	"(1000, '192.0.2.$((job % 250 + 1))', ['mark-ready', 'revert'])" ] || die "test instance: $view"
grep -q "\"kind\": \"launch\".*\"name\": \"$M1-test-$job\"" "$T/standin.jobs" || die "the launch went elsewhere: $(cat "$T/standin.jobs")"
for a in test cutover finalize; do
	conflict "$a" "$a in TESTING"
done
pass "test launch $job from the newest point (1000, on the stand-in) is up at $(json_get "$view" 'd["instance"]["address"]')"
djob=$(lc_do revert)
state_is READY_FOR_TEST
wait_lc 'd["instance"] is None' 60 "the reverted test instance to be destroyed"
[ "$(json_get "$(job_of "$djob")" 'd["kind"], d["state"], d["params"]["name"]')" = "('destroy', 'succeeded', '$M1-test-$job')" ] ||
	die "revert's destroy: $(job_of "$djob")"
pass "revert from TESTING: READY_FOR_TEST, destroy job $djob removed $M1-test-$job"
# kill -9 of the console while staging runs the launch: it resumes
touch "$T/standin.hold"
job=$(lc_do test '"point": 1000')
for _ in $(seq 300); do
	[ "$(json_get "$(job_of "$job")" 'd["state"]')" = running ] && break
	sleep 0.2
done
[ "$(json_get "$(job_of "$job")" 'd["state"]')" = running ] || die "the held launch: $(job_of "$job")"
kill -KILL "$CONSOLE_PID"
wait "$CONSOLE_PID" 2>/dev/null
start_console --listen "127.0.0.1:$CONSOLE_PORT" --heartbeat-interval 1s
view=$(lc_get)
[ "$(json_get "$view" 'd["state"], d["instance"]["state"]')" = "('TESTING', 'launching')" ] || die "after kill -9: $view"
rm "$T/standin.hold"
wait_lc 'd["instance"] is not None and d["instance"]["state"] == "up"' 60 "the second test instance"
jv=$(job_of "$job")
[ "$(json_get "$jv" '[l["seq"] for l in d["log"]], d["state"]')" = "([1, 2], 'succeeded')" ] || die "the resumed launch: $jv"
pass "console killed -9 while staging ran launch job $job: after restart the job went on and its end moved TESTING's instance to up"
djob=$(lc_do mark-ready)
state_is READY_FOR_CUTOVER
wait_lc 'd["instance"] is None' 60 "mark-ready's destroy"
for a in test mark-ready revert finalize; do
	conflict "$a" "$a in READY_FOR_CUTOVER"
done
pass "mark-ready: READY_FOR_CUTOVER, the test instance destroyed (job $djob)"

# --- cutover: the heartbeat asks, the agent's point (on st1, no launcher) is used, the launch fails ---
# staging frozen: the running agent acts on the request at once, and its
# point must not reach the console before CUTTING_OVER has been looked at
kill -STOP "$STAGING_PID"
wjob=$(lc_do cutover '"cpus": 2')
view=$(lc_get)
[ "$(json_get "$view" 'd["state"], d["cutover"]["requested_by"], d["allowed"]')" = "('CUTTING_OVER', 'alice@acme', [])" ] ||
	die "cutover: $view"
[ "$(json_get "$(job_of "$wjob")" 'd["kind"], d["state"], d["staging"]')" = "('cutover-point', 'running', None)" ] ||
	die "the cutover's wait: $(job_of "$wjob")"
hb=$(heartbeat)
[ "$(api_status "$hb")" = 200 ] || die "heartbeat: $hb"
[ "$(json_get "$(api_body "$hb")" 'd["cutover"]["requested_at"] == '"$(json_get "$view" 'd["cutover"]["requested_at"]')"' and d["cutover"]["requested_by"] == "alice@acme"')" = True ] ||
	die "the heartbeat's answer does not ask for the cutover point: $hb"
for a in test mark-ready cutover revert finalize; do
	conflict "$a" "$a in CUTTING_OVER"
done
pass "cutover: CUTTING_OVER; the heartbeat's answer carries $(json_get "$(api_body "$hb")" 'd["cutover"]')"
kill -CONT "$STAGING_PID" # the agent's cutover point (asked by its heartbeat) can be made now
wait_lc 'd["state"] == "READY_FOR_CUTOVER"' 90 "the cutover launch on st1 (no launcher) to fail"
wv=$(job_of "$wjob")
[ "$(json_get "$wv" 'd["state"] == "succeeded" and d["result"]["staging"] == "st1"')" = True ] || die "the wait: $wv"
cjob=$(json_get "$wv" 'd["result"]["launch_job"]')
[ "$(json_get "$(job_of "$cjob")" 'd["kind"], d["state"], d["params"]["purpose"], d["staging"], d["params"]["cpus"]')" = "('launch', 'failed', 'cutover', 'st1', 2)" ] ||
	die "the cutover launch: $(job_of "$cjob")"
[ "$(json_get "$(api_body "$(heartbeat)")" '"cutover" in d')" = False ] || die "the heartbeat still asks for a cutover point"
pass "the agent's point $(json_get "$wv" 'd["result"]["point"]') on st1 was found; its launch (job $cjob) failed visibly: $(json_get "$(job_of "$cjob")" 'd["error"]'); back to READY_FOR_CUTOVER"

# --- no point within --cutover-timeout: the wait fails, back to READY_FOR_CUTOVER ---
# (the console restarts on the same port, so that staging and the stand-in reach it again)
restart_console() { # [OPTIONS]
	start_console --listen "127.0.0.1:$CONSOLE_PORT" --heartbeat-interval 1s "$@"
}
stop_agent # from now on no new point comes from st1
stop_console
restart_console --cutover-timeout 5s
wjob=$(lc_do cutover)
wait_lc 'd["state"] == "READY_FOR_CUTOVER"' 60 "the cutover to time out"
[ "$(json_get "$(job_of "$wjob")" 'd["state"] == "failed" and "--cutover-timeout" in d["error"]')" = True ] ||
	die "the timed-out wait: $(job_of "$wjob")"
pass "no point within --cutover-timeout: $(json_get "$(job_of "$wjob")" 'd["error"]')"

# --- kill -9 of the console while the cutover waits: the wait resumes ---
stop_console
restart_console
wjob=$(lc_do cutover)
kill -KILL "$CONSOLE_PID"
wait "$CONSOLE_PID" 2>/dev/null
restart_console
view=$(lc_get)
[ "$(json_get "$view" 'd["state"], d["cutover"]["job"]')" = "('CUTTING_OVER', $wjob)" ] || die "after kill -9: $view"
[ "$(json_get "$(job_of "$wjob")" 'd["state"]')" = running ] || die "the wait after kill -9: $(job_of "$wjob")"
# a newer point alone is not the cutover point: the agent's report names it
echo "[$(point_json 1000 1000000000), $(point_json 1001 "$(now_ns)")]" >"$T/standin.points"
listed_1001() { [ "$(json_get "$(api_body "$(api call GET "/api/v1/machines/$M1/points" --basic "$ALICE")")" '1001 in [p["id"] for p in d["points"]]')" = True ]; }
for _ in $(seq 60); do
	listed_1001 && break
	sleep 0.5
done
listed_1001 || die "the console never listed the stand-in's point 1001"
state_is CUTTING_OVER
cutover_done 1001
wait_lc 'd["state"] == "CUTOVER" and d["instance"]["state"] == "up"' 90 "the resumed cutover to launch and come up"
[ "$(json_get "$(job_of "$wjob")" 'd["state"], d["result"]["point"]')" = "('succeeded', 1001)" ] ||
	die "the resumed wait: $(job_of "$wjob")"
view=$(lc_get)
pass "console killed -9 while the cutover waited: after restart the wait resumed, found point 1001 and the cutover instance is up at $(json_get "$view" 'd["instance"]["address"]')"
for a in test mark-ready cutover; do
	conflict "$a" "$a in CUTOVER"
done

# --- revert from CUTOVER, cut over again, finalize ---
djob=$(lc_do revert)
state_is READY_FOR_CUTOVER
wait_lc 'd["instance"] is None' 60 "the cutover instance to be destroyed"
wjob=$(lc_do cutover)
echo "[$(point_json 1000 1000000000), $(point_json 1001 1000000001), $(point_json 1002 "$(now_ns)")]" >"$T/standin.points"
cutover_done 1002
wait_lc 'd["state"] == "CUTOVER" and d["instance"]["state"] == "up"' 90 "the second cutover"
pass "revert from CUTOVER (destroy job $djob), then a second cutover from point $(json_get "$(job_of "$wjob")" 'd["result"]["point"]')"
before=$(licenses_in_use)
# the page's way: a session cookie and its CSRF token
python3 - "$TESTS" "$CONSOLE_PORT" "$SERVER_CA" "$M1" >"$T/session.out" 2>&1 <<-'PY' || die "finalize through the page's session: $(cat "$T/session.out")"
	import sys
	sys.path.insert(0, sys.argv[1])
	from console_client import page_call
	port, ca, machine = int(sys.argv[2]), sys.argv[3], sys.argv[4]
	def call(method, path, body=None, headers=None):
	    return page_call(port, ca, method, path, body, headers)
	st, cookie, s = call("POST", "/api/v1/session", {"account": "acme", "user": "alice", "password": "operator-password"})
	assert st == 200, (st, s)
	cookie = cookie.split(";")[0]
	path = "/api/v1/machines/%s/lifecycle" % machine
	st, _, body = call("POST", path, {"action": "finalize"}, {"Cookie": cookie})
	assert st == 403 and body["code"] == "csrf_required", (st, body)
	st, _, body = call("POST", path, {"action": "finalize"}, {"Cookie": cookie, "X-CSRF-Token": s["csrf_token"]})
	assert st == 202 and body["state"] == "FINALIZED", (st, body)
	print("finalized through the session:", body["job"]["kind"], body["job"]["state"])
PY
state_is FINALIZED
after=$(licenses_in_use)
[ "$after" -eq $((before - 1)) ] || die "licenses in use $before -> $after after finalize"
hb=$(heartbeat)
expect_error "the agent's heartbeat after finalize" 410 finalized "$hb"
[ "$(json_get "$(api_body "$hb")" 'd["finalized_by"], d["finalized_at"] > 0')" = "('alice@acme', True)" ] ||
	die "410 body: $hb"
view=$(lc_get)
[ "$(json_get "$view" 'd["finalized"]["finalized_by"], d["allowed"], d["jobs"][0]["kind"], d["jobs"][0]["state"]')" = \
	"('alice@acme', [], 'finalize', 'succeeded')" ] || die "finalized lifecycle: $view"
for a in test mark-ready cutover revert finalize; do
	conflict "$a" "$a in FINALIZED"
done
pass "finalize (the page's session, CSRF checked): licenses in use $before -> $after; the heartbeat hears 410 finalized by alice@acme"

# --- the admin command ---
out=$(admin lifecycle acme "$M1" 2>&1) || die "admin lifecycle show: $out"
grep -q "^machine $M1: FINALIZED since" <<<"$out" || die "admin lifecycle show: $out"
out=$(admin lifecycle acme "$M1" test 2>&1) && die "admin lifecycle test in FINALIZED succeeded: $out"
grep -q "cannot test in state FINALIZED" <<<"$out" || die "admin lifecycle test: $out"
[ "$(json_get "$(admin lifecycle acme "$M1" show --json)" 'd["state"]')" = FINALIZED ] || die "admin lifecycle --json"
out=$(admin points acme "$M1") || die "admin points: $out"
grep -q "^1002 " <<<"$out" || die "admin points: $out"
[ "$(json_get "$(admin points acme "$M1" --json)" 'd["points"][0]["id"]')" = 1002 ] || die "admin points --json"
out=$(admin lifecycle acme nosuch 2>&1) && die "admin lifecycle of a missing machine: $out"
grep -q "account acme has no machine nosuch" <<<"$out" || die "admin lifecycle nosuch: $out"
pass "admin lifecycle show/--json, a refused action (exit 1, the reason), admin points"

# m2 goes through the lifecycle with the admin command alone
out=$(api register --dir "$A" --machine m2 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m2: $out"
M2=$(cat "$A/m2.id")
out=$(admin lifecycle acme "$M2" test 2>&1) && die "a test without a point: $out"
grep -q "has no recovery point yet" <<<"$out" || die "admin test without a point: $out"
out=$(admin lifecycle acme "$M2" finalize 2>&1) && die "finalize from READY_FOR_TEST: $out"
grep -q "allowed now: test" <<<"$out" || die "admin finalize: $out"
pass "admin lifecycle refuses a test without a point and an illegal action, saying what is allowed"

kill "$STANDIN"
wait "$STANDIN" 2>/dev/null
stop_staging
stop_console
