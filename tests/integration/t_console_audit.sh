#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console takes the program's options, not the script's arguments
# The console's audit log (docs/console-api.md, "Audit log"), all real: a
# console, the admin command and the API driven as operators, agents and
# the page's session would, from two loopback addresses. Each change leaves
# one record with who (USER@ACCOUNT and role, `livemig-console admin (USER)`,
# `agent ID`), what (the action, its machine or target, its detail), when
# (between the clock before and after the call) and from where (the
# client's address, `local` for the admin command); a refused change leaves
# none; GET /api/v1/audit and …/machines/ID/audit filter by machine, actor,
# action and time and page with a cursor, each account seeing only its own;
# a viewer reads; `admin audit` prints the same; serve's --audit-keep and
# --audit-max-age prune at start and with each record.
# A launch that comes up needs staging's launcher kinds: the test launch's
# end comes from staging_launcher_standin.py (the documented sync protocol).
# The calls are curl and the checks jq: a python3 start costs seconds on a
# busy machine, and this test makes about two hundred of them.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

ALICE=alice@acme:operator-password # operator
VIC=vic@acme:viewer-password       # viewer
BOB=bob@other:other-password       # another account's admin
A=$T/agents
ADMIN_ACTOR="livemig-console admin ($(id -un))"
OTHER_IP=127.0.0.2 # a second loopback address: "from where" is the peer's

setup_pki
CONSOLE_PORT_FIXED=$(free_port)
start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s

# call METHOD PATH [JSON] [LOGIN] [SOURCE]: the status in $STATUS, the body
# in $BODY. LOGIN: basic auth (default alice), "-" none, or "bearer:SECRET".
call() {
	local args=(-sS --cacert "$SERVER_CA" -X "$1" -o "$T/body" -w '%{http_code}'
		-H 'X-Requested-With: test')
	case ${4:-$ALICE} in
	-) ;;
	bearer:*) args+=(-H "Authorization: Bearer ${4#bearer:}") ;;
	*) args+=(-u "${4:-$ALICE}") ;;
	esac
	[ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
	[ -n "${5:-}" ] && args+=(--interface "$5")
	STATUS=$(curl "${args[@]}" "https://127.0.0.1:$CONSOLE_PORT$2") || die "curl $1 $2 failed"
	BODY=$(cat "$T/body")
}
op() { call "$1" "$2" "${3:-}" "${4:-$ALICE}" "$OTHER_IP"; } # from the other address
want() { # STATUS [CODE] WHAT: the last call's answer
	local code
	code=$(jq -r '.code // ""' <<<"$BODY")
	[ "$STATUS" = "$1" ] && [ "$code" = "${2:-}" ] || die "$3: expected $1 ${2:-}, got $STATUS $BODY"
	[ -z "${2:-}" ] || pass "$3: $1 $2: $(jq -r .error <<<"$BODY")"
}
audit() { # QUERY [LOGIN]: GET /api/v1/audit?QUERY into $BODY (200 required)
	call GET "/api/v1/audit?$1" "" "${2:-$ALICE}"
	[ "$STATUS" = 200 ] || die "GET /api/v1/audit?$1: $STATUS $BODY"
}
q() { jq -r "$1" <<<"$BODY"; } # a jq filter on the last answer
# how many records (in a subshell: $BODY is not kept)
count() { audit "limit=500&${1:-}" "${2:-}"; q '.records | length'; }
urlq() { jq -rn --arg s "$1" '$s | @uri'; }
# expect QUERY WANT T0 WHAT: the newest record of QUERY is WANT
# ("actor|role|from|action|machine_id|target", null as "null"), made between
# T0 and now; its detail in $DETAIL
expect() {
	local rec at t1
	audit "$1&limit=1"
	t1=$(date +%s)
	[ "$(q '.records | length')" = 1 ] || die "$4: no record for $1: $BODY"
	rec=$(q '.records[0] | [.actor, .role, .from, .action, .machine_id, .target] | map(tostring) | join("|")')
	at=$(q '.records[0].at')
	DETAIL=$(q '.records[0].detail | tojson')
	[ "$rec" = "$2" ] || die "$4: record $rec, expected $2"
	[ "$at" -ge "$3" ] && [ "$at" -le "$t1" ] || die "$4: at $at, not within $3..$t1"
	pass "$4: $rec at $at $DETAIL"
}
detail_is() { # JQ_CONDITION WHAT: about $DETAIL
	[ "$(jq "$1" <<<"$DETAIL")" = true ] || die "$2: detail $DETAIL"
}

