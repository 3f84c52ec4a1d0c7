#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# livemig-console registration: a token or a user's password buys a
# certificate from the agent CA (CN = machine id) that staging accepts; the
# same machine again keeps its license; a new machine beyond the licenses is
# refused with the exact message; every bad token kind, a wrong password, a
# bad CSR and a malformed request get their own status and code, and the
# same from POST /api/v1/register/check, which records nothing; deregistering
# frees the license; the database holds no secret and no password.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

setup_pki
start_console
A=$T/agents
admin create-account acme --licenses 2 >/dev/null || die "create-account"
PASSWORD='correct horse battery staple'
echo "$PASSWORD" | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme --label "test fleet" 2>/dev/null) || die "create-token"
[[ $TOKEN =~ ^lmt_[0-9a-f]{64}$ ]] || die "token format: $TOKEN"

# --- a token registers a machine; the certificate is the agent CA's, CN = machine id ---
out=$(api register --dir "$A" --machine web-01 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "first registration: $out"
# the id is the console's: derived from the token's account and the identity
W=$(cat "$A/web-01.id")
[ "$W" = "$(printf 'acme\nmetadata:i-web-01' | sha256sum | cut -c1-32)" ] || die "machine id $W is not derived"
openssl verify -CAfile "$CONSOLE_CA/ca.pem" "$A/web-01.pem" >/dev/null || die "certificate does not verify"
subject=$(openssl x509 -in "$A/web-01.pem" -noout -subject -nameopt RFC2253)
[ "$subject" = "subject=CN=$W" ] || die "subject is '$subject'"
openssl x509 -in "$A/web-01.pem" -noout -ext extendedKeyUsage | has_line "TLS Web Client Authentication" ||
	die "no clientAuth"
[ "$(openssl x509 -in "$A/web-01.pem" -noout -pubkey)" = "$(openssl pkey -in "$A/web-01.key" -pubout)" ] ||
	die "the certificate is not for the CSR's key"
body=$(api_body "$out")
[ "$(json_get "$body" 'd["staging"]["address"]')" = 127.0.0.1:7450 ] || die "staging address: $body"
[ "$(json_get "$body" 'd["staging"]["ca"] == open("'"$SERVER_CA"'").read()')" = True ] || die "staging CA"
[ "$(json_get "$body" 'd["agent_ca"] == open("'"$CONSOLE_CA/ca.pem"'").read()')" = True ] || die "agent CA"
[ "$(json_get "$body" '(d["license"]["in_use"], d["license"]["total"], d["heartbeat_interval"])')" = "(1, 2, 10)" ] ||
	die "license/heartbeat: $body"
pass "token registration: certificate verifies against the agent CA, CN=$W (derived), clientAuth"

# staging, trusting the same CA, accepts the certificate
AGENT_CA=$CONSOLE_CA/ca.pem start_staging
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$A/web-01.pem" \
	--key "$A/web-01.key" --machine "$W" --disk 1:vda:1M hello >"$T/hello.out" 2>&1 ||
	die "staging refused the console's certificate: $(cat "$T/hello.out")"
grep -q '^WELCOME ' "$T/hello.out" || die "no WELCOME: $(cat "$T/hello.out")"
pass "staging accepts the console-signed certificate for $W"

# --- an active machine is not taken over: a token (or a replay of the
# same request) without the machine's current agent secret is refused ---
cp "$A/web-01.secret" "$T/web-01.secret.1"
cp "$A/web-01.pem" "$T/web-01.pem.1"
out=$(api register --dir "$A" --machine web-01 --token "$TOKEN")
expect_error "re-registration without proof" 409 machine_registered "$out"
[ "$(json_get "$(api_body "$out")" '"current agent secret" in d["error"] and "deregisters it first" in d["error"]')" = True ] ||
	die "no remedy in: $out"
cmp -s "$A/web-01.pem" "$T/web-01.pem.1" || die "a refused re-registration got a certificate"
out=$(api register --dir "$A" --machine web-01 --user alice --password "$PASSWORD" --account acme)
expect_error "re-registration with a user's password, without proof" 409 machine_registered "$out"
out=$(api register --dir "$A" --machine web-01 --token "$TOKEN" --agent-secret "lma_$(printf '0%.0s' $(seq 64))")
expect_error "re-registration with a wrong agent secret" 409 machine_registered "$out"
# another identity is another machine: naming web-01's id for it is refused
out=$(api register --dir "$A" --machine web-01x --token "$TOKEN" --agent-secret "@$T/web-01.secret.1" \
	--identity mac=52:54:00:00:00:99 --machine-id "$W")
expect_error "re-registration with the secret but another identity" 409 machine_id_mismatch "$out"
out=$(api call POST "/api/v1/machines/$W/status" --bearer "$(cat "$T/web-01.secret.1")" \
	--json '{"version":"0.1.0","machine":"'"$W"'","state":"INITIAL_MIRROR","disks":[]}')
[ "$(api_status "$out")" = 200 ] || die "the real agent was locked out by a refused re-registration: $out"
pass "an active machine is re-registered neither with a token, a password, a replay, a wrong secret nor another identity"

# --- the same machine again, with its agent secret: same license, 200 ---
out=$(api register --dir "$A" --machine web-01 --token "$TOKEN" --agent-secret "@$T/web-01.secret.1")
[ "$(api_status "$out")" = 200 ] || die "second registration: $out"
[ "$(json_get "$(api_body "$out")" '(d["license"]["reused"], d["license"]["in_use"])')" = "(True, 1)" ] ||
	die "second registration took another license: $out"
[ "$(cat "$A/web-01.id")" = "$W" ] || die "the same machine got another id: $(cat "$A/web-01.id")"
tl=$(api_body "$(api call GET "/api/v1/machines/$W/timeline" --basic "alice@acme:$PASSWORD")")
[ "$(json_get "$tl" 'any("re-registered by the same machine" in e["text"] for e in d["events"])')" = True ] ||
	die "the re-registration is not in the machine's events: $tl"
pass "the same machine registering again with its agent secret reuses its license; the event is shown"

# --- a user's password registers the second machine ---
out=$(api register --dir "$A" --machine db-01 --user alice --password "$PASSWORD" --account acme)
[ "$(api_status "$out")" = 201 ] || die "password registration: $out"
pass "user name and password register a machine"

# --- no license left ---
out=$(api register --dir "$A" --machine app-01 --token "$TOKEN")
expect_error "third machine, 2 licenses" 409 no_license "$out"
[ "$(json_get "$(api_body "$out")" 'd["error"]')" = "account acme has no free license: 2 of 2 in use" ] ||
	die "wrong message: $out"
[ ! -e "$A/app-01.pem" ] || die "a refused machine got a certificate"

# --- wrong credentials ---
expect_error "wrong password" 401 bad_credentials \
	"$(api register --dir "$A" --machine web-01 --user alice --password wrong-password --account acme)"
expect_error "unknown user" 401 bad_credentials \
	"$(api register --dir "$A" --machine web-01 --user mallory --password "$PASSWORD" --account acme)"
expect_error "unknown account" 401 bad_credentials \
	"$(api register --dir "$A" --machine web-01 --user alice --password "$PASSWORD" --account nosuch)"

# --- every kind of bad token ---
expect_error "unknown token" 401 invalid_token \
	"$(api register --dir "$A" --machine web-01 --token "lmt_$(head -c 32 /dev/urandom | xxd -p -c 64)")"
expired=$(admin create-token acme --expires 1s 2>/dev/null)
sleep 2.1
expect_error "expired token" 403 token_expired "$(api register --dir "$A" --machine web-01 --token "$expired")"
revoked=$(admin create-token acme 2>"$T/revoked.err")
rid=$(sed -n 's/^token \([0-9]*\) .*/\1/p' "$T/revoked.err")
admin revoke-token "$rid" | has_line "revoked" || die "revoke-token $rid"
expect_error "revoked token" 403 token_revoked "$(api register --dir "$A" --machine web-01 --token "$revoked")"
once=$(admin create-token acme --max-uses 1 2>/dev/null)
[ "$(api_status "$(api register --dir "$A" --machine web-01 --token "$once" --agent-secret "@$A/web-01.secret")")" = 200 ] || die "one-use token, first use"
expect_error "exhausted token" 403 token_exhausted "$(api register --dir "$A" --machine web-01 --token "$once")"
admin list-tokens acme | has_line -E "^$rid +revoked" || die "list-tokens does not show $rid revoked"
admin list-tokens acme | has_line -E "exhausted +1/1" || die "list-tokens does not show the exhausted token"

# --- the credential alone (POST /api/v1/register/check): the same answers,
# nothing recorded, no token use counted ---
check() { api call POST /api/v1/register/check --json "$1"; }
twice=$(admin create-token acme --max-uses 1 2>/dev/null)
out=$(check "{\"token\":\"$twice\"}")
[ "$(api_status "$out")" = 200 ] && [ "$(json_get "$(api_body "$out")" 'd["account"]')" = acme ] &&
	[ "$(json_get "$(api_body "$out")" '(d["licenses"]["in_use"], d["licenses"]["total"])')" = "(2, 2)" ] ||
	die "check of a good token: $out"
check "{\"token\":\"$twice\"}" >/dev/null
admin list-tokens acme | has_line -E "active +0/1" || die "a check counted a token use: $(admin list-tokens acme)"
pass "register/check of a good token: 200, account acme, 2 of 2 licenses in use; checked twice, its one use still free"
expect_error "check: unknown token" 401 invalid_token "$(check '{"token":"lmt_00"}')"
expect_error "check: expired token" 403 token_expired "$(check "{\"token\":\"$expired\"}")"
expect_error "check: revoked token" 403 token_revoked "$(check "{\"token\":\"$revoked\"}")"
expect_error "check: exhausted token" 403 token_exhausted "$(check "{\"token\":\"$once\"}")"
out=$(check "{\"user\":\"alice\",\"account\":\"acme\",\"password\":\"$PASSWORD\"}")
[ "$(api_status "$out")" = 200 ] || die "check of a good password: $out"
expect_error "check: wrong password" 401 bad_credentials \
	"$(check '{"user":"alice","account":"acme","password":"wrong"}')"
expect_error "check: token and password" 400 malformed \
	"$(check "{\"token\":\"$twice\",\"user\":\"alice\",\"password\":\"x\",\"account\":\"acme\"}")"
expect_error "check: nothing" 400 malformed "$(check '{}')"
[ "$(db_query "SELECT COUNT(*) FROM machines")" = 2 ] || die "a check recorded a machine"

# --- bad CSRs ---
echo "not a CSR" >"$T/junk.csr"
expect_error "CSR that is not one" 400 bad_csr "$(api register --dir "$A" --machine web-01 --token "$TOKEN" --csr "$T/junk.csr")"
python3 - "$A/web-01.csr" "$T/tampered.csr" <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().strip().splitlines()
der = bytearray(base64.b64decode("".join(lines[1:-1])))
der[-1] ^= 0x01  # last byte of the signature
b64 = base64.b64encode(bytes(der)).decode()
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE REQUEST-----\n" +
    "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END CERTIFICATE REQUEST-----\n")
