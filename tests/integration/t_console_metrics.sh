#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console takes the program's options, not the script's arguments
# GET /metrics on the console: Prometheus' text format as promtool checks it,
# the numbers the API shows (states, licenses, lag, backlog, the newest
# recovery point's age), scoped to the operator's account, never without a
# login.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

command -v promtool >/dev/null || die "promtool is missing (Debian's prometheus package; ci/deps.sh test installs it)"

setup_pki
start_console --heartbeat-interval 1s --heartbeat-timeout 10m
A=$T/agents
admin create-account acme --licenses 5 >/dev/null || die "create-account acme"
admin create-account rival --licenses 1 >/dev/null || die "create-account rival"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user alice"
echo 'rival-password' | admin create-user rival eve >/dev/null || die "create-user eve"
TOKEN=$(admin create-token acme 2>/dev/null)
for m in m1 m2; do
	out=$(api register --dir "$A" --machine "$m" --token "$TOKEN")
	[ "$(api_status "$out")" = 201 ] || die "register $m: $out"
done
M1=$(json_get "$(cat "$A/m1.json")" 'd["machine_id"]')
M2=$(json_get "$(cat "$A/m2.json")" 'd["machine_id"]')

doc=$(python3 -c 'import json; print(json.dumps({
    "version": "0.1.0", "state": "CHANGE_COPY", "reason": "", "tracker": "scan", "paused": False,
    "staging": {"address": "127.0.0.1:7450", "connected": True, "last_error": ""},
    "throughput_bps": 5000.0, "lag_seconds": 2.5, "seq": 1,
    "disks": [{"name": "vda", "size": 104857600, "state": "CHANGE_COPY", "bytes_done": 104857600,
               "bytes_total": 104857600, "backlog_bytes": 8192, "eta_seconds": 0}]}))')
out=$(api call POST "/api/v1/machines/$M1/status" --bearer "$(cat "$A/m1.secret")" --json "$doc")
[ "$(api_status "$out")" = 200 ] || die "heartbeat: $out"

# a recovery point of m1, reported by a staging server as staging does
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
NOW_NS=$(date +%s%N)
PT_NS=$((NOW_NS - 90 * 1000000000))
sync=$(python3 - "$M1" "$PT_NS" <<'PY'
import hashlib, json, sys
m, ns = sys.argv[1], int(sys.argv[2])
points = [{"id": 1, "time": "2026-01-01T00:00:00Z", "time_ns": ns, "origin": "periodic",
           "consistency": "filesystem", "pinned": False, "pins": [],
           "disks": [{"name": "vda", "size": 104857600}], "created": "2026-01-01T00:00:00Z"}]
digest = hashlib.sha256(json.dumps(points, separators=(",", ":"), sort_keys=True).encode()).hexdigest()
print(json.dumps({"version": "0.1.0", "store": {"free_bytes": 1 << 30, "total_bytes": 1 << 31},
                  "machines": [{"machine": m, "points": points, "points_digest": digest}], "jobs": []}))
PY
)
out=$(api call POST /api/v1/staging/sync --bearer "$(cat "$T/st1.secret")" --json "$sync")
[ "$(api_status "$out")" = 200 ] || die "staging sync: $out"

out=$(api call GET /metrics --basic alice@acme:operator-password)
[ "$(api_status "$out")" = 200 ] || die "GET /metrics: $out"
api_body "$out" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
	die "promtool check metrics refused the text: $(cat "$T/promtool.out")"
pass "promtool check metrics accepts the console's /metrics ($(wc -l <"$T/metrics.txt") lines)"

# metric VALUE-PATTERN: one sample line of the text matches exactly
has_sample() {
	grep -qxE "$1 $2" "$T/metrics.txt" || fail "no sample '$1 $2' in: $(cat "$T/metrics.txt")"
}
has_sample 'livemig_licenses\{account="acme"\}' 5
has_sample 'livemig_licenses_in_use\{account="acme"\}' 2
has_sample 'livemig_machines\{account="acme",state="CHANGE_COPY"\}' 1
has_sample 'livemig_machines\{account="acme",state="REGISTERED"\}' 1
has_sample 'livemig_machines\{account="acme",state="DEREGISTERED"\}' 0
has_sample "livemig_machine_state\\{account=\"acme\",machine=\"$M1\",state=\"CHANGE_COPY\"\\}" 1
has_sample "livemig_machine_lag_seconds\\{account=\"acme\",machine=\"$M1\"\\}" 2.5
has_sample "livemig_machine_backlog_bytes\\{account=\"acme\",machine=\"$M1\"\\}" 8192
has_sample "livemig_machine_disk_bytes\\{account=\"acme\",machine=\"$M1\"\\}" 104857600
# the point is 90 s old when reported; the scrape comes later, never earlier
age=$(sed -n "s/^livemig_machine_last_point_age_seconds{account=\"acme\",machine=\"$M1\"} //p" "$T/metrics.txt")
[ -n "$age" ] || fail "no point age for $M1: $(cat "$T/metrics.txt")"
python3 -c 'import sys; a = float(sys.argv[1]); sys.exit(0 if a >= 89 else 1)' "$age" ||
	fail "the newest point's age is $age s, less than the 90 s it had when reported"
grep -q "machine=\"$M2\"} " "$T/metrics.txt" || fail "m2 is missing from the metrics"
pass "the metrics hold the API's numbers: 5 licenses, 2 in use, lag 2.5 s, backlog 8192, point age $age s"

out=$(api call GET /metrics --basic eve@rival:rival-password)
[ "$(api_status "$out")" = 200 ] || die "GET /metrics as eve: $out"
if grep -q "acme\|$M1\|$M2" <<<"$(api_body "$out")"; then
	fail "another account's operator sees acme's machines: $(api_body "$out")"
fi
grep -qx 'livemig_licenses_in_use{account="rival"} 0' <<<"$(api_body "$out")" ||
	fail "rival's own metrics are wrong: $(api_body "$out")"
pass "another account's operator sees only its own account"

expect_error "/metrics without a login" 401 auth_required "$(api call GET /metrics)"
stop_console
