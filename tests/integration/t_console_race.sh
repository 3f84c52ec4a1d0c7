#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# The license race: 20 agents of distinct machines register at the same
# instant against 10 licenses. Exactly 10 succeed, the other 10 hear the
# no-license refusal, and the database shows 10 licenses in use. Then 10
# registrations of one machine at once take one license between them.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

setup_pki
start_console
admin create-account race --licenses 10 >/dev/null || die "create-account"
TOKEN=$(admin create-token race --max-uses 40 2>/dev/null) || die "create-token"

out=$(api race --dir "$T/agents" --token "$TOKEN" --count 20) || die "race client failed: $out"
echo "$out"
[ "$out" = $'201 10\n409 10' ] || die "expected 10 registrations and 10 refusals, got: $out"
pass "20 registrations at once against 10 licenses: exactly 10 succeed"

python3 - "$T/agents/race-answers.json" <<'PY' || die "refusal messages"
import json, sys
for status, text in json.load(open(sys.argv[1])):
    if status == 409:
        assert json.loads(text)["error"] == "account race has no free license: 10 of 10 in use", text
PY
pass "every refusal says: account race has no free license: 10 of 10 in use"

[ "$(db_query "SELECT COUNT(*) FROM machines m JOIN accounts a ON a.id = m.account_id
	WHERE a.name = 'race' AND m.deregistered_at IS NULL")" = 10 ] || die "database does not show 10 in use"
[ "$(db_query "SELECT uses FROM tokens")" = 10 ] || die "token uses: $(db_query "SELECT uses FROM tokens")"
admin list-machines race | has_line "^account race: 10 of 10 licenses in use" || die "admin list-machines disagrees"
pass "the database shows 10 licenses in use and 10 token uses"

# One machine, ten registrations at once, one free license.
admin set-licenses race 11 >/dev/null || die "set-licenses"
mkdir -p "$T/same"
python3 - "$TESTS" "$CONSOLE_PORT" "$SERVER_CA" "$TOKEN" "$T/same" <<'PY' || die "same-machine race"
import json, sys, threading
tests, port, ca, token, d = sys.argv[1:]
sys.path.insert(0, tests)
import console_client as cc
class A: pass
args = A(); args.port = int(port); args.ca = ca; args.token = token
args.identity = None; args.hostname = None; args.user = args.password = args.account = None
csr = cc.make_csr(d, "one-machine")
body = json.dumps(cc.registration(args, "one-machine", csr))
barrier = threading.Barrier(10)
codes = []
def one():
    conn = cc.connection(args); conn.connect(); barrier.wait()
    conn.request("POST", "/api/v1/register", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse(); r.read(); codes.append(r.status); conn.close()
ts = [threading.Thread(target=one) for _ in range(10)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(codes))
# an active machine re-registers only with its agent secret: the replays are refused
assert sorted(codes) == [201] + [409] * 9, codes
PY
[ "$(db_query "SELECT COUNT(*) FROM machines WHERE deregistered_at IS NULL")" = 11 ] ||
	die "the same machine took more than one license"
pass "ten registrations of one machine at once: one takes a license, nine identical replays are refused"

stop_console