PY
out=$(api register --dir "$A" --machine web-01 --token "$TOKEN" --csr "$T/tampered.csr")
expect_error "CSR with a bad signature" 400 bad_csr "$out"
grep -q "signature" <<<"$out" || die "the bad signature is not named: $out"
openssl req -new -newkey rsa:1024 -nodes -keyout "$T/weak.key" -out "$T/weak.csr" -subj /CN=x 2>/dev/null
expect_error "CSR with a 1024-bit RSA key" 400 bad_csr "$(api register --dir "$A" --machine web-01 --token "$TOKEN" --csr "$T/weak.csr")"
# the credential is checked before the CSR is looked at (and signed)
expect_error "bad token with a bad CSR" 401 invalid_token \
	"$(api register --dir "$A" --machine web-01 --token "lmt_$(printf '1%.0s' $(seq 64))" --csr "$T/junk.csr")"

# --- malformed requests ---
expect_error "not JSON" 400 malformed "$(api call POST /api/v1/register --json '{"token":')"
expect_error "an array" 400 malformed "$(api call POST /api/v1/register --json '[]')"
expect_error "a token alone" 400 malformed "$(api call POST /api/v1/register --json "{\"token\":\"$TOKEN\"}")"
expect_error "token and password" 400 malformed \
	"$(api call POST /api/v1/register --json "{\"token\":\"$TOKEN\",\"user\":\"alice\",\"password\":\"x\",\"account\":\"acme\"}")"