# --- the admin command: who is the Unix user, from where is local ---
t0=$(date +%s)
admin create-account acme --licenses 5 >/dev/null || die "create-account acme"
admin create-account other --licenses 1 >/dev/null || die "create-account other"
admin set-licenses acme 4 >/dev/null || die "set-licenses"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user alice"
echo 'viewer-password' | admin create-user acme vic --role viewer >/dev/null || die "create-user vic"
echo 'other-password' | admin create-user other bob >/dev/null || die "create-user bob"
TOKEN=$(admin create-token acme --label fleet --max-uses 9 2>/dev/null) || die "create-token"
admin add-staging standin >"$T/standin.secret" 2>/dev/null || die "add-staging standin"
chmod 600 "$T/standin.secret"
expect "action=account.create" "$ADMIN_ACTOR|null|local|account.create|null|account acme" "$t0" "admin create-account"
detail_is '. == {"licenses": 5}' "create-account"
expect "action=account.set-licenses" "$ADMIN_ACTOR|null|local|account.set-licenses|null|account acme" "$t0" "admin set-licenses"
detail_is '. == {"licenses": 4, "licenses_before": 5}' "set-licenses"
expect "action=user.create&actor=$(urlq "$ADMIN_ACTOR")" "$ADMIN_ACTOR|null|local|user.create|null|user vic@acme" "$t0" "admin create-user"
detail_is '. == {"role": "viewer"}' "create-user"
expect "action=token.create" "$ADMIN_ACTOR|null|local|token.create|null|token 1" "$t0" "admin create-token"
detail_is '. == {"token": 1, "label": "fleet", "max_uses": 9, "expires_at": null}' "create-token"
BODY=$(admin audit --console --json) || die "admin audit --console"
[ "$(q '[.records[] | [.action, .target, .actor, .from] | join("|")] | join(",")')" = \
	"staging.add|staging standin|$ADMIN_ACTOR|local" ] || die "console-wide records: $BODY"
pass "admin add-staging: a console-wide record (admin audit --console), in no account's log"
[ "$(count "" "$BOB")" = 2 ] || die "account other sees: $BODY"
pass "account other's log holds only its own create-account and create-user"

