#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers and uninstall take livemig's options, not the script's arguments
# livemig install, silent, with a token file: against a real console and a
# real staging (which trusts the console's agent CA) it registers the machine
# (a license is taken), writes the configuration with the right modes,
# starts livemigd, and replication reaches CHANGE_COPY; after `livemig sync`
# staging's replica equals the loop device. No secret reaches the output.
# A second install says it is registered (machine, console) and changes
# nothing; --reregister withdraws the registration and makes a new one.
# uninstall stops livemigd, deregisters (the
# license is free again) and removes the files.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/install_lib.sh"
need_root

start_install_servers --heartbeat-interval 1s
admin create-account acme --licenses 2 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme --max-uses 5 2>/dev/null) || die "create-token"
echo "$TOKEN" >"$T/token"
python3 "$TESTS/make_disk.py" "$T/source.img" 64M --seed 11 >/dev/null
dev=$(make_loop "$T/source.img")
disk=$(basename "$dev")

# --- the install ---
install --no-prompt --token-file "$T/token" --delete-token-file --devices "$disk" --root-disk "$disk"
[ "$INSTALL_RC" = 0 ] || die "install failed ($INSTALL_RC): $INSTALL_OUT"
track_pid "$(installed_pid)"
show <<<"$INSTALL_OUT"
[ ! -e "$T/token" ] || fail "--delete-token-file left the token file"
pass "silent install with a token file: exit 0, the token file deleted"

# the machine id is the console's: docs/identity.md's rule over the token's
# account, which install did not know (a token alone), and the identity
mac=$(sed -n 's/^identity = mac://p' "$IDIR/livemigd.conf")
machine=$(printf 'acme\nmac:%s' "$mac" | sha256sum | cut -c1-32)
grep -qx "machine = $machine" "$IDIR/livemigd.conf" || fail "machine id is not $machine"
grep -q "^Registering this machine (mac $mac) with $CONSOLE_URL" <<<"$INSTALL_OUT" ||
	fail "the registration line: $INSTALL_OUT"
grep -q "^Installed: machine $machine registered with $CONSOLE_URL" <<<"$INSTALL_OUT" ||
	fail "the machine id is not printed"
grep -q "license:   taken; 1 of 2 in use in account acme" <<<"$INSTALL_OUT" || fail "no license line"
grep -q "replication started: follow it with" <<<"$INSTALL_OUT" || fail "no closing line"
pass "machine $machine (mac $mac), its license and the console's view printed"

# --- the files ---
mode() { stat -c %a "$1"; }
for f in livemigd.conf:600 agent.key:600 agent-secret:600 agent.pem:644 staging-ca.pem:644 console-ca.pem:644; do
	[ "$(mode "$IDIR/${f%%:*}")" = "${f#*:}" ] || fail "$IDIR/${f%%:*} has mode $(mode "$IDIR/${f%%:*}"), not ${f#*:}"
done
[ "$(mode "$ISTATE")" = 700 ] || fail "state dir mode $(mode "$ISTATE")"
openssl verify -CAfile "$CONSOLE_CA/ca.pem" "$IDIR/agent.pem" >/dev/null || fail "agent.pem does not verify"
[ "$(openssl x509 -in "$IDIR/agent.pem" -noout -subject -nameopt RFC2253)" = "subject=CN=$machine" ] ||
	fail "agent.pem subject"
[ "$(openssl x509 -in "$IDIR/agent.pem" -noout -pubkey)" = "$(openssl pkey -in "$IDIR/agent.key" -pubout)" ] ||
	fail "agent.pem is not for agent.key"
grep -q "prime256v1" <<<"$(openssl pkey -in "$IDIR/agent.key" -noout -text 2>/dev/null)" || fail "agent.key is not P-256"
cmp -s "$IDIR/console-ca.pem" "$SERVER_CA" || fail "console-ca.pem is not the --console-ca"
cmp -s "$IDIR/staging-ca.pem" "$SERVER_CA" || fail "staging-ca.pem is not the console's --staging-ca"
secret=$(cat "$IDIR/agent-secret")
[[ $secret =~ ^lma_[0-9a-f]{64}$ ]] || fail "agent-secret: $secret"
waived=$(printf '%s\n' "${WAIVE[@]}" | grep -v -- --waive | paste -sd,)
python3 - "$IDIR/livemigd.conf" "$T" "$machine" "$STAGING_PORT" "$CONSOLE_URL" "$disk" "$dev" "$mac" "$MD_URL" "$waived" <<'PY' || fail "livemigd.conf"
import configparser, sys
path, t, machine, sport, url, disk, dev, mac, md, waived = sys.argv[1:]
text = open(path).read()
# [disk] repeats: read the sections before it with configparser, the disks by hand
head, _, disks = text.partition("\n[disk]")
c = configparser.ConfigParser()
c.read_string(head)
want = {
    ("agent", "machine"): machine, ("agent", "tracker"): "auto", ("agent", "state_dir"): t + "/var-lib-livemig",
    ("agent", "socket"): t + "/run/livemigd.sock",
    ("staging", "address"): "127.0.0.1:" + sport, ("staging", "server_name"): "127.0.0.1",
    ("staging", "ca"): t + "/etc-livemig/staging-ca.pem",
    ("staging", "cert"): t + "/etc-livemig/agent.pem", ("staging", "key"): t + "/etc-livemig/agent.key",
    ("console", "url"): url, ("console", "ca"): t + "/etc-livemig/console-ca.pem",
    ("console", "machine_id"): machine, ("console", "secret_file"): t + "/etc-livemig/agent-secret",
    ("console", "heartbeat_interval"): "1s", ("console", "identity"): "mac:" + mac,
    ("console", "metadata_url"): md,
}
if waived:
    want[("console", "waived_checks")] = waived
