#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console takes the program's options, not the script's arguments
# Two consoles on two ports sharing one PostgreSQL database
# (docs/console-database.md): 20 agents of distinct machines register at
# the same instant against 10 licenses, every other one through the second
# console; exactly 10 succeed, the other 10 hear the no-license refusal,
# and both consoles took some. A sign-in session made on one console works
# on the other. Wrong passwords sent to both consoles in turn are counted
# together: the sixth guess is held back whichever console it reaches; a
# heartbeat flood sent to both in turn passes one burst, not one per
# console. Without LIVEMIG_TEST_PG the test brings up its own
# PostgreSQL 15 (tests/with_postgresql.sh).
if [ -z "${LIVEMIG_TEST_PG:-}" ]; then
	exec "$(dirname "$0")/../with_postgresql.sh" bash "$0" "$@"
fi
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

db_is_pg || die "the console's database is not PostgreSQL: $CONSOLE_DB"
setup_pki
start_console
A_PORT=$CONSOLE_PORT A_LOG=$CONSOLE_LOG A_PID=$CONSOLE_PID
start_console
B_PORT=$CONSOLE_PORT B_LOG=$CONSOLE_LOG B_PID=$CONSOLE_PID
pass "two consoles on ports $A_PORT and $B_PORT share one PostgreSQL database"

admin create-account race --licenses 10 >/dev/null || die "create-account"
TOKEN=$(admin create-token race --max-uses 40 2>/dev/null) || die "create-token"
CONSOLE_PORT=$A_PORT
out=$(api race --dir "$T/agents" --token "$TOKEN" --count 20 --port2 "$B_PORT") ||
	die "race client failed: $out"
echo "$out"
[ "$out" = $'201 10\n409 10' ] || die "expected 10 registrations and 10 refusals, got: $out"
python3 - "$T/agents/race-answers.json" <<'PY' || die "refusal messages"
import json, sys
for status, text in json.load(open(sys.argv[1])):
    if status == 409:
        assert json.loads(text)["error"] == "account race has no free license: 10 of 10 in use", text
PY
[ "$(db_query "SELECT COUNT(*) FROM machines m JOIN accounts a ON a.id = m.account_id
	WHERE a.name = 'race' AND m.deregistered_at IS NULL")" = 10 ] || die "database does not show 10 in use"
[ "$(db_query "SELECT uses FROM tokens")" = 10 ] || die "token uses: $(db_query "SELECT uses FROM tokens")"
a=$(grep -c 'registered machine ' "$A_LOG") b=$(grep -c 'registered machine ' "$B_LOG")
echo "registrations taken: $a by the first console, $b by the second"
if [ "$((a + b))" != 10 ] || [ "$a" = 0 ] || [ "$b" = 0 ]; then
	die "the registrations were not split across both consoles ($a + $b)"
fi
pass "20 registrations at once across two consoles against 10 licenses: exactly 10 succeed"

echo 'operator-password' | admin create-user race alice --role operator >/dev/null || die "create-user"
python3 - "$TESTS" "$A_PORT" "$B_PORT" "$SERVER_CA" >"$T/session.out" 2>&1 <<-'PY' || die "a session across consoles: $(cat "$T/session.out")"
	import sys
	sys.path.insert(0, sys.argv[1])
	from console_client import page_call
	a, b, ca = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
	def call(port, method, path, body=None, headers=None):
	    return page_call(port, ca, method, path, body, headers)
	st, cookie, s = call(a, "POST", "/api/v1/session", {"account": "race", "user": "alice", "password": "operator-password"})
	assert st == 200, (st, s)
	cookie = cookie.split(";")[0]
	st, _, body = call(b, "GET", "/api/v1/machines", None, {"Cookie": cookie})
	assert st == 200 and len(body["machines"]) == 10, (st, body)
	st, _, body = call(b, "DELETE", "/api/v1/session", None, {"Cookie": cookie, "X-CSRF-Token": s["csrf_token"]})
	assert st in (200, 204), (st, body)
	st, _, body = call(a, "GET", "/api/v1/machines", None, {"Cookie": cookie})
	assert st == 401, (st, body)
	print("signed in on one console, listed and signed out on the other")
PY
cat "$T/session.out"
pass "a session made on one console works on the other, and signing out on one ends it on both"

attack() {
	python3 "$TESTS/console_attack.py" --port "$A_PORT" --port2 "$B_PORT" --ca "$SERVER_CA" "$@"
}
echo 'bob-password' | admin create-user race bob --role operator >/dev/null || die "create-user bob"
# console_attack.py fails when a guess within the hold-back of the fifth
# failure is answered 401: with a brake per console, guess 6 (on the
# second console, which had seen only 2 failures) would be
v=$(attack guess --login bob@race --password bob-password) || die "guess across consoles: $v"
echo "$v"
[ "$(json_get "$v" 'd["statuses"][:5] == [401] * 5 and d["first_429"] is not None')" = True ] ||
	die "guesses across two consoles were not held back after 5: $v"
a=$(grep -c 'wrong password for bob@race' "$A_LOG") b=$(grep -c 'wrong password for bob@race' "$B_LOG")
if [ "$a" = 0 ] || [ "$b" = 0 ]; then
	die "the guesses did not reach both consoles ($a + $b)"
fi
[ "$(db_query "SELECT failures FROM login_failures WHERE key = 'u:bob@race'")" = "$((a + b))" ] ||
	die "login_failures does not count the $a + $b failures: $(db_query "SELECT * FROM login_failures")"
pass "wrong passwords split over two consoles ($a + $b) are counted together: held back after 5"

read -r FLOOD_ID FLOOD_SECRET < <(python3 - "$T/agents/race-answers.json" <<'PY'
import json, sys
for status, text in json.load(open(sys.argv[1])):
    if status == 201:
        d = json.loads(text)
        print(d["machine_id"], d["agent_secret"])
        break
PY
)
[ -n "${FLOOD_SECRET:-}" ] || die "no registered machine to flood with"
v=$(attack flood --machine "$FLOOD_ID" --bearer "$FLOOD_SECRET" --count 60 --pad 1) || die "flood: $v"
echo "$v"
[ "$(json_get "$v" 'set(d["statuses"]) <= {"200", "429"}')" = True ] || die "flood answers: $v"
# one bucket for both consoles: a burst of 10 plus one a second the flood
# lasted, where a bucket per console would let 20 plus two a second pass
[ "$(json_get "$v" 'd["statuses"].get("200", 0) <= 10 + int(d["seconds"]) + 1')" = True ] ||
	die "a flood over two consoles passed more than one burst: $v"
[ "$(json_get "$v" 'all(p.get("429", 0) > 0 for p in d["per_port"].values())')" = True ] ||
	die "each console should have refused part of the flood: $v"
pass "a heartbeat flood split over two consoles drains one bucket: $(json_get "$v" 'd["statuses"]') in $(json_get "$v" 'round(d["seconds"], 1)') s"

CONSOLE_PID=$B_PID
stop_console
CONSOLE_PID=$A_PID
stop_console
