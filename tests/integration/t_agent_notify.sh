#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sd_notify for the packaged unit (Type=notify): livemigd sends READY=1 only
# once its control socket answers, and STOPPING=1 on SIGTERM. The listener
# plays systemd's part: a datagram socket named by NOTIFY_SOCKET; at READY=1
# it asks livemigd for its status at once, which must answer.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
python3 "$TESTS/make_disk.py" "$T/src.img" 8M --seed 7
dev=$(make_loop "$T/src.img")
write_agent_config nfy "$dev"

python3 - "$T/notify.sock" "$T/notify.out" "$BUILD/livemig" "$T/nfy.sock" <<'PY' &
import socket, subprocess, sys
path, out, livemig, ctl = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
with open(out, "w", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        f.write("message: " + msg.replace("\n", "|") + "\n")
        if "READY=1" in msg.split("\n"):
            rc = subprocess.run([livemig, "--socket", ctl, "status", "--json"],
                                capture_output=True).returncode
            f.write("status at READY: exit %d\n" % rc)
        if "STOPPING=1" in msg.split("\n"):
            break
PY
listener=$!
track_pid "$listener"
for _ in $(seq 600); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
[ -S "$T/notify.sock" ] || die "the notify listener did not start"

AGENT_LOG=$T/nfy.agent.log
_LIB_LOGS+=("$AGENT_LOG")
NOTIFY_SOCKET=$T/notify.sock "$BUILD/livemigd" -c "$T/nfy.conf" >"$AGENT_LOG" 2>&1 &
AGENT_PID=$!
track_pid "$AGENT_PID"
for _ in $(seq 600); do grep -q 'status at READY' "$T/notify.out" 2>/dev/null && break; sleep 0.1; done
cat "$T/notify.out"
grep -q '^message: READY=1|STATUS=serving ' "$T/notify.out" || { cat "$AGENT_LOG"; die "no READY=1 from livemigd"; }
grep -q '^status at READY: exit 0$' "$T/notify.out" || die "livemigd said READY=1 before its control socket answered"
pass "READY=1 sent once the control socket answers (livemig status at that moment: exit 0)"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || die "livemigd exited with $? after SIGTERM"
wait "$listener" || die "the listener failed"
grep -q '^message: STOPPING=1$' "$T/notify.out" || die "no STOPPING=1 on SIGTERM: $(cat "$T/notify.out")"
pass "STOPPING=1 on SIGTERM, then exit 0"
