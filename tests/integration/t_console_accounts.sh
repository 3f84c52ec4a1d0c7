#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# Accounts are sealed from each other: a user sees, reads and deregisters only
# their own account's machines; another account's machine answers exactly like
# one that does not exist. Operator calls need a valid login. The API never
# returns password hashes or secrets. And the admin command: its errors name
# the remedy, passwords never come from argv, init-ca makes a 0600 key and
# never overwrites, the schema is versioned and in WAL mode.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

setup_pki
# --- admin before any server ---
out=$(admin list-machines acme 2>&1) && die "list-machines of a missing account succeeded"
grep -q "create-account acme --licenses N" <<<"$out" || die "no remedy: $out"
admin create-account acme --licenses 3 >/dev/null || die "create-account acme"
admin create-account globex --licenses 3 >/dev/null || die "create-account globex"
out=$(admin create-account acme --licenses 1 2>&1) && die "duplicate account accepted"
grep -q "already exists" <<<"$out" || die "duplicate account: $out"
out=$(echo short | admin create-user acme alice 2>&1) && die "a 5-character password was accepted"
grep -q "at least 8 characters" <<<"$out" || die "short password: $out"
echo 'alice-password' | admin create-user acme alice >/dev/null || die "create-user alice"
printf 'bob-password\n' >"$T/bobpw"
admin create-user globex bob --password-file "$T/bobpw" >/dev/null || die "create-user --password-file"
out=$(admin revoke-token 999 2>&1) && die "revoking a missing token succeeded"
grep -q "list-tokens ACCOUNT" <<<"$out" || die "revoke-token 999: $out"
for cmd in create-account set-licenses list-accounts create-user create-token list-tokens revoke-token list-machines init-ca lifecycle points pin-staging unpin-staging drain-staging undrain-staging placement; do
	admin "$cmd" --help | has_line "^Usage: livemig-console admin" || die "$cmd --help"
done
"$BUILD/livemig-console" --help | has_line "^Usage:" || die "--help"
"$BUILD/livemig-console" serve --help | has_line "heartbeat-timeout" || die "serve --help"
out=$("$BUILD/livemig-console" serve --listen 127.0.0.1:0 2>&1); [ $? -eq 2 ] || die "serve without --db: not a usage error"
grep -q -- "--db FILE is required" <<<"$out" || die "serve without --db: $out"
if db_is_pg; then
	version=$(db_query "SELECT version FROM schema_version")
else
	version=$(db_query "PRAGMA user_version")
	[ "$(db_query "PRAGMA journal_mode")" = wal ] || die "not in WAL mode"
fi
[ "$version" = 8 ] || die "schema version: $version"
pass "admin: accounts, users (password from stdin or a file only), --help everywhere, clear errors"

# init-ca: 0600 key, a CA certificate, never overwritten
"$BUILD/livemig-console" admin init-ca "$T/ca2" >/dev/null || die "init-ca"
[ "$(stat -c %a "$T/ca2/ca.key")" = 600 ] || die "ca.key mode $(stat -c %a "$T/ca2/ca.key")"
openssl x509 -in "$T/ca2/ca.pem" -noout -ext basicConstraints | has_line "CA:TRUE" || die "not a CA"
before=$(file_sha "$T/ca2/ca.key")
"$BUILD/livemig-console" admin init-ca "$T/ca2" >/dev/null 2>&1 && die "init-ca overwrote a CA"
[ "$(file_sha "$T/ca2/ca.key")" = "$before" ] || die "the CA key changed"
pass "init-ca: EC key mode 0600, CA certificate, refuses to overwrite"

start_console
TA=$(admin create-token acme 2>/dev/null)
TG=$(admin create-token globex 2>/dev/null)
A=$T/agents
for m in acme-web acme-db; do
	[ "$(api_status "$(api register --dir "$A" --machine "$m" --token "$TA")")" = 201 ] || die "register $m"
done
[ "$(api_status "$(api register --dir "$A" --machine globex-web --token "$TG")")" = 201 ] || die "register globex-web"
# the console's ids, derived from the account and the identity
AW=$(cat "$A/acme-web.id") AD=$(cat "$A/acme-db.id") GW=$(cat "$A/globex-web.id")
[[ $AD < $AW ]] || die "the list below expects $AD before $AW"
expect_error "globex naming acme's machine id" 409 machine_id_mismatch \
	"$(api register --dir "$A" --machine globex-2 --machine-id "$AW" --token "$TG")"