for (s, k), v in want.items():
    assert c.get(s, k) == v, (s, k, c.get(s, k), v)
assert sorted(k for s in c.sections() for k in c[s]) == sorted(k for _, k in want), c.sections()
assert disks.split() == ["name", "=", disk, "path", "=", dev], disks
PY
pass "files: livemigd.conf, agent.key, agent-secret 0600; state dir 0700; P-256 key; CN=$machine from the agent CA; every key of the contract"

for s in "$TOKEN" "$secret"; do
	! grep -qF "$s" <<<"$INSTALL_OUT" || fail "a secret was printed"
	! grep -qF "$s" "$ISTATE/livemigd.log" || fail "a secret is in livemigd.log"
	! grep -qF "$s" "$CONSOLE_LOG" || fail "a secret is in the console's log"
done
pass "neither the token nor the agent secret appears in the output or the logs"

# --- the console's side: a license taken, the machine listed ---
[ "$(machines_in_use acme)" = 1 ] || fail "licenses in use: $(admin list-accounts)"
grep -q "$machine" <<<"$(admin list-machines acme)" || fail "list-machines: $(admin list-machines acme)"
pass "the console: 1 of 2 licenses in use, machine listed"

# --- replication ---
AGENT_SOCK=$ISOCK
wait_status "s['state'] == 'CHANGE_COPY'" 120
pass "replication reached CHANGE_COPY"
python3 "$TESTS/writer.py" "$dev" --seed 3 --count 200 >/dev/null || fail "writer"
lm sync >/dev/null || fail "livemig sync"
assert_same "$dev" "$(replica "$machine" "$disk")" "after sync, staging's replica equals $dev"
for i in $(seq 300); do # bounded for a hang only
	[ "$(admin list-machines acme --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["machines"][0]["reported_state"])' 2>/dev/null)" = CHANGE_COPY ] && break
	sleep 0.2
done
grep -q '"CHANGE_COPY"' <<<"$(admin list-machines acme --json)" || fail "the console does not show CHANGE_COPY: $(admin list-machines acme)"
# livemigd reports under the id the console gave it
[ "$(admin list-machines acme --json | python3 -c 'import json, sys
print([(m["machine_id"], m["reported_state"]) for m in json.load(sys.stdin)["machines"]])')" = "[('$machine', 'CHANGE_COPY')]" ] ||
	fail "the console's machine is not $machine in CHANGE_COPY: $(admin list-machines acme)"
pass "the console shows machine $machine (its own id) in CHANGE_COPY (heartbeats)"

# --- a second install says so and changes nothing ---
sums=$(cd "$IDIR" && sha256sum livemigd.conf agent.pem agent.key agent-secret)
pid=$(installed_pid)
expect_install 10 "install on a registered machine" --no-prompt --token "$TOKEN" --devices "$disk" --root-disk "$disk"
grep -q "already registered: this machine is $machine with $CONSOLE_URL ($IDIR/livemigd.conf); nothing was changed.*add --reregister" <<<"$INSTALL_OUT" ||
	fail "already-registered message: $INSTALL_OUT"
[ "$sums" = "$(cd "$IDIR" && sha256sum livemigd.conf agent.pem agent.key agent-secret)" ] || fail "the second install changed the files"
kill -0 "$pid" || fail "the second install stopped livemigd"
[ "$(machines_in_use acme)" = 1 ] || fail "the second install: licenses in use: $(machines_in_use acme)"
pass "a second install names the machine and the console, changes nothing (files, livemigd $pid, 1 license)"

# --- --reregister: the registration withdrawn, then a new one ---
install --no-prompt --reregister --token "$TOKEN" --devices "$disk" --root-disk "$disk"
[ "$INSTALL_RC" = 0 ] || fail "--reregister: exit $INSTALL_RC: $INSTALL_OUT"
show <<<"$INSTALL_OUT"
grep -q "^--reregister: withdrawing machine $machine's registration with $CONSOLE_URL first" <<<"$INSTALL_OUT" &&
	grep -q "machine $machine deregistered from $CONSOLE_URL: its license is free (0 of 2 in use)" <<<"$INSTALL_OUT" &&
	grep -q "license:   taken; 1 of 2 in use" <<<"$INSTALL_OUT" || fail "--reregister: $INSTALL_OUT"
[ "$sums" != "$(cd "$IDIR" && sha256sum livemigd.conf agent.pem agent.key agent-secret)" ] || fail "--reregister kept the old key and secret"
! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || fail "--reregister: the old livemigd $pid still runs"
track_pid "$(installed_pid)"
[ "$(machines_in_use acme)" = 1 ] || fail "--reregister: licenses in use: $(machines_in_use acme)"
wait_status "s['state'] in ('INITIAL_COPY', 'CHANGE_COPY')" 120
pass "--reregister: the old registration withdrawn (license freed), a new key and secret, still 1 license, livemigd $(installed_pid) replicating"

# --- uninstall ---
pid=$(installed_pid)
out=$(uninstall 2>&1) || fail "uninstall: $out"
show <<<"$out"
! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] ||
	fail "livemigd $pid still runs"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed: $(admin list-accounts)"
grep -q "its license is free (0 of 2 in use)" <<<"$out" || fail "uninstall message: $out"
[ ! -e "$IDIR" ] || fail "$IDIR left: $(ls -la "$IDIR")"
[ ! -e "$ISTATE" ] || fail "$ISTATE left: $(ls -la "$ISTATE")"
pass "uninstall: livemigd stopped, license freed (0 of 2), configuration and state removed"
expect_uninstall=$(uninstall 2>&1; echo "rc=$?")
grep -q "rc=11" <<<"$expect_uninstall" || fail "second uninstall: $expect_uninstall"
pass "uninstall again: exit 11, not installed"
