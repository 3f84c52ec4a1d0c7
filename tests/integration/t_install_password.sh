#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers and uninstall take livemig's options, not the script's arguments
# livemig install with a console user's name, account and --password-file,
# on a machine a metadata service identifies (instance id, not MAC), through
# an HTTP CONNECT proxy (--proxy; the one in the environment is ignored), with
# --no-replication: registered and configured, livemigd not started; then
# `livemig start` starts it, its heartbeats take the same proxy, and
# replication reaches CHANGE_COPY. The machine
# id is `livemig identity --account`'s. Reinstalling after uninstall takes
# the license again; start on an uninstalled machine says so.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/install_lib.sh"
need_root

start_install_servers
admin create-account acme --licenses 1 >/dev/null || die "create-account"
PASSWORD='correct horse battery staple'
printf '%s\n' "$PASSWORD" >"$T/pw"
admin create-user acme alice --password-file "$T/pw" >/dev/null || die "create-user"
truncate -s 32M "$T/source.img"
dev=$(make_loop "$T/source.img")
disk=$(basename "$dev")
dd if=/dev/urandom of="$dev" bs=1M count=4 seek=7 conv=fsync status=none

# a metadata service: the identity is the instance id
python3 "$TESTS/metadata_server.py" --mode normal --instance-id i-0feedc0ffee000001 \
	--log "$T/md.log" >"$T/md.out" 2>&1 &
track_pid $!
wait_for_log "$T/md.out" "^listening on" 10 || die "metadata server did not start"
MD_URL=http://127.0.0.1:$(sed -n 's/^listening on //p' "$T/md.out")
machine=$("$BUILD/livemig" identity --metadata-url "$MD_URL" --account acme --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["machine_id"])')

# a CONNECT proxy for the console; the environment names a dead one
python3 "$TESTS/connect_proxy.py" --log "$T/proxy.log" >"$T/proxy.out" 2>&1 &
track_pid $!
wait_for_log "$T/proxy.out" "^listening on" 10 || die "proxy did not start"
PROXY=http://127.0.0.1:$(sed -n 's/^listening on //p' "$T/proxy.out")
export https_proxy=http://127.0.0.1:$(free_port) HTTPS_PROXY=http://127.0.0.1:$(free_port)

install --no-prompt --user alice --account acme --password-file "$T/pw" --devices "$disk" \
	--root-disk "$disk" --no-replication --proxy "$PROXY"
[ "$INSTALL_RC" = 0 ] || die "install failed ($INSTALL_RC): $INSTALL_OUT"
show <<<"$INSTALL_OUT"
grep -qx "CONNECT 127.0.0.1:$CONSOLE_PORT" "$T/proxy.log" || fail "the registration did not go through --proxy"
grep -qx "proxy = $PROXY" "$IDIR/livemigd.conf" || fail "no proxy line for livemigd"
pass "the registration went through --proxy (the environment's proxy ignored); livemigd is told to use it"
grep -qx "machine = $machine" "$IDIR/livemigd.conf" || fail "machine id is not identity's $machine"
grep -qx "identity = metadata:i-0feedc0ffee000001" "$IDIR/livemigd.conf" || fail "identity line"
grep -qx "metadata_url = $MD_URL" "$IDIR/livemigd.conf" || fail "metadata_url line"
! grep -qF "$PASSWORD" <<<"$INSTALL_OUT" || fail "the password was printed"
grep -q "replication not started (--no-replication): start it with \`livemig start --config-dir $IDIR\`" <<<"$INSTALL_OUT" ||
	fail "no --no-replication line: $INSTALL_OUT"
pass "user, account and --password-file register machine $machine (metadata identity i-0feedc0ffee000001)"

[ ! -e "$ISTATE/livemigd.pid" ] || fail "--no-replication started livemigd"
[ ! -S "$ISOCK" ] || fail "--no-replication: a control socket exists"
[ "$(machines_in_use acme)" = 1 ] || fail "no license taken"
pass "--no-replication: registered (1 of 1 licenses in use), livemigd not running"

out=$("$BUILD/livemig" start --config-dir "$IDIR" 2>&1) || fail "livemig start: $out"
show <<<"$out"
track_pid "$(installed_pid)"
AGENT_SOCK=$ISOCK
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >/dev/null || fail "livemig sync"
assert_same "$dev" "$(replica "$machine" "$disk")" "livemig start: replication reached CHANGE_COPY, replica equal"
out=$("$BUILD/livemig" start --config-dir "$IDIR" 2>&1) || fail "second livemig start: $out"
grep -q "already runs" <<<"$out" || fail "second start: $out"
pass "livemig start again: exit 0, says livemigd already runs"
for i in $(seq 300); do # bounded for a hang only
	[ "$(grep -c "CONNECT 127.0.0.1:$CONSOLE_PORT" "$T/proxy.log")" -ge 2 ] && break
	sleep 0.2
done
[ "$(grep -c "CONNECT 127.0.0.1:$CONSOLE_PORT" "$T/proxy.log")" -ge 2 ] || fail "livemigd's heartbeats do not use the proxy"
pass "livemigd's heartbeats go through the same proxy"

# the one license is in use: a machine with another identity is refused
out=$(uninstall 2>&1) || fail "uninstall: $out"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed"
out=$("$BUILD/livemig" start --config-dir "$IDIR" 2>&1; echo "rc=$?")
{ grep -q "rc=11" <<<"$out" && grep -q "not installed" <<<"$out"; } || fail "start after uninstall: $out"
pass "uninstall frees the license; livemig start afterwards: exit 11, not installed"

# the same machine again: the license is taken again, the row reused
install --no-prompt --user alice --account acme --password-file "$T/pw" --devices "$disk" \
	--root-disk "$disk" --no-replication --proxy "$PROXY"
[ "$INSTALL_RC" = 0 ] || die "reinstall failed ($INSTALL_RC): $INSTALL_OUT"
grep -q "license:   taken; 1 of 1 in use" <<<"$INSTALL_OUT" || fail "reinstall license line: $INSTALL_OUT"
out=$(uninstall 2>&1) || fail "uninstall: $out"
grep -q "livemigd was not running" <<<"$out" || fail "uninstall without a daemon: $out"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed"
pass "reinstall after uninstall takes the license again; uninstall without livemigd running frees it"
