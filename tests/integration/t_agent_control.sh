#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator's command against the real daemon: status (plain and JSON),
# pause (nothing moves), resume, sync (refused while paused), and the
# messages when no daemon answers or the configuration is wrong.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
python3 "$TESTS/make_disk.py" "$T/src.img" 96M --seed 31
dev=$(make_loop "$T/src.img")
# 4 MiB/s: a mirror of about 24 s, so that the pause below usually meets it
write_agent_config ctl "$dev" -- "bandwidth_limit = 4M"
start_agent ctl

wait_status "s['state'] == 'INITIAL_MIRROR' and s['disks'][0]['bytes_done'] > 0" 30
out=$(lm status) || die "livemig status failed"
echo "$out"
# a slow run may see the mirror over by now
for want in "machine: *ctl" "state: *(INITIAL_MIRROR|CHANGE_COPY)" "127.0.0.1:$STAGING_PORT, connected" "d0 .*$dev"; do
	grep -qE "$want" <<<"$out" || die "status output lacks '$want'"
done
pass "plain status names machine, state, staging and the disk"
lm status --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
d = s["disks"][0]
assert s["machine"] == "ctl" and s["tracker"] == "scan", s
assert d["bytes_total"] == 96 << 20 and 0 < d["bytes_done"] <= d["bytes_total"], d
assert d["eta_seconds"] is None or d["eta_seconds"] >= 0, d
assert s["throughput_bps"] >= 0 and s["wire_bytes"] > 0, s' || die "status JSON is inconsistent"
pass "JSON status is consistent"

lm pause >/dev/null || die "pause failed"
wait_status "s['state'] == 'PAUSED' and s['paused']" 10
b1=$(wait_still "s['disks'][0]['bytes_done']") # slots already read drain to staging
sleep 2
b2=$(status_get "s['disks'][0]['bytes_done']")
[ "$b1" = "$b2" ] || die "bytes moved while paused ($b1 -> $b2)"
pass "paused: nothing moves ($b1 bytes done)"
if lm sync >"$T/sync.out" 2>&1; then
	die "sync succeeded while paused"
fi
grep -q "paused" "$T/sync.out" || die "sync refusal does not say why: $(cat "$T/sync.out")"
pass "sync while paused is refused: $(cat "$T/sync.out")"
lm resume >/dev/null || die "resume failed"
wait_status "s['state'] == 'CHANGE_COPY'" 60
pass "resumed and reached CHANGE_COPY"
lm sync >"$T/sync.out" || die "sync failed"
grep -qE "replica consistent as of [0-9]{4}-" "$T/sync.out" || die "sync said: $(cat "$T/sync.out")"
[ "$(status_get "s['last_consistent_ns'] > 0")" = True ] || die "status lacks the consistent point"
assert_same "$dev" "$(replica ctl d0)" "replica after pause, resume and sync"
stop_agent

# no daemon: a clear message and exit status 3
rc=0
"$BUILD/livemig" --socket "$T/nobody.sock" status >"$T/none.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || die "status without a daemon exited $rc, not 3"
grep -q "cannot reach livemigd" "$T/none.out" || die "unclear message: $(cat "$T/none.out")"
pass "no daemon: $(head -1 "$T/none.out")"

# a configuration mistake names the file and line, and livemigd exits 1
printf '[agent]\nmachine = ok\nworkers = lots\n' >"$T/bad.conf"
rc=0
"$BUILD/livemigd" -c "$T/bad.conf" >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "bad configuration exited $rc"
grep -q "bad.conf:3: workers" "$T/bad.out" || die "unclear message: $(cat "$T/bad.out")"
pass "bad configuration: $(cat "$T/bad.out")"
"$BUILD/livemigd" --check-config -c "$T/ctl.conf" | has_line "configuration is valid" ||
	die "--check-config does not accept a good file"
pass "--check-config accepts the good file"

# the example in docs/configuration.md is a valid configuration
python3 - "$TESTS/../../docs/configuration.md" "$T/doc.conf" <<'PY'
import re, sys
doc = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(re.search(r"```ini\n(.*?)```", doc, re.S).group(1))
PY
"$BUILD/livemigd" --check-config -c "$T/doc.conf" >"$T/doc.out" 2>&1 ||
	die "the documented example does not parse: $(cat "$T/doc.out")"
pass "the example in docs/configuration.md is accepted"
