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

audit() { # QUERY [LOGIN]: GET /api/v1/audit?QUERY, the body (200 required)
	local out
	out=$(api call GET "/api/v1/audit?$1" --basic "${2:-$ALICE}")
	[ "$(api_status "$out")" = 200 ] || die "GET /api/v1/audit?$1: $out"
	api_body "$out"
}
# the newest record of QUERY in $REC: "actor|role|from|action|machine_id|target"
# (None where null); its time in $AT, its detail (JSON) in $DETAIL
newest() { # QUERY [LOGIN]
	local j out
	j=$(audit "$1&limit=1" "${2:-}")
	out=$(json_get "$j" '"\n".join([str(d["records"][0]["at"]), json.dumps(d["records"][0]["detail"], sort_keys=True), "|".join(str(d["records"][0][k]) for k in ("actor", "role", "from", "action", "machine_id", "target"))]) if len(d["records"]) == 1 else ""')
	[ -n "$out" ] || die "no record for $1: $j"
	{ read -r AT; read -r DETAIL; read -r REC; } <<<"$out"
}
# expect QUERY WANT T0 WHAT: the newest record of QUERY is WANT, made
# between T0 and now
expect() {
	local t1
	newest "$1"
	t1=$(date +%s)
	[ "$REC" = "$2" ] || die "$4: record $REC, expected $2"
	[ "$AT" -ge "$3" ] && [ "$AT" -le "$t1" ] || die "$4: at $AT, not within $3..$t1"
	pass "$4: $REC at $AT $DETAIL"
}
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
count() { # [QUERY] [LOGIN]: how many records
	json_get "$(audit "limit=500&${1:-}" "${2:-}")" 'len(d["records"])'
}
detail_is() { # PYTHON_EXPR_ON_d WHAT: about $DETAIL
	[ "$(json_get "$DETAIL" "$1")" = True ] || die "$2: detail $DETAIL"
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
expect "action=account.create" "$ADMIN_ACTOR|None|local|account.create|None|account acme" "$t0" "admin create-account"
detail_is 'd == {"licenses": 5}' "create-account"
expect "action=account.set-licenses" "$ADMIN_ACTOR|None|local|account.set-licenses|None|account acme" "$t0" "admin set-licenses"
detail_is 'd == {"licenses": 4, "licenses_before": 5}' "set-licenses"
expect "action=user.create&actor=$(urlq "$ADMIN_ACTOR")" "$ADMIN_ACTOR|None|local|user.create|None|user vic@acme" "$t0" "admin create-user"
detail_is 'd == {"role": "viewer"}' "create-user"
expect "action=token.create" "$ADMIN_ACTOR|None|local|token.create|None|token 1" "$t0" "admin create-token"
detail_is 'd["label"] == "fleet" and d["max_uses"] == 9 and d["token"] == 1' "create-token"
out=$(admin audit --console --json) || die "admin audit --console"
[ "$(json_get "$out" '[(r["action"], r["target"], r["actor"], r["from"]) for r in d["records"]]')" = \
	"[('staging.add', 'staging standin', '$ADMIN_ACTOR', 'local')]" ] || die "console-wide records: $out"
pass "admin add-staging: a console-wide record (admin audit --console), in no account's log"
[ "$(count "" "$BOB")" = 2 ] || die "account other sees: $(audit "" "$BOB")"
pass "account other's log holds only its own create-account and create-user"

# --- agents: registration, by the credential they present ---
mkdir -p "$A"
t0=$(date +%s)
out=$(api register --dir "$A" --machine m1 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m1: $out"
chmod 600 "$A/m1.secret"
M1=$(cat "$A/m1.id")
expect "action=machine.register&machine=$M1" "agent $M1|None|127.0.0.1|machine.register|$M1|None" "$t0" "registration with a token"
detail_is 'd["credential"] == "token 1" and d["hostname"] == "m1.example" and d["reused"] is False and d["identity_value"] == "i-m1"' "token registration"
out=$(api --source "$OTHER_IP" register --dir "$A" --machine m2 --user alice --password operator-password --account acme)
[ "$(api_status "$out")" = 201 ] || die "register m2: $out"
M2=$(cat "$A/m2.id")
expect "action=machine.register&machine=$M2" "agent $M2|None|$OTHER_IP|machine.register|$M2|None" "$t0" "registration with a password, from $OTHER_IP"
detail_is 'd["credential"] == "password of alice@acme"' "password registration"

# --- an operator through the API (basic auth), from the other address ---
op() { # METHOD PATH [JSON] [LOGIN]: the answer, from $OTHER_IP
	if [ -n "${3:-}" ]; then
		api --source "$OTHER_IP" call "$1" "$2" --json "$3" --basic "${4:-$ALICE}"
	else
		api --source "$OTHER_IP" call "$1" "$2" --basic "${4:-$ALICE}"
	fi
}
t0=$(date +%s)
out=$(op POST "/api/v1/machines/$M1/replication" '{"state": "paused"}')
[ "$(api_status "$out")" = 202 ] || die "pause: $out"
expect "action=machine.pause" "alice@acme|operator|$OTHER_IP|machine.pause|$M1|None" "$t0" "pause"
out=$(op POST "/api/v1/machines/$M1/replication" '{"state": "running"}')
[ "$(api_status "$out")" = 202 ] || die "resume: $out"
expect "action=machine.resume" "alice@acme|operator|$OTHER_IP|machine.resume|$M1|None" "$t0" "resume"
out=$(op POST /api/v1/tokens '{"label": "one-off", "max_uses": 1}')
[ "$(api_status "$out")" = 201 ] || die "token create: $out"
tid=$(json_get "$(api_body "$out")" 'd["id"]')
secret=$(json_get "$(api_body "$out")" 'd["token"]')
expect "action=token.create" "alice@acme|operator|$OTHER_IP|token.create|None|token $tid" "$t0" "token created through the API"
detail_is "d == {'token': $tid, 'label': 'one-off', 'max_uses': 1, 'expires_at': None}" "token.create"
out=$(op DELETE "/api/v1/tokens/$tid")
[ "$(api_status "$out")" = 200 ] || die "token revoke: $out"
expect "action=token.revoke" "alice@acme|operator|$OTHER_IP|token.revoke|None|token $tid" "$t0" "token revoked through the API"
out=$(op POST "/api/v1/machines/$M1/jobs" '{"kind": "refresh-points"}')
[ "$(api_status "$out")" = 201 ] || die "job: $out"
job=$(json_get "$(api_body "$out")" 'd["id"]')
expect "action=job.create" "alice@acme|operator|$OTHER_IP|job.create|$M1|None" "$t0" "a staging job asked"
detail_is "d == {'job': $job, 'kind': 'refresh-points'}" "job.create"
grep -Fq "$secret" "$CONSOLE_DB" "$CONSOLE_DB-wal" && die "the token's secret is in the database"
pass "the audit log holds no token secret"

# --- refused changes leave no record ---
before=$(count)
out=$(op POST "/api/v1/machines/$M1/lifecycle" '{"action": "test"}' "$VIC")
expect_error "a viewer's lifecycle action" 403 forbidden "$out"
out=$(op POST "/api/v1/machines/$M1/lifecycle" '{"action": "mark-ready"}')
expect_error "mark-ready in READY_FOR_TEST" 409 conflict "$out"
out=$(op DELETE "/api/v1/tokens/$tid")
expect_error "revoking a revoked token" 409 already_revoked "$out"
out=$(op DELETE "/api/v1/machines/$M1" "" "$BOB")
expect_error "another account's removal" 404 no_such_machine "$out"
out=$(op POST "/api/v1/machines/$M1/replication" '{"state": "paused"}' "alice@acme:wrong-password")
expect_error "a wrong password" 401 bad_credentials "$out"
out=$(api register --dir "$A" --machine m9 --token "$secret")
expect_error "a revoked token's registration" 403 token_revoked "$out"
[ "$(count)" = "$before" ] || die "refused changes wrote records: $before -> $(count)"
pass "six refused changes: still $before records"

# --- the launch lifecycle: an operator's test launch, the admin's revert ---
now_ns() { date +%s%N; }
printf '[{"id": 1000, "time": "t", "time_ns": %s, "origin": "requested", "consistency": "filesystem", "pinned": false}]\n' \
	"$(now_ns)" >"$T/standin.points"
: >"$T/standin.jobs"
python3 "$TESTS/staging_launcher_standin.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" \
	--secret "$T/standin.secret" --machine "$M1" --points "$T/standin.points" \
	--jobs-log "$T/standin.jobs" >"$T/standin.log" 2>&1 &
track_pid $!
_LIB_LOGS+=("$T/standin.log")
for _ in $(seq 300); do
	pts=$(api_body "$(api call GET "/api/v1/machines/$M1/points" --basic "$ALICE")")
	[ "$(json_get "$pts" 'len(d["points"])')" = 1 ] && break
	sleep 0.2
done
[ "$(json_get "$pts" 'len(d["points"])')" = 1 ] || die "the stand-in's point never arrived: $pts"
t0=$(date +%s)
out=$(op POST "/api/v1/machines/$M1/lifecycle" '{"action": "test", "point": 1000, "cpus": 2}')
[ "$(api_status "$out")" = 202 ] || die "test launch: $out"
job=$(json_get "$(api_body "$out")" 'd["job"]["id"]')
expect "action=lifecycle.test" "alice@acme|operator|$OTHER_IP|lifecycle.test|$M1|None" "$t0" "a test launch"
detail_is "d == {'from': 'READY_FOR_TEST', 'to': 'TESTING', 'job': $job, 'point': 1000, 'cpus': 2}" "lifecycle.test"
admin lifecycle acme "$M1" revert >/dev/null || die "admin lifecycle revert"
expect "action=lifecycle.revert" "$ADMIN_ACTOR|None|local|lifecycle.revert|$M1|None" "$t0" "the admin command's revert"
detail_is 'd["from"] == "TESTING" and d["to"] == "READY_FOR_TEST"' "lifecycle.revert"
[ "$(count "action=lifecycle.")" = 2 ] || die "action=lifecycle. (a family): $(audit "action=lifecycle.")"
pass "action=lifecycle. selects the family: 2 records"

# --- the page's session: sign-in, a pause with the CSRF token, sign-out ---
t0=$(date +%s)
python3 - "$CONSOLE_PORT" "$SERVER_CA" "$M1" "$OTHER_IP" >"$T/session.out" 2>&1 <<-'PY' || die "the session: $(cat "$T/session.out")"
	import http.client, json, ssl, sys
	port, ca, machine, source = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
	def call(method, path, body=None, headers=None):
	    c = http.client.HTTPSConnection("127.0.0.1", port, source_address=(source, 0),
	                                    context=ssl.create_default_context(cafile=ca))
	    h = {"Content-Type": "application/json", "X-Requested-With": "fetch"}
	    h.update(headers or {})
	    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
	    r = c.getresponse()
	    return r.status, r.getheader("Set-Cookie"), json.loads(r.read() or b"null")
	st, cookie, s = call("POST", "/api/v1/session", {"account": "acme", "user": "vic", "password": "viewer-password"})
	assert st == 200, (st, s)
	cookie = cookie.split(";")[0]
	st, _, body = call("POST", "/api/v1/machines/%s/replication" % machine, {"state": "paused"}, {"Cookie": cookie})
	assert st == 403 and body["code"] == "csrf_required", (st, body)
	st, _, body = call("POST", "/api/v1/machines/%s/replication" % machine, {"state": "paused"},
	                   {"Cookie": cookie, "X-CSRF-Token": s["csrf_token"]})
	assert st == 202, (st, body)
	st, _, body = call("GET", "/api/v1/machines/%s/audit?limit=1" % machine, None, {"Cookie": cookie})
	assert st == 200 and body["records"][0]["action"] == "machine.pause", (st, body)
	st, _, body = call("DELETE", "/api/v1/session", None, {"Cookie": cookie, "X-CSRF-Token": s["csrf_token"]})
	assert st == 200, (st, body)
	print("session: signed in, paused, read the machine's audit, signed out")
PY
j=$(audit "actor=vic@acme")
[ "$(json_get "$j" '[(r["action"], r["role"], r["from"], r["machine_id"]) for r in d["records"]]')" = \
	"[('session.sign-out', 'viewer', '$OTHER_IP', None), ('machine.pause', 'viewer', '$OTHER_IP', '$M1'), ('session.sign-in', 'viewer', '$OTHER_IP', None)]" ] ||
	die "the session's records: $j"
pass "the page's session: sign-in, pause (the CSRF-less one refused, not recorded), sign-out; a viewer reads the machine's log"

# --- removal: an operator's, the agent's own deregistration, the admin's ---
t0=$(date +%s)
out=$(op DELETE "/api/v1/machines/$M2")
[ "$(api_status "$out")" = 200 ] || die "remove m2: $out"
expect "action=machine.remove" "alice@acme|operator|$OTHER_IP|machine.remove|$M2|None" "$t0" "an operator's removal"
detail_is 'd == {"licenses_in_use": 1}' "machine.remove"
out=$(op DELETE "/api/v1/machines/$M2")
[ "$(api_status "$out")" = 200 ] || die "remove m2 again: $out"
[ "$(count "action=machine.remove")" = 1 ] || die "a second removal (no change) was recorded"
out=$(api call DELETE "/api/v1/machines/$M1" --bearer "$(cat "$A/m1.secret")")
[ "$(api_status "$out")" = 200 ] || die "deregister m1: $out"
expect "action=machine.deregister" "agent $M1|None|127.0.0.1|machine.deregister|$M1|None" "$t0" "the agent's own deregistration"
out=$(api call DELETE "/api/v1/machines/$M1" --bearer "$(cat "$A/m1.secret")")
[ "$(api_status "$out")" = 200 ] || die "deregister m1 again: $out"
[ "$(count "action=machine.deregister")" = 1 ] || die "a repeated deregistration was recorded"
out=$(api register --dir "$A" --machine m3 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register m3: $out"
M3=$(cat "$A/m3.id")
admin remove-machine acme "$M3" --yes >/dev/null || die "admin remove-machine"
expect "action=machine.remove&machine=$M3" "$ADMIN_ACTOR|None|local|machine.remove|$M3|None" "$t0" "the admin command's removal"

# --- the API's filters, cursor and isolation ---
total=$(count)
by_machine=$(audit "machine=$M1&limit=500")
per_machine=$(api_body "$(api call GET "/api/v1/machines/$M1/audit?limit=500" --basic "$ALICE")")
[ "$(json_get "$by_machine" 'd["records"]')" = "$(json_get "$per_machine" 'd["records"]')" ] ||
	die "?machine= and /machines/ID/audit differ"
json_get "$by_machine" '[r["action"] for r in d["records"]]' >"$T/m1.actions"
[ "$(json_get "$by_machine" 'all(r["machine_id"] == "'"$M1"'" for r in d["records"])')" = True ] ||
	die "?machine=M1 holds another machine's records: $by_machine"
[ "$(json_get "$by_machine" '[r["action"] for r in d["records"]]')" = \
	"['machine.deregister', 'machine.pause', 'lifecycle.revert', 'lifecycle.test', 'job.create', 'machine.resume', 'machine.pause', 'machine.register']" ] ||
	die "machine m1's records, newest first: $(cat "$T/m1.actions")"
pass "machine m1's log, newest first: $(cat "$T/m1.actions")"
[ "$(json_get "$(audit "actor=alice@acme&limit=500")" 'set(r["actor"] for r in d["records"]) == {"alice@acme"} and len(d["records"])')" = 7 ] ||
	die "actor=alice@acme: $(audit "actor=alice@acme")"
ids=$(json_get "$(audit "limit=500")" '[r["id"] for r in d["records"]]')
[ "$(json_get "$(audit "limit=500")" '[r["id"] for r in d["records"]] == sorted((r["id"] for r in d["records"]), reverse=True)')" = True ] ||
	die "not newest first: $ids"
walked=0 cursor="" pages=0
while :; do
	page=$(audit "limit=3${cursor:+&cursor=$cursor}")
	walked=$((walked + $(json_get "$page" 'len(d["records"])')))
	pages=$((pages + 1))
	cursor=$(json_get "$page" 'd["next_cursor"] or ""')
	[ -n "$cursor" ] || break
done
[ "$walked" = "$total" ] || die "the cursor walked $walked of $total records"
pass "limit=3 and the cursor walk all $total records in $pages pages; actor= and machine= filter"
first_at=$(json_get "$(audit "limit=500")" 'd["records"][-1]["at"]')
last_at=$(json_get "$(audit "limit=1")" 'd["records"][0]["at"]')
[ "$(count "since=$((last_at + 1))")" = 0 ] || die "since after the newest: $(audit "since=$((last_at + 1))")"
[ "$(count "until=$first_at")" = 0 ] || die "until the oldest: $(audit "until=$first_at")"
[ "$(count "since=$first_at&until=$((last_at + 1))")" = "$total" ] || die "since..until covering all"
pass "since (inclusive) and until (exclusive) bound by time"
out=$(api call GET "/api/v1/machines/$M1/audit" --basic "$BOB")
expect_error "another account's machine's log" 404 no_such_machine "$out"
out=$(api call GET "/api/v1/audit?machine=$M1" --basic "$BOB")
expect_error "?machine= of another account's machine" 404 no_such_machine "$out"
[ "$(json_get "$(audit "limit=500" "$BOB")" '[r["action"] for r in d["records"]]')" = "['user.create', 'account.create']" ] ||
	die "account other's log: $(audit "" "$BOB")"
pass "account other sees only its own records"
[ "$(count "" "$VIC")" = "$total" ] || die "the viewer's log differs"
pass "a viewer reads the whole log"
out=$(api call GET "/api/v1/audit?limit=501" --basic "$ALICE")
expect_error "limit=501" 400 malformed "$out"
out=$(api call GET "/api/v1/audit?since=yesterday" --basic "$ALICE")
expect_error "since=yesterday" 400 malformed "$out"
out=$(api call GET "/api/v1/audit")
expect_error "no credentials" 401 auth_required "$out"

# --- admin audit prints the same records ---
adm=$(admin audit acme --machine "$M1" --json --limit 500) || die "admin audit --json"
[ "$(json_get "$adm" 'd["records"]')" = "$(json_get "$by_machine" 'd["records"]')" ] ||
	die "admin audit --json differs from the API: $adm"
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
[ "$(count)" = 5 ] || die "after --audit-keep 5: $(count) records"
[ "$(count "" "$BOB")" = 2 ] || die "account other lost records to acme's pruning"
out=$(op POST "/api/v1/machines/$M1/jobs" '{"kind": "refresh-points"}')
[ "$(api_status "$out")" = 201 ] || die "job: $out"
[ "$(count)" = 5 ] || die "after one more record with --audit-keep 5: $(count)"
newest ""
[ "$(cut -d'|' -f4 <<<"$REC")" = job.create ] || die "the newest record was pruned: $REC"
pass "--audit-keep 5: $((total - 5)) records pruned at start, the oldest with each new record; account other's kept"
stop_console
newest_at=$(json_get "$(admin audit acme --json --limit 1)" 'd["records"][0]["at"]')
while [ "$(date +%s)" -le $((newest_at + 1)) ]; do sleep 0.2; done
start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s --audit-max-age 1s
[ "$(count)" = 0 ] || die "--audit-max-age 1s kept: $(audit "")"
[ "$(json_get "$(admin audit --console --json)" 'len(d["records"])')" = 0 ] || die "console-wide records kept"
pass "--audit-max-age 1s: every record older than a second is gone at start"
out=$("$BUILD/livemig-console" serve --audit-keep 0 2>&1) && die "serve --audit-keep 0 started"
grep -q "audit-keep '0' must be 1 to" <<<"$out" || die "--audit-keep 0: $out"
stop_console
