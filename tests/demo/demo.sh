#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The livemig demo: a console and a staging server on 127.0.0.1; an account
# with a license and an installation token; `livemig install` registers the
# machine and starts replicating a 1 GiB disk that keeps changing; then cut
# over and prove the replica is identical.
#   tests/demo/demo.sh BUILD_DIR        (make demo runs it, as root)
# Everything lives in a temporary directory and is removed at the end: the
# install goes to its own configuration and state directories, never to
# /etc/livemig or /var/lib/livemig.
# shellcheck source-path=SCRIPTDIR/../integration
. "$(dirname "$0")/../integration/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
. "$TESTS/console_lib.sh"
. "$TESTS/install_lib.sh"

SIZE=${DEMO_SIZE:-1G}
step() { printf '\n==> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || die "the demo needs root: it replicates a loop device and installs the agent"

step "Making a $SIZE source disk shaped like a real one (zeros, file data, random data)"
python3 "$TESTS/make_disk.py" "$T/source.img" "$SIZE" --seed 2026
dev=$(make_loop "$T/source.img")
disk=$(basename "$dev")
echo "    attached as $dev"

step "Starting livemig-console and livemig-staging on 127.0.0.1 (staging trusts the console's agent CA)"
start_install_servers --heartbeat-interval 2s
echo "    console $CONSOLE_URL, database $CONSOLE_DB"
echo "    staging 127.0.0.1:$STAGING_PORT, store $STAGING_STORE"

step "The console's operator: an account with one license, and an installation token"
admin create-account demo --licenses 1 | sed 's/^/    /'
admin create-token demo --label "demo machines" --max-uses 1 >"$T/token" 2>"$T/token.err"
sed 's/^/    /' "$T/token.err"
chmod 600 "$T/token"

step "On the source machine: livemig install (silent, with the token file)"
if [ ${#WAIVE[@]} -gt 0 ]; then
	echo "    waiving the prerequisite checks this machine fails: $(printf '%s\n' "${WAIVE[@]}" | grep -v -- --waive | paste -sd' ')"
fi
"$BUILD/livemig" install --no-prompt --console "$CONSOLE_URL" --console-ca "$SERVER_CA" \
	--token-file "$T/token" --delete-token-file --devices "$disk" --root-disk "$disk" \
	--config-dir "$IDIR" --state-dir "$ISTATE" --socket "$ISOCK" "${WAIVE[@]}" 2>&1 |
	sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] || die "livemig install failed"
track_pid "$(installed_pid)"
AGENT_SOCK=$ISOCK
machine=$(sed -n 's/^machine = //p' "$IDIR/livemigd.conf")

step "A writer keeps changing the disk while it is replicated"
python3 "$TESTS/writer.py" "$dev" --seed 7 --rate 100 >"$T/writer.out" 2>&1 &
writer=$!
track_pid "$writer"

progress() {
	status_get "'%-15s %5.1f%%  %8.1f MiB/s  sent %7.1f MiB, on the wire %7.1f MiB, rounds %d' % (s['state'], s['disks'][0]['percent'], s['throughput_bps'] / 2**20, s['sent_bytes'] / 2**20, s['wire_bytes'] / 2**20, s['rounds'])"
}
console_view() {
	admin list-machines demo --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
for m in d["machines"]:
    p = m.get("progress") or {}
    print("    console: machine %s on %s: %s, %.1f%% done, %d of %d licenses in use" % (
        m["machine_id"], m["hostname"], m["state"], p.get("percent") or 0,
        d["licenses"]["in_use"], d["licenses"]["total"]))'
}
step "Initial mirror (changes are tracked from the first read)"
start=$(date +%s.%N)
until [ "$(status_get "s['state'] == 'CHANGE_COPY'")" = True ]; do
	echo "    $(progress)"
	sleep 1
done
echo "    $(progress)"
printf '    initial mirror took %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"

step "Change copy: only changed blocks are sent while the writer goes on"
r0=$(status_get "s['rounds']")
until [ "$(status_get "s['rounds'] >= $r0 + 3")" = True ]; do
	sleep 1
done
echo "    $(progress)"
console_view

step "Cutover: stop writes, final sync"
kill -TERM "$writer"
wait "$writer"
echo "    $(cat "$T/writer.out")"
lm sync | sed 's/^/    /'
lm status | sed 's/^/    /'

step "livemig uninstall: stop the agent, deregister (the license is freed)"
"$BUILD/livemig" uninstall --config-dir "$IDIR" 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] || die "livemig uninstall failed"

step "Comparing source and replica"
src_sha=$(file_sha "$dev")
rep_sha=$(file_sha "$(replica "$machine" "$disk")")
echo "    source  $src_sha"
echo "    replica $rep_sha"
[ "$src_sha" = "$rep_sha" ] || die "replica differs from source"
echo "verified: replica identical to source (sha256 $rep_sha)"
