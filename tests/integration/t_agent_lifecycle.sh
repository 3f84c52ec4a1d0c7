#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers takes the console's options, not the script's arguments
# The agent's side of the launch lifecycle, all real: a console, a staging
# server, `livemig install` and livemigd replicating a loop device.
# - Cutover: the console's heartbeat answers carry "cutover" {requested_at,
#   requested_by}: livemigd makes exactly one consistent point (the scan
#   tracker here: a final sync, whose MARK staging turns into a point) whose
#   time is after requested_at, reports it in the status document, and makes
#   no second one for the same request, neither while the console repeats it
#   nor after a restart; a request while replication is paused fails with
#   the reason and is not retried; a new request makes a new point.
# - Finalize: the console answers 410 "finalized": livemigd logs it once,
#   removes its configuration, credentials and state (what install wrote)
#   and exits 0 at once, and no livemigd is left; `livemig uninstall` then
#   finds nothing installed.
# The console's lifecycle actions (cutover, finalize) are written into its
# database the way the console records them (a lifecycle event under
# CUTTING_OVER; a deregistration whose event names finalized_by): the
# heartbeat's answer is the real console's (src/console/api_status.c).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/install_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/points_lib.sh"
need_root
command -v jq >/dev/null || die "jq is missing (ci/deps.sh test installs it)"

HB=1 # the console's heartbeat interval, s
start_install_servers --heartbeat-interval "${HB}s"
admin create-account acme --licenses 2 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme --max-uses 2 2>/dev/null) || die "create-token"
echo "$TOKEN" >"$T/token"
python3 "$TESTS/make_disk.py" "$T/source.img" 32M --seed 21 >/dev/null
dev=$(make_loop "$T/source.img")
disk=$(basename "$dev")
install --no-prompt --token-file "$T/token" --devices "$disk" --root-disk "$disk" --no-replication
[ "$INSTALL_RC" = 0 ] || die "install failed ($INSTALL_RC): $INSTALL_OUT"
MACHINE=$(sed -n 's/^machine = //p' "$IDIR/livemigd.conf")
[ -n "$MACHINE" ] || die "no machine id in $IDIR/livemigd.conf"
# rounds every 300 ms rather than 5 s: the final sync waits for one
sed -i 's/^\[agent\]$/[agent]\nscan_interval = 300ms\nnice = 0/' "$IDIR/livemigd.conf"

# livemigd in the foreground, as its unit runs it: its exit status is seen
AGENT_SOCK=$ISOCK
agent_up() {
	AGENT_LOG=$T/livemigd.$(date +%s%N).log
	_LIB_LOGS+=("$AGENT_LOG")
	"$BUILD/livemigd" -c "$IDIR/livemigd.conf" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	track_pid "$AGENT_PID"
	for _ in $(seq 300); do
		[ -S "$AGENT_SOCK" ] && lm status >/dev/null 2>&1 && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.2
	done
	cat "$AGENT_LOG" >&2
	die "livemigd did not start"
}

# lc_fixture STATE: the machine's lifecycle as the steps before STATE left
# it (a test and a cutover launch need a launcher: tests/launch covers them)
lc_fixture() {
	# (db_query: SQLite or PostgreSQL; STATE and MACHINE are the test's own words)
	db_query "INSERT INTO machine_lifecycle (machine_ref, state, since) SELECT id, '$1', $(date +%s)
		FROM machines WHERE machine_id = '$MACHINE' ON CONFLICT (machine_ref) DO UPDATE SET
		state = excluded.state, since = excluded.since, cutover_requested_at = NULL,
		cutover_requested_by = NULL, cutover_job = NULL, cutover_agent_state = NULL" ||
		die "writing the lifecycle fixture $1"
}
# cutover: the console's own action (admin lifecycle), from READY_FOR_CUTOVER;
# REQ and BY: its requested_at and requested_by
cutover() {
	local view
	lc_fixture READY_FOR_CUTOVER
	admin lifecycle acme "$MACHINE" cutover >"$T/cutover.out" 2>&1 || die "admin lifecycle cutover: $(cat "$T/cutover.out")"
	view=$(admin lifecycle acme "$MACHINE" show --json) || die "admin lifecycle show"
	[ "$(jq -r .state <<<"$view")" = CUTTING_OVER ] || die "after the cutover action: $view"
	REQ=$(jq -r .cutover.requested_at <<<"$view")
	BY=$(jq -r .cutover.requested_by <<<"$view")
}
# heartbeats the console stored for the machine so far
heartbeats() {
	db_query "SELECT count(*) FROM status_history h JOIN machines m ON m.id = h.machine_ref
		WHERE m.machine_id = '$MACHINE' AND h.doc LIKE '%\"disks\"%'"
}
points_json() {
	if [ -d "$STAGING_STORE/$MACHINE/points" ]; then
		# not through jq: its numbers are doubles, time_ns needs all its digits
		pts list "$MACHINE" --json | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["points"]))'
	else
		echo '[]'
	fi
}

