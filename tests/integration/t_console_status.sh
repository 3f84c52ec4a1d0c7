#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# Heartbeats: an agent's status document is stored as the latest status and
# in a history bounded by --history; last_seen moves; a machine silent longer
# than --heartbeat-timeout shows as DISCONNECTED and comes back with its next
# heartbeat. Only the machine's own secret may report for it; a deregistered
# machine is told so.
# The test does not wait for the timeout to pass: it moves the machines' last
# heartbeat back in the database, far beyond a timeout no slow run reaches
# between two requests, so the verdicts do not depend on the machine's speed.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

setup_pki
start_console --heartbeat-interval 1s --heartbeat-timeout 10m --history 5
A=$T/agents
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null)
for m in m1 m2; do
	out=$(api register --dir "$A" --machine "$m" --token "$TOKEN")
	[ "$(api_status "$out")" = 201 ] || die "register $m: $out"
done
[ "$(json_get "$(cat "$A/m1.json")" 'd["heartbeat_interval"]')" = 1 ] || die "heartbeat_interval not passed on"
S1=$(cat "$A/m1.secret")
S2=$(cat "$A/m2.secret")
# the console's ids (derived from the account and the identity); m1's sorts first
M1=$(cat "$A/m1.id")
M2=$(cat "$A/m2.id")
[[ $M1 < $M2 ]] || die "the lists below expect $M1 before $M2"
LOGIN=alice@acme:operator-password

status_doc() { # N STATE
	python3 - "$1" "$2" <<'PY'
import json, sys
n, state = int(sys.argv[1]), sys.argv[2]
print(json.dumps({
    "version": "0.1.0", "machine": "m1", "state": state, "reason": "", "tracker": "scan",
    "paused": False, "staging": {"address": "127.0.0.1:7450", "connected": True, "last_error": ""},
    "throughput_bps": 1000.0 * n, "sent_bytes": n << 20, "wire_bytes": n << 19, "rounds": 0,
    "last_consistent_ns": 0, "lag_seconds": 1.5, "seq": n,
    "disks": [{"name": "vda", "path": "/dev/vda", "size": 100 << 20, "state": state,
               "bytes_done": n << 20, "bytes_total": 100 << 20, "percent": float(n),
               "backlog_bytes": 4096, "throughput_bps": 1000.0 * n, "eta_seconds": 100.0 - n}]}))
PY
}

# --- eight heartbeats; five are kept ---
for n in 1 2 3 4 5 6 7 8; do
	out=$(api call POST "/api/v1/machines/$M1/status" --bearer "$S1" --json "$(status_doc $n INITIAL_MIRROR)")
	[ "$(api_status "$out")" = 200 ] || die "heartbeat $n: $out"
done
detail=$(api_body "$(api call GET "/api/v1/machines/$M1?history=50" --basic "$LOGIN")")
[ "$(json_get "$detail" 'd["status"]["seq"]')" = 8 ] || die "latest status is not the 8th: $detail"
[ "$(json_get "$detail" '[h["status"]["seq"] for h in d["history"]]')" = "[8, 7, 6, 5, 4]" ] ||
	die "history is not the last 5, newest first: $(json_get "$detail" '[h["status"]["seq"] for h in d["history"]]')"
[ "$(db_query "SELECT COUNT(*) FROM status_history")" = 5 ] || die "status_history holds more than 5 rows"
[ "$(json_get "$detail" '(d["state"], d["progress"]["bytes_done"], d["progress"]["bytes_total"], d["progress"]["percent"], d["progress"]["eta_seconds"])')" = \
	"('INITIAL_MIRROR', 8388608, 104857600, 8.0, 92.0)" ] || die "progress summary: $detail"
[ "$(json_get "$detail" 'd["inventory"]["os"]["pretty_name"]')" = "Debian GNU/Linux 12 (bookworm)" ] || die "inventory"
pass "status stored: latest is the 8th, history holds the last 5, progress summarized"

# --- who may report ---
expect_error "no secret" 401 auth_required "$(api call POST "/api/v1/machines/$M1/status" --json "$(status_doc 9 CHANGE_COPY)")"
expect_error "m2's secret for m1" 403 wrong_machine \
	"$(api call POST "/api/v1/machines/$M1/status" --bearer "$S2" --json "$(status_doc 9 CHANGE_COPY)")"
expect_error "an unknown secret" 401 bad_agent_secret \
	"$(api call POST "/api/v1/machines/$M1/status" --bearer "lma_$(printf '0%.0s' $(seq 64))" --json "$(status_doc 9 CHANGE_COPY)")"
