#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The livemig demo: replicate a 1 GiB disk that keeps changing, to a staging
# server on 127.0.0.1, then cut over and prove the replica is identical.
#   tests/demo/demo.sh BUILD_DIR        (make demo runs it)
# Everything lives in a temporary directory and is removed at the end.
. "$(dirname "$0")/../integration/lib.sh" "$@"
. "$TESTS/agent_lib.sh"

SIZE=${DEMO_SIZE:-1G}
step() { printf '\n==> %s\n' "$*"; }

step "Making a $SIZE source disk shaped like a real one (zeros, file data, random data)"
python3 "$TESTS/make_disk.py" "$T/source.img" "$SIZE" --seed 2026
if [ "$(id -u)" -eq 0 ] && dev=$(make_loop "$T/source.img" 2>/dev/null); then
	echo "    attached as $dev"
else
	dev=$T/source.img
	echo "    not root: replicating the image file itself"
fi

step "Starting livemig-staging on 127.0.0.1 with freshly made certificates"
start_staging
echo "    listening on 127.0.0.1:$STAGING_PORT, store $STAGING_STORE"

step "Starting livemigd (machine demo-server) and a writer that keeps changing the disk"
write_agent_config demo-server "$dev" -- "scan_interval = 1s"
python3 "$TESTS/writer.py" "$dev" --seed 7 --rate 100 >"$T/writer.out" 2>&1 &
writer=$!
track_pid "$writer"
start_agent demo-server

progress() {
	status_get "'%-15s %5.1f%%  %8.1f MiB/s  sent %7.1f MiB, on the wire %7.1f MiB, rounds %d' % (s['state'], s['disks'][0]['percent'], s['throughput_bps'] / 2**20, s['sent_bytes'] / 2**20, s['wire_bytes'] / 2**20, s['rounds'])"
}
step "Initial mirror (the writer is running: changes are tracked from the first read)"
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

step "Cutover: stop writes, final sync"
kill -TERM "$writer"
wait "$writer"
echo "    $(cat "$T/writer.out")"
lm sync | sed 's/^/    /'
lm status | sed 's/^/    /'
stop_agent

step "Comparing source and replica"
src_sha=$(file_sha "$dev")
rep_sha=$(file_sha "$(replica demo-server d0)")
echo "    source  $src_sha"
echo "    replica $rep_sha"
[ "$src_sha" = "$rep_sha" ] || die "replica differs from source"
echo "verified: replica identical to source (sha256 $rep_sha)"