# --- agents: registration, by the credential they present ---
mkdir -p "$A"
t0=$(date +%s)
out=$(api register --dir "$A" --machine m1 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m1: $out"
chmod 600 "$A/m1.secret"
M1=$(cat "$A/m1.id")
expect "action=machine.register&machine=$M1" "agent $M1|null|127.0.0.1|machine.register|$M1|null" "$t0" "registration with a token"
detail_is '.credential == "token 1" and .hostname == "m1.example" and .reused == false and .identity_value == "i-m1"' "token registration"
out=$(api --source "$OTHER_IP" register --dir "$A" --machine m2 --user alice --password operator-password --account acme)
[ "$(api_status "$out")" = 201 ] || die "register m2: $out"
M2=$(cat "$A/m2.id")
expect "action=machine.register&machine=$M2" "agent $M2|null|$OTHER_IP|machine.register|$M2|null" "$t0" "registration with a password, from $OTHER_IP"
detail_is '.credential == "password of alice@acme"' "password registration"

# --- an operator through the API (basic auth), from the other address ---
t0=$(date +%s)
op POST "/api/v1/machines/$M1/replication" '{"state": "paused"}'
want 202 "" "pause"
expect "action=machine.pause" "alice@acme|operator|$OTHER_IP|machine.pause|$M1|null" "$t0" "pause"
op POST "/api/v1/machines/$M1/replication" '{"state": "running"}'
want 202 "" "resume"
expect "action=machine.resume" "alice@acme|operator|$OTHER_IP|machine.resume|$M1|null" "$t0" "resume"
op POST /api/v1/tokens '{"label": "one-off", "max_uses": 1}'
want 201 "" "token create"
tid=$(q .id)
secret=$(q .token)
expect "action=token.create" "alice@acme|operator|$OTHER_IP|token.create|null|token $tid" "$t0" "token created through the API"
detail_is ". == {\"token\": $tid, \"label\": \"one-off\", \"max_uses\": 1, \"expires_at\": null}" "token.create"
op DELETE "/api/v1/tokens/$tid"
want 200 "" "token revoke"
expect "action=token.revoke" "alice@acme|operator|$OTHER_IP|token.revoke|null|token $tid" "$t0" "token revoked through the API"
op POST "/api/v1/machines/$M1/jobs" '{"kind": "refresh-points"}'
want 201 "" "job"
job=$(q .id)
expect "action=job.create" "alice@acme|operator|$OTHER_IP|job.create|$M1|null" "$t0" "a staging job asked"
detail_is ". == {\"job\": $job, \"kind\": \"refresh-points\"}" "job.create"
db_dump | has_line -F -- "$secret" && die "the token's secret is in the database"
pass "the audit log holds no token secret"

# --- refused changes leave no record ---
before=$(count)
op POST "/api/v1/machines/$M1/lifecycle" '{"action": "test"}' "$VIC"
want 403 forbidden "a viewer's lifecycle action"
op POST "/api/v1/machines/$M1/lifecycle" '{"action": "mark-ready"}'
want 409 conflict "mark-ready in READY_FOR_TEST"
op DELETE "/api/v1/tokens/$tid"
want 409 already_revoked "revoking a revoked token"
op DELETE "/api/v1/machines/$M1" "" "$BOB"
want 404 no_such_machine "another account's removal"
op POST "/api/v1/machines/$M1/replication" '{"state": "paused"}' "alice@acme:wrong-password"
want 401 bad_credentials "a wrong password"
out=$(api register --dir "$A" --machine m9 --token "$secret")
expect_error "a revoked token's registration" 403 token_revoked "$out"
[ "$(count)" = "$before" ] || die "refused changes wrote records: $before -> $(count)"
pass "six refused changes: still $before records"

# --- the launch lifecycle: an operator's test launch, the admin's revert ---
printf '[{"id": 1000, "time": "t", "time_ns": %s, "origin": "requested", "consistency": "filesystem", "pinned": false}]\n' \
	"$(date +%s%N)" >"$T/standin.points"
: >"$T/standin.jobs"
python3 "$TESTS/staging_launcher_standin.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" \
	--secret "$T/standin.secret" --machine "$M1" --points "$T/standin.points" \
	--jobs-log "$T/standin.jobs" >"$T/standin.log" 2>&1 &
track_pid $!
_LIB_LOGS+=("$T/standin.log")
for _ in $(seq 600); do
	call GET "/api/v1/machines/$M1/points"
	[ "$(q '.points | length')" = 1 ] && break
	sleep 0.2
done
[ "$(q '.points | length')" = 1 ] || die "the stand-in's point never arrived: $BODY"
t0=$(date +%s)
op POST "/api/v1/machines/$M1/lifecycle" '{"action": "test", "point": 1000, "cpus": 2}'
want 202 "" "test launch"
job=$(q .job.id)
expect "action=lifecycle.test" "alice@acme|operator|$OTHER_IP|lifecycle.test|$M1|null" "$t0" "a test launch"
detail_is ". == {\"from\": \"READY_FOR_TEST\", \"to\": \"TESTING\", \"job\": $job, \"point\": 1000, \"cpus\": 2}" "lifecycle.test"
# a revert waits for the launch to end (409 before): the stand-in runs it
for _ in $(seq 600); do
	call GET "/api/v1/machines/$M1/jobs/$job"
	case $(q .state) in succeeded | failed) break ;; esac
	sleep 0.2
done
case $(q .state) in succeeded | failed) ;; *) die "test launch job $job never ended: $BODY" ;; esac
admin lifecycle acme "$M1" revert >/dev/null || die "admin lifecycle revert"
expect "action=lifecycle.revert" "$ADMIN_ACTOR|null|local|lifecycle.revert|$M1|null" "$t0" "the admin command's revert"
detail_is '.from == "TESTING" and .to == "READY_FOR_TEST"' "lifecycle.revert"
[ "$(count "action=lifecycle.")" = 2 ] || die "action=lifecycle. (a family): $BODY"
pass "action=lifecycle. selects the family: 2 records"

# --- the page's session: sign-in, a pause with the CSRF token, sign-out ---
t0=$(date +%s)
jar=(-sS --cacert "$SERVER_CA" --interface "$OTHER_IP" -b "$T/jar" -c "$T/jar" -H 'Content-Type: application/json')
csrf=$(curl "${jar[@]}" -X POST --data '{"account": "acme", "user": "vic", "password": "viewer-password"}' \
	"https://127.0.0.1:$CONSOLE_PORT/api/v1/session" | jq -r .csrf_token) || die "sign-in"