expect_error "machine id with a slash" 400 malformed \
	"$(api register --dir "$A" --machine web-01 --machine-id ../etc --token "$TOKEN" --csr "$A/web-01.csr")"
expect_error "a MAC in upper case (a second spelling, a second id)" 400 malformed \
	"$(api register --dir "$A" --machine web-01 --identity mac=52:54:00:AB:00:01 --token "$TOKEN")"
expect_error "an identity source the console does not derive from" 400 malformed \
	"$(api register --dir "$A" --machine web-01 --identity serial=12345 --token "$TOKEN")"
expect_error "duplicate keys" 400 malformed "$(api call POST /api/v1/register --json '{"token":"a","token":"b"}')"
expect_error "unknown endpoint" 404 not_found "$(api call GET /api/v1/nothing)"
expect_error "wrong method" 405 method_not_allowed "$(api call GET /api/v1/register)"
head -c 1100000 /dev/zero | tr '\0' a >"$T/big.json"
expect_error "a body over 1 MiB" 413 too_large "$(api call POST /api/v1/register --json "@$T/big.json")"

# --- deregistration frees the license, twice is fine ---
secret=$(cat "$A/db-01.secret")
out=$(api call DELETE "/api/v1/machines/$(cat "$A/db-01.id")" --bearer "$secret")
[ "$(api_status "$out")" = 200 ] || die "deregister: $out"
[ "$(json_get "$(api_body "$out")" 'd["licenses"]["in_use"]')" = 1 ] || die "license not freed: $out"
out=$(api call DELETE "/api/v1/machines/$(cat "$A/db-01.id")" --bearer "$secret")
[ "$(api_status "$out")" = 200 ] || die "second deregister: $out"
pass "deregistration frees the license and is idempotent"
out=$(api register --dir "$A" --machine app-01 --token "$TOKEN")
[ "$(api_status "$out")" = 201 ] || die "app-01 after a license was freed: $out"
pass "the freed license goes to a new machine"
expect_error "the deregistered machine, now over the limit" 409 no_license \
	"$(api register --dir "$A" --machine db-01 --user alice --password "$PASSWORD" --account acme)"
[ "$(db_query "SELECT COUNT(*) FROM machines WHERE deregistered_at IS NULL")" = 2 ] ||
	die "database does not show 2 licenses in use"

# --- nothing secret in the database files ---
db_dump >/dev/null || die "cannot read the database"
for s in "$TOKEN" "$expired" "$revoked" "$once" "$PASSWORD" "$(cat "$A/web-01.secret")" "$secret"; do
	if db_dump | has_line -aF -- "$s"; then
		die "the database contains a secret: ${s:0:12}..."
	fi
done
hash=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
[ "$(db_query "SELECT COUNT(*) FROM tokens WHERE secret_hash = '$hash'")" = 1 ] ||
	die "the token's SHA-256 is not what is stored"
[ "$(db_query "SELECT pw_algo || ' ' || CASE WHEN pw_iterations >= 310000 THEN 1 ELSE 0 END FROM users")" = "pbkdf2-sha256 1" ] ||
	die "password not stored as PBKDF2 with >= 310000 iterations"
pass "the database holds no token, agent secret or password, only their hashes"

stop_console
pass "SIGTERM: clean exit 0"