agent_up
wait_status "s['state'] == 'CHANGE_COPY' and s['console']['connected']" 300
before=$(points_json | jq length)
[ "$(status_get "'cutover' in s")" = False ] || die "a cutover before any request: $(lm status --json)"
pass "installed machine $MACHINE replicates (CHANGE_COPY, tracker $(status_get "s['tracker']")), reports to the console; $before point(s) on staging, no cutover in the status"

# --- the console asks for the cutover point ---
cutover
wait_status "s.get('cutover', {}).get('state') in ('done', 'failed')" 300
co=$(lm status --json | jq -c .cutover)
jq -e --argjson at "$REQ" '.requested_at == $at and .state == "done" and .error == "" and
	.consistent_ns >= $at * 1000000000 and .point_id == 0' <<<"$co" >/dev/null ||
	die "the cutover in the status document: $co"
pts_now=$(points_json)
new=$(jq --argjson at "$REQ" '[.[] | select(.time_ns >= $at * 1000000000)]' <<<"$pts_now")
if [ "$(jq length <<<"$pts_now")" != $((before + 1)) ] || [ "$(jq length <<<"$new")" != 1 ]; then
	die "expected exactly one new point after $REQ on staging: $pts_now"
fi
# exact integers (jq's numbers are doubles)
[ "$(lm status --json | python3 -c 'import json, sys
pts, co = json.loads(sys.argv[1]), json.load(sys.stdin)["cutover"]
print([p["time_ns"] for p in pts if p["time_ns"] >= int(sys.argv[2]) * 10**9] == [co["consistent_ns"]])' \
	"$pts_now" "$REQ")" = True ] || die "staging's point time differs from the agent's consistent_ns: $pts_now vs $co"
txt=$(lm status)
grep -q "cutover point: *made, consistent as of .* (asked at " <<<"$txt" || die "livemig status: $txt"
grep -qF "the console asks for the cutover point (requested at $REQ by $BY)" "$AGENT_LOG" ||
	die "no log line for the request: $(cat "$AGENT_LOG")"
pass "cutover point: one new point on staging at $(jq -r '.[0].time' <<<"$new") (origin $(jq -r '.[0].origin' <<<"$new")), after requested_at $REQ; status: $co"

# the console repeats the request with every answer (a lost answer costs
# nothing): several more heartbeats, still one point
hb0=$(heartbeats)
for _ in $(seq 600); do
	[ "$(heartbeats)" -ge $((hb0 + 4)) ] && break
	sleep 0.2
done
[ "$(heartbeats)" -ge $((hb0 + 4)) ] || die "the console stored no more heartbeats ($(heartbeats))"
[ "$(points_json | jq length)" = $((before + 1)) ] || die "a repeated request made another point: $(points_json)"
[ "$(grep -c "the console asks for the cutover point" "$AGENT_LOG")" = 1 ] || die "the request was acted on twice"
[ "$(lm status --json | jq -c .cutover)" = "$co" ] || die "the cutover status changed: $(lm status --json | jq -c .cutover)"
stored=$(db_query "SELECT s.doc FROM status s JOIN machines m ON m.id = s.machine_ref
	WHERE m.machine_id = '$MACHINE'")
[ "$(jq -c .cutover <<<"$stored")" = "$co" ] || die "the console's stored status has no cutover: $stored"
pass "the request repeated in $(($(heartbeats) - hb0)) more answers: no second point; the console's stored status carries the cutover"

# a restart: the request is still repeated, the record in the state directory holds
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || die "livemigd exited $? after SIGTERM"
[ -f "$ISTATE/cutover.json" ] || die "no cutover record in $ISTATE"
agent_up
wait_status "s['console']['connected'] and s.get('cutover', {}).get('state') == 'done'" 120
hb0=$(heartbeats)
for _ in $(seq 600); do
	[ "$(heartbeats)" -ge $((hb0 + 3)) ] && break
	sleep 0.2
done
[ "$(points_json | jq length)" = $((before + 1)) ] || die "a restart made another point: $(points_json)"
grep -q "the console asks for the cutover point" "$AGENT_LOG" && die "the restarted agent acted on the same request"
[ "$(lm status --json | jq -c .cutover)" = "$co" ] || die "after the restart: $(lm status --json | jq -c .cutover)"
pass "after a restart the same request is not acted on again: still one point, the same status"

# a request while an operator paused replication fails, says why, and is
# not retried when the console repeats it: the console returns the machine
# to READY_FOR_CUTOVER and a new cutover brings a new requested_at
lm pause >/dev/null || die "livemig pause failed"
until [ "$(date +%s)" -gt "$REQ" ]; do sleep 0.2; done
cutover
REQ2=$REQ
wait_status "s.get('cutover', {}).get('requested_at') == $REQ2 and s['cutover']['state'] == 'failed'" 120
err=$(status_get "s['cutover']['error']")
grep -q "replication is paused" <<<"$err" || die "the failed cutover's error: $err"
lm resume >/dev/null || die "livemig resume failed"
hb0=$(heartbeats)
for _ in $(seq 600); do
	[ "$(heartbeats)" -ge $((hb0 + 3)) ] && break
	sleep 0.2
done
[ "$(status_get "s['cutover']['state']")" = failed ] || die "a failed request was made again: $(lm status --json | jq -c .cutover)"
[ "$(points_json | jq length)" = $((before + 1)) ] || die "a failed request made a point: $(points_json)"
pass "a request while paused: failed ($err), not retried when repeated after the resume"

# a new request (the console's failed cutover asked again): a new point
until [ "$(date +%s)" -gt "$REQ2" ]; do sleep 0.2; done
cutover
REQ3=$REQ
wait_status "s.get('cutover', {}).get('requested_at') == $REQ3 and s['cutover']['state'] == 'done'" 300
[ "$(points_json | jq --argjson at "$REQ3" '[.[] | select(.time_ns >= $at * 1000000000)] | length')" = 1 ] ||
	die "a new request: expected one point after $REQ3: $(points_json)"
pass "a new requested_at makes one new point: $(lm status --json | jq -c .cutover)"
lc_fixture CUTOVER

# --- finalize: the console deregisters the machine and answers 410 finalized ---
[ "$(machines_in_use acme)" = 1 ] || die "licenses in use before finalize: $(machines_in_use acme)"
# the agent's secret, read now: livemigd removes it as soon as its own
# heartbeat hears the finalize, which may come before this test's
SECRET=$(cat "$IDIR/agent-secret")
admin lifecycle acme "$MACHINE" finalize >"$T/finalize.out" 2>&1 || die "admin lifecycle finalize: $(cat "$T/finalize.out")"
view=$(admin lifecycle acme "$MACHINE" show --json) || die "admin lifecycle show"
[ "$(jq -r .state <<<"$view")" = FINALIZED ] || die "after finalize: $view"
FIN_AT=$(jq -r .finalized.finalized_at <<<"$view")
FIN_BY=$(jq -r .finalized.finalized_by <<<"$view")
out=$(api call POST "/api/v1/machines/$MACHINE/status" --bearer "$SECRET" \
	--json '{"state": "CHANGE_COPY", "disks": []}')
expect_error "the console's answer to a finalized machine's heartbeat" 410 finalized "$out"
[ "$(json_get "$(api_body "$out")" 'd["finalized_by"], d["finalized_at"]')" = "('$FIN_BY', $FIN_AT)" ] ||
	die "410 finalized without who and when: $out"
t0=$SECONDS
rc=0
timeout 120 tail --pid="$AGENT_PID" -f /dev/null || die "livemigd still runs 120 s after the finalize"
wait "$AGENT_PID" || rc=$?
took=$((SECONDS - t0))
[ "$rc" = 0 ] || die "livemigd exited $rc after the finalize: $(cat "$AGENT_LOG")"
grep -qF "the migration was finalized in the console (by $FIN_BY at " "$AGENT_LOG" ||
	die "no finalize line: $(cat "$AGENT_LOG")"
[ "$(grep -c "the migration was finalized in the console" "$AGENT_LOG")" = 1 ] || die "the finalize was logged more than once"
grep -q "finalized: removed $IDIR/livemigd.conf" "$AGENT_LOG" || die "no removal line: $(cat "$AGENT_LOG")"
pass "livemigd exited 0 about ${took} s (heartbeat every ${HB} s) after the finalize; it said: $(grep "finalized" "$AGENT_LOG" | sed -n 1p)"

for f in livemigd.conf agent.key agent.pem staging-ca.pem console-ca.pem agent-secret; do
	[ ! -e "$IDIR/$f" ] || die "$IDIR/$f is left after the finalize"
done
[ ! -e "$IDIR" ] || die "$IDIR is left: $(ls -A "$IDIR")"
if [ -d "$ISTATE" ]; then
	left=$(ls -A "$ISTATE")
	[ -z "$left" ] || die "livemigd's state is left in $ISTATE: $left"
fi
[ ! -e "$AGENT_SOCK" ] || die "the control socket $AGENT_SOCK is left"
for p in /proc/[0-9]*; do
	cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
	case $cmd in *"$IDIR/livemigd.conf"*) die "a process is left: ${p#/proc/} $cmd" ;; esac
done
pass "configuration, key, certificate, CAs, secret, state and socket removed; no livemigd left"

rc=0
st=$(lm status 2>&1) || rc=$?
[ "$rc" != 0 ] || die "livemig status succeeded with no livemigd: $st"
rc=0
un=$(uninstall 2>&1) || rc=$?
[ "$rc" = 11 ] || die "uninstall after the finalize exited $rc: $un"
[ "$(machines_in_use acme)" = 0 ] || die "licenses in use after the finalize: $(machines_in_use acme)"
pass "afterwards: livemig status says: $(sed -n 1p <<<"$st"); uninstall: nothing installed (exit 11); 0 licenses in use"