[ -n "$csrf" ] && [ "$csrf" != null ] || die "sign-in gave no CSRF token"
st=$(curl "${jar[@]}" -o /dev/null -w '%{http_code}' -X POST --data '{"state": "paused"}' \
	"https://127.0.0.1:$CONSOLE_PORT/api/v1/machines/$M1/replication")
[ "$st" = 403 ] || die "a pause without the CSRF token: $st"
st=$(curl "${jar[@]}" -o /dev/null -w '%{http_code}' -X POST -H "X-CSRF-Token: $csrf" --data '{"state": "paused"}' \
	"https://127.0.0.1:$CONSOLE_PORT/api/v1/machines/$M1/replication")
[ "$st" = 202 ] || die "the session's pause: $st"
BODY=$(curl "${jar[@]}" "https://127.0.0.1:$CONSOLE_PORT/api/v1/machines/$M1/audit?limit=1")
[ "$(q '.records[0].action')" = machine.pause ] || die "the session's read of the machine's log: $BODY"
st=$(curl "${jar[@]}" -o /dev/null -w '%{http_code}' -X DELETE -H "X-CSRF-Token: $csrf" \
	"https://127.0.0.1:$CONSOLE_PORT/api/v1/session")
[ "$st" = 200 ] || die "sign-out: $st"
audit "actor=vic@acme"
[ "$(q '[.records[] | [.action, .role, .from, (.machine_id | tostring)] | join("|")] | join(",")')" = \
	"session.sign-out|viewer|$OTHER_IP|null,machine.pause|viewer|$OTHER_IP|$M1,session.sign-in|viewer|$OTHER_IP|null" ] ||
	die "the session's records: $BODY"
pass "the page's session: sign-in, pause (the CSRF-less one refused, not recorded), sign-out; a viewer reads the machine's log"