expect_error "a state that is no state" 400 malformed \
	"$(api call POST "/api/v1/machines/$M1/status" --bearer "$S1" --json '{"state":"<script>"}')"
expect_error "an operator login is not an agent" 401 auth_required \
	"$(api call POST "/api/v1/machines/$M1/status" --basic "$LOGIN" --json "$(status_doc 9 CHANGE_COPY)")"

# --- DISCONNECTED after the timeout, back with the next heartbeat ---
api call POST "/api/v1/machines/$M1/status" --bearer "$S1" --json "$(status_doc 8 INITIAL_MIRROR)" >/dev/null
api call POST "/api/v1/machines/$M2/status" --bearer "$S2" --json "$(status_doc 1 CHANGE_COPY)" >/dev/null
list=$(api_body "$(api call GET /api/v1/machines --basic "$LOGIN")")
[ "$(json_get "$list" '[m["state"] for m in d["machines"]]')" = "['INITIAL_MIRROR', 'CHANGE_COPY']" ] ||
	die "states before the timeout: $list"
# both fell silent 11 minutes ago: one minute past the timeout
db_query "UPDATE machines SET last_seen = last_seen - 660" ||
	die "moving last_seen back"
list=$(api_body "$(api call GET /api/v1/machines --basic "$LOGIN")")
[ "$(json_get "$list" '[m["state"] for m in d["machines"]]')" = "['DISCONNECTED', 'DISCONNECTED']" ] ||
	die "states after the timeout: $list"
[ "$(json_get "$list" 'd["machines"][0]["reported_state"]')" = INITIAL_MIRROR ] || die "reported_state lost"
reason=$(json_get "$list" 'd["machines"][0]["disconnected_reason"]')
[[ $reason =~ ^no\ heartbeat\ for\ 6[6-9][0-9]\ s\ \(timeout\ 600\ s\)$ ]] || die "no reason given: $reason"
machines=$(admin list-machines acme --heartbeat-timeout 10m)
grep -q "^$M1 .* DISCONNECTED " <<<"$machines" || die "admin list-machines does not say DISCONNECTED: $machines"
machines=$(admin list-machines acme --heartbeat-timeout 1h)
grep -q "^$M1 .* INITIAL_MIRROR " <<<"$machines" || die "admin list-machines ignores its --heartbeat-timeout: $machines"
pass "silent longer than --heartbeat-timeout: DISCONNECTED"
api call POST "/api/v1/machines/$M1/status" --bearer "$S1" --json "$(status_doc 9 CHANGE_COPY)" >/dev/null
list=$(api_body "$(api call GET /api/v1/machines --basic "$LOGIN")")
[ "$(json_get "$list" '[m["state"] for m in d["machines"]]')" = "['CHANGE_COPY', 'DISCONNECTED']" ] ||
	die "m1 did not come back: $list"
pass "the next heartbeat brings the machine back"

# --- a deregistered machine ---
api call DELETE "/api/v1/machines/$M2" --bearer "$S2" >/dev/null
expect_error "heartbeat after deregistration" 410 deregistered \
	"$(api call POST "/api/v1/machines/$M2/status" --bearer "$S2" --json "$(status_doc 2 CHANGE_COPY)")"
list=$(api_body "$(api call GET /api/v1/machines --basic "$LOGIN")")
[ "$(json_get "$list" '[m["machine_id"] for m in d["machines"]]')" = "['$M1']" ] || die "m2 still listed: $list"
detail=$(api_body "$(api call GET "/api/v1/machines/$M2" --basic "$LOGIN")")
[ "$(json_get "$detail" 'd["state"]')" = DEREGISTERED ] || die "m2's detail: $detail"
pass "a deregistered machine leaves the list, keeps its record, and may not report"

# a re-registration issues a new secret; the old one stops working
out=$(api register --dir "$A" --machine m1 --token "$TOKEN" --agent-secret "$S1")
[ "$(api_status "$out")" = 200 ] || die "re-register m1: $out"
expect_error "the secret from before re-registration" 401 bad_agent_secret \
	"$(api call POST "/api/v1/machines/$M1/status" --bearer "$S1" --json "$(status_doc 10 CHANGE_COPY)")"
out=$(api call POST "/api/v1/machines/$M1/status" --bearer "$(cat "$A/m1.secret")" --json "$(status_doc 10 CHANGE_COPY)")
[ "$(api_status "$out")" = 200 ] || die "new secret: $out"
pass "re-registration replaces the agent secret"

stop_console