ALICE=alice@acme:alice-password
BOB=bob@globex:bob-password
list=$(api_body "$(api call GET /api/v1/machines --basic "$ALICE")")
[ "$(json_get "$list" '[m["machine_id"] for m in d["machines"]]')" = "['$AD', '$AW']" ] || die "alice sees: $list"
[ "$(json_get "$list" '(d["account"], d["licenses"]["in_use"], d["licenses"]["total"])')" = "('acme', 2, 3)" ] || die "alice's licenses: $list"
list=$(api_body "$(api call GET /api/v1/machines --basic "$BOB")")
[ "$(json_get "$list" '[m["machine_id"] for m in d["machines"]]')" = "['$GW']" ] || die "bob sees: $list"
expect_error "alice reading globex's machine" 404 no_such_machine "$(api call GET "/api/v1/machines/$GW" --basic "$ALICE")"
expect_error "alice reading a machine that does not exist" 404 no_such_machine "$(api call GET /api/v1/machines/nothing --basic "$ALICE")"
expect_error "alice deregistering globex's machine" 404 no_such_machine "$(api call DELETE "/api/v1/machines/$GW" --basic "$ALICE")"
expect_error "acme-web's agent deregistering globex-web" 403 wrong_machine \
	"$(api call DELETE "/api/v1/machines/$GW" --bearer "$(cat "$A/acme-web.secret")")"
[ "$(db_query "SELECT COUNT(*) FROM machines WHERE deregistered_at IS NULL")" = 3 ] || die "something was deregistered"
pass "each account sees and touches only its own machines"

# --- operator authentication ---
expect_error "no login" 401 auth_required "$(api call GET /api/v1/machines)"
expect_error "wrong password" 401 bad_credentials "$(api call GET /api/v1/machines --basic alice@acme:nope)"
expect_error "alice as a globex user" 401 bad_credentials "$(api call GET /api/v1/machines --basic alice@globex:alice-password)"
expect_error "a login without @ACCOUNT" 401 bad_credentials "$(api call GET /api/v1/machines --basic alice:alice-password)"
curl -s -o /dev/null -D "$T/headers" --cacert "$SERVER_CA" "https://127.0.0.1:$CONSOLE_PORT/api/v1/machines"
grep -qi '^WWW-Authenticate: Basic realm="livemig-console"' "$T/headers" || die "no basic-auth challenge: $(cat "$T/headers")"
out=$(curl -s --cacert "$SERVER_CA" -u "$ALICE" "https://127.0.0.1:$CONSOLE_PORT/api/v1/machines/$AW")
grep -q "\"machine_id\":\"$AW\"" <<<"$out" || die "curl with basic auth: $out"
pass "operator calls need USER@ACCOUNT and the right password (curl -u works)"

# an operator deregisters their own machine
out=$(api call DELETE "/api/v1/machines/$AD" --basic "$ALICE")
[ "$(api_status "$out")" = 200 ] || die "alice deregistering acme-db: $out"
pass "an operator can deregister their account's machine"

# --- nothing secret in any answer ---
all=$(api call GET /api/v1/machines --basic "$ALICE"; api call GET "/api/v1/machines/$AW" --basic "$ALICE"
	api call GET "/api/v1/machines/$AD" --basic "$ALICE")
for s in pw_hash pw_salt secret_hash agent_secret_hash "$(db_query "SELECT pw_hash FROM users LIMIT 1")" \
	"$(db_query "SELECT agent_secret_hash FROM machines LIMIT 1")" "$(cat "$A/acme-web.secret")" "$TA"; do
	if grep -qF -- "$s" <<<"$all"; then
		die "an operator answer contains '$s'"
	fi
done
admin list-tokens acme --json | python3 -c 'import json, sys
for t in json.load(sys.stdin):
    assert set(t) == {"id", "label", "state", "created_at", "expires_at", "max_uses", "uses", "revoked_at"}, t' ||
	die "list-tokens --json shows more than it should"
pass "no answer carries a password hash, a secret or a secret's hash"

# admin list-machines: host, OS, disks
out=$(admin list-machines acme)
grep -q "^account acme: 1 of 3 licenses in use" <<<"$out" || die "list-machines header: $out"
grep -q "^$AW .*Debian GNU/Linux 12 (bookworm).*vda 10.0 GiB, vdb 1.0 GiB" <<<"$out" || die "list-machines row: $out"
[ "$(admin list-machines acme --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["machines"][0]["inventory_summary"]["cores"])')" = 2 ] ||
	die "list-machines --json"
pass "admin list-machines shows host, OS and disks"

stop_console