# --- removal: an operator's, the agent's own deregistration, the admin's ---
t0=$(date +%s)
op DELETE "/api/v1/machines/$M2"
want 200 "" "remove m2"
expect "action=machine.remove" "alice@acme|operator|$OTHER_IP|machine.remove|$M2|null" "$t0" "an operator's removal"
detail_is '. == {"licenses_in_use": 1}' "machine.remove"
op DELETE "/api/v1/machines/$M2"
want 200 "" "remove m2 again"
[ "$(count "action=machine.remove")" = 1 ] || die "a second removal (no change) was recorded"
call DELETE "/api/v1/machines/$M1" "" "bearer:$(cat "$A/m1.secret")"
want 200 "" "deregister m1"
expect "action=machine.deregister" "agent $M1|null|127.0.0.1|machine.deregister|$M1|null" "$t0" "the agent's own deregistration"
call DELETE "/api/v1/machines/$M1" "" "bearer:$(cat "$A/m1.secret")"
want 200 "" "deregister m1 again"
[ "$(count "action=machine.deregister")" = 1 ] || die "a repeated deregistration was recorded"
out=$(api register --dir "$A" --machine m3 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m3: $out"
M3=$(cat "$A/m3.id")
admin remove-machine acme "$M3" --yes >/dev/null || die "admin remove-machine"
expect "action=machine.remove&machine=$M3" "$ADMIN_ACTOR|null|local|machine.remove|$M3|null" "$t0" "the admin command's removal"

# --- the API's filters, cursor and isolation ---
total=$(count)
audit "machine=$M1&limit=500"
by_machine=$BODY
call GET "/api/v1/machines/$M1/audit?limit=500"
[ "$(q .records)" = "$(jq .records <<<"$by_machine")" ] || die "?machine= and /machines/ID/audit differ"
BODY=$by_machine
[ "$(q "all(.records[]; .machine_id == \"$M1\")")" = true ] || die "?machine=M1 holds another machine's records: $BODY"
actions=$(q '[.records[].action] | join(" ")')
[ "$actions" = "machine.deregister machine.pause lifecycle.revert lifecycle.test job.create machine.resume machine.pause machine.register" ] ||
	die "machine m1's records, newest first: $actions"
pass "machine m1's log, newest first: $actions"
audit "actor=alice@acme&limit=500"
[ "$(q '[.records[].actor] | unique | join(",")'),$(q '.records | length')" = "alice@acme,7" ] ||
	die "actor=alice@acme: $BODY"
audit "limit=500"
[ "$(q '[.records[].id] == ([.records[].id] | sort | reverse)')" = true ] || die "not newest first: $BODY"
first_at=$(q '.records[-1].at')
last_at=$(q '.records[0].at')
walked=0 cursor="" pages=0
while :; do
	audit "limit=3${cursor:+&cursor=$cursor}"
	walked=$((walked + $(q '.records | length')))
	pages=$((pages + 1))
	cursor=$(q '.next_cursor // ""')
	[ -n "$cursor" ] || break
done
[ "$walked" = "$total" ] || die "the cursor walked $walked of $total records"
pass "limit=3 and the cursor walk all $total records in $pages pages; actor= and machine= filter"
[ "$(count "since=$((last_at + 1))")" = 0 ] || die "since after the newest: $BODY"
[ "$(count "until=$first_at")" = 0 ] || die "until the oldest: $BODY"
[ "$(count "since=$first_at&until=$((last_at + 1))")" = "$total" ] || die "since..until covering all"
pass "since (inclusive) and until (exclusive) bound by time"
call GET "/api/v1/machines/$M1/audit" "" "$BOB"
want 404 no_such_machine "another account's machine's log"
call GET "/api/v1/audit?machine=$M1" "" "$BOB"
want 404 no_such_machine "?machine= of another account's machine"
audit "limit=500" "$BOB"
[ "$(q '[.records[].action] | join(",")')" = "user.create,account.create" ] || die "account other's log: $BODY"
pass "account other sees only its own records"
[ "$(count "" "$VIC")" = "$total" ] || die "the viewer's log differs"
pass "a viewer reads the whole log"
call GET "/api/v1/audit?limit=501"
want 400 malformed "limit=501"
call GET "/api/v1/audit?since=yesterday"
want 400 malformed "since=yesterday"
call GET "/api/v1/audit" "" -
want 401 auth_required "no credentials"

# --- admin audit prints the same records ---
adm=$(admin audit acme --machine "$M1" --json --limit 500) || die "admin audit --json"
[ "$(jq .records <<<"$adm")" = "$(jq .records <<<"$by_machine")" ] || die "admin audit --json differs from the API: $adm"
txt=$(admin audit acme --action machine.pause) || die "admin audit"
grep -q "alice@acme (operator)  *$OTHER_IP  *machine.pause  *machine $M1" <<<"$txt" || die "admin audit text: $txt"
grep -q "vic@acme (viewer)  *$OTHER_IP  *machine.pause" <<<"$txt" || die "admin audit text: $txt"
pass "admin audit: the API's records (--json), and a line per record: $(sed -n 2p <<<"$txt")"
out=$(admin audit acme --machine nope 2>&1) && die "admin audit --machine nope succeeded: $out"
grep -q "account acme has no machine nope" <<<"$out" || die "admin audit --machine nope: $out"

# --- retention: --audit-keep and --audit-max-age prune at start and with each record ---
stop_console
start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s --audit-keep 5
grep -q "audit log: removed $((total - 5)) records" "$CONSOLE_LOG" || die "no pruning at start: $(cat "$CONSOLE_LOG")"
[ "$(count)" = 5 ] || die "after --audit-keep 5: $BODY"
[ "$(count "" "$BOB")" = 2 ] || die "account other lost records to acme's pruning"
op POST "/api/v1/machines/$M1/jobs" '{"kind": "refresh-points"}'
want 201 "" "job"
audit "limit=500"
[ "$(q '.records | length') $(q '.records[0].action')" = "5 job.create" ] ||
	die "after one more record with --audit-keep 5: $BODY"
pass "--audit-keep 5: $((total - 5)) records pruned at start, the oldest with each new record; account other's kept"
stop_console
newest_at=$(admin audit acme --json --limit 1 | jq '.records[0].at')
while [ "$(date +%s)" -le $((newest_at + 1)) ]; do sleep 0.2; done
start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s --audit-max-age 1s
[ "$(count)" = 0 ] || die "--audit-max-age 1s kept: $BODY"
[ "$(admin audit --console --json | jq '.records | length')" = 0 ] || die "console-wide records kept"
pass "--audit-max-age 1s: every record older than a second is gone at start"
out=$("$BUILD/livemig-console" serve --audit-keep 0 2>&1) && die "serve --audit-keep 0 started"
grep -q "audit-keep '0' must be 1 to" <<<"$out" || die "--audit-keep 0: $out"
pass "serve --audit-keep 0 is refused: $out"
stop_console
