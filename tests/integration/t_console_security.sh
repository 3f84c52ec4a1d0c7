#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console takes the program's options, not the script's arguments
# livemig-console under attack (docs/security.md), all on loopback:
#  - password guessing is held back after 5 wrong guesses (429, Retry-After),
#    the right password too while held back; another user is unaffected;
#  - 500 slow connections from 127.0.0.2 (a header line every 2 s, never
#    finished) leave requests from 127.0.0.1 served within 2 s (more than
#    the same requests take on this machine without the attack);
#  - TLS 1.0/1.1 and CBC suites are refused; TLS 1.2 (AEAD) and 1.3 work;
#  - a URL with %0a does not forge a line in the access log.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

start_console
admin create-account acme --licenses 2 >/dev/null || die "create-account"
echo "alice-password" | admin create-user acme alice >/dev/null || die "create-user alice"
echo "bob-password" | admin create-user acme bob >/dev/null || die "create-user bob"
attack() {
	python3 "$TESTS/console_attack.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" "$@"
}

# --- password guessing ---
v=$(attack guess --login alice@acme --password alice-password) || die "guess: $v"
[ "$(json_get "$v" 'd.get("first_429") is not None and d["first_429"] <= 12')" = True ] ||
	die "guessing was not held back: $v"
[ "$(json_get "$v" 'd["statuses"][:5] == [401] * 5')" = True ] || die "the first 5 guesses: $v"
[ "$(json_get "$v" '1 <= (d["retry_after"] or 0) <= 900')" = True ] || die "no Retry-After: $v"
# The right password right after: held back as well (unless the hold-back
# ran out in between on a very slow machine: then it must be 200).
case "$(json_get "$v" 'd["right_password_status"]')" in
429) grep -q "retry in" <<<"$(json_get "$v" 'd["right_password_body"]')" || die "no 'retry in': $v" ;;
200) echo "note: the hold-back ran out before the right password was sent (slow machine)" ;;
*) die "right password: $v" ;;
esac
out=$(api call GET /api/v1/machines --basic bob@acme:bob-password)
[ "$(api_status "$out")" = 200 ] || die "bob, from the same address, was held back too: $out"
out=$(api call POST /api/v1/session --json '{"account":"acme","user":"alice","password":"alice-password"}')
[ "$(api_status "$out")" = 429 ] || [ "$(api_status "$out")" = 200 ] || die "sign-in: $out"
grep -q "wrong password for alice@acme from 127.0.0.1" "$CONSOLE_LOG" || die "wrong guesses not logged"
pass "password guessing: 5 free guesses, then 429 with Retry-After ($(json_get "$v" 'd["statuses"]')); bob unaffected"

# --- connection exhaustion from one address ---
v=$(attack slow --from 127.0.0.2 --count 500 --legit 5) || die "slow: $v"
echo "slow connections: $v"
[ "$(json_get "$v" 'all(r["status"] == 200 for r in d["legit"])')" = True ] ||
	die "legitimate requests failed under 500 slow connections: $v"
# within 2 s more than the same request takes here without the attack (the
# machine running the tests may itself be slow)
[ "$(json_get "$v" 'max(r["seconds"] for r in d["legit"]) <= 2.0 + max(r["seconds"] for r in d["baseline"])')" = True ] ||
	die "legitimate requests took more than 2 s longer under 500 slow connections: $v"
pass "500 slow connections from 127.0.0.2: 127.0.0.1 served in $(json_get "$v" 'max(r["seconds"] for r in d["legit"])') s at most"

# --- TLS versions and suites ---
tls() { # OPENSSL-S_CLIENT-OPTIONS...: 0 when the handshake succeeds
	local out
	out=$(openssl s_client -connect "127.0.0.1:$CONSOLE_PORT" -CAfile "$SERVER_CA" "$@" </dev/null 2>&1)
	grep -q "^ *Cipher is \|^New, TLSv" <<<"$out" && ! grep -q "Cipher is (NONE)" <<<"$out"
}
tls -tls1_3 || die "TLS 1.3 refused"
tls -tls1_2 || die "TLS 1.2 refused"
! tls -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' || die "TLS 1.1 accepted"
! tls -tls1 -cipher 'DEFAULT:@SECLEVEL=0' || die "TLS 1.0 accepted"
! tls -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA' || die "a CBC-SHA1 suite accepted"
pass "TLS: 1.3 and 1.2 with AEAD suites only; 1.0, 1.1 and CBC-SHA1 refused"

# --- Content-Type: exactly application/json (parameters allowed) ---
ctype() { # TYPE: the status of a sign-in sent with this Content-Type
	curl -s -o /dev/null -w '%{http_code}' --cacert "$SERVER_CA" -X POST \
		-H "Content-Type: $1" --data '{"account":"acme","user":"bob","password":"bob-password"}' \
		"https://127.0.0.1:$CONSOLE_PORT/api/v1/session"
}
[ "$(ctype application/jsonp)" = 415 ] || die "application/jsonp accepted as JSON"
[ "$(ctype application/json-seq)" = 415 ] || die "application/json-seq accepted as JSON"
[ "$(ctype 'application/json; charset=utf-8')" = 200 ] || die "application/json with a charset refused"
[ "$(ctype Application/JSON)" = 200 ] || die "Application/JSON refused"
pass "Content-Type: application/json (any case, with parameters) only"

# --- the database file ---
if db_is_pg; then
	# the server's own files: PostgreSQL's business, not the console's
	echo "not applicable on PostgreSQL: the database file's mode (the server owns its files)"
else
	[ "$(stat -c %a "$CONSOLE_DB")" = 600 ] || die "the database is mode $(stat -c %a "$CONSOLE_DB"), not 0600"
	pass "the database file was created 0600"
fi

# --- heartbeat flood with a machine's own secret ---
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
out=$(api register --dir "$T/agents" --machine flood-01 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "register flood-01: $out"
v=$(attack flood --machine "$(cat "$T/agents/flood-01.id")" --bearer "$(cat "$T/agents/flood-01.secret")" --count 100) || die "flood: $v"
# a burst of 10, then one a second: however fast the machine, at most 10
# plus one per second the flood lasted pass
[ "$(json_get "$v" 'd["statuses"].get("429", 0) > 0 and d["retry_after"] is not None')" = True ] ||
	die "a heartbeat flood was not limited: $v"
[ "$(json_get "$v" 'set(d["statuses"]) <= {"200", "429"}')" = True ] || die "flood answers: $v"
pass "a heartbeat flood is limited: $(json_get "$v" 'd["statuses"]')"

# --- access-log injection ---
api call GET '/api/v1/nosuch%0a2026-01-01T00:00:00.000Z%20livemig-console:%20info:%20FORGED' >/dev/null
wait_for_log "$CONSOLE_LOG" 'nosuch' 10 || die "the request was not logged"
! grep -q '^2026-01-01T00:00:00.000Z livemig-console: info: FORGED' "$CONSOLE_LOG" || die "a forged log line: $(grep FORGED "$CONSOLE_LOG")"
grep -q 'nosuch\\n2026' "$CONSOLE_LOG" || die "the newline is not shown escaped: $(grep nosuch "$CONSOLE_LOG")"
pass "a %0a in a URL is logged as \\n, on its own line"

stop_console
