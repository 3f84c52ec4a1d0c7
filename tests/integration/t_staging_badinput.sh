#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig-staging against malformed input: every bad frame closes only its own
# connection, with the reason logged and sent back as ERROR; nothing of it
# reaches the image; and a well-behaved connection of another machine keeps
# being served (its writes are acknowledged and land) the whole time.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

start_staging
DISK=1:vda:16M
IMG=$STAGING_STORE/victim/disk-vda.img

head -c 2M /dev/urandom >"$T/base"
frames victim --disk "$DISK" write --file "$T/base" >"$T/base.out" ||
	die "the first write of machine victim failed: $(cat "$T/base.out")"
before=$(file_sha "$IMG")
pass "machine victim has a store with known content"

# another machine writing and reading back all along
frames bystander --disk 1:sda:8M loop --offset 1M --length 256K --until-file "$T/stop" \
	--record "$T/bystander.last" >"$T/bystander.out" 2>&1 &
BYSTANDER=$!
track_pid "$BYSTANDER"
wait_for_log "$T/bystander.out" WELCOME 10 || die "bystander did not connect: $(cat "$T/bystander.out")"

log_count() {
	grep -cE -- "$1" "$STAGING_LOG"
}

# kind | what the client sees first | reason in the log (regex)
cases=(
	"truncated-header|EOF|truncated frame header"
	"truncated-body|EOF|truncated frame$"
	"oversized|ERROR 1 |frame longer than the protocol allows"
	"bad-magic|ERROR 1 |bad magic"
	"version2|ERROR 2 |unsupported protocol version 2 "
	"unknown-type|ERROR 1 |unknown frame type"
	"reserved-flags|ERROR 1 |reserved flags set"
	"unknown-disk|ERROR 4 |DATA for disk id 1001, which HELLO did not name"
	"offset-past-end|ERROR 4 |DATA range 16777216\+4096 crosses the end of disk vda"
	"crossing-end|ERROR 4 |DATA range 16775168\+4096 crosses the end of disk vda"
	"raw-len-mismatch|ERROR 1 |raw payload length differs from declared length"
	"deflate-bomb|ERROR 1 |deflate payload does not inflate to the declared 4096 bytes"
	"deflate-short|ERROR 1 |deflate payload does not inflate to the declared 8192 bytes"
	"deflate-garbage|ERROR 1 |deflate payload does not inflate to the declared 4096 bytes"
	"data-before-hello|ERROR 1 |first frame must be HELLO, not DATA"
	"zero-past-end|ERROR 4 |ZERO range 16773120\+8192 crosses the end of disk vda"
	"hash-past-end|ERROR 4 |HASH_REQ blocks 16777216\+1\*4096 start past the end"
	"hello-twice|ERROR 1 |HELLO sent twice"
	"ack-from-agent|ERROR 1 |ACK frames are not sent by an agent"
)

for c in "${cases[@]}"; do
	IFS='|' read -r kind first reason <<<"$c"
	logline="closing connection from 127\.0\.0\.1:[0-9]+ \(machine victim\): .*$reason"
	n=$(log_count "$logline")
	frames victim --disk "$DISK" bad "$kind" >"$T/$kind.out" 2>&1
	grep -v '^WELCOME' "$T/$kind.out" | sed -n 1p | has_line "^$first" ||
		die "$kind: expected '$first' from staging, got: $(cat "$T/$kind.out")"
	tail -n1 "$T/$kind.out" | has_line '^EOF' ||
		die "$kind: connection not closed: $(cat "$T/$kind.out")"
	for _ in $(seq 600); do # bounded for a hang only
		[ "$(log_count "$logline")" -gt "$n" ] && break
		sleep 0.1
	done
	[ "$(log_count "$logline")" -gt "$n" ] || die "$kind: no log line matching: $logline"
	[ "$(file_sha "$IMG")" = "$before" ] || die "$kind: the image changed"
	kill -0 "$STAGING_PID" 2>/dev/null || die "$kind: livemig-staging died"
	pass "$kind: closed with '$first', logged, image unchanged"
done

# bad-input closes were logged at warn
grep -qE 'warning: closing connection from .*\(machine victim\): bad magic' "$STAGING_LOG" ||
	die "bad input is not logged at warning level"
pass "bad input is logged as a warning"

touch "$T/stop"
wait "$BYSTANDER" || die "the bystander connection failed: $(cat "$T/bystander.out")"
grep -q '^LOOP ok' "$T/bystander.out" || die "bystander: $(cat "$T/bystander.out")"
rounds=$(sed -n 's/^LOOP ok \([0-9]*\) rounds/\1/p' "$T/bystander.out")
cmp <(dd if="$STAGING_STORE/bystander/disk-sda.img" bs=256K skip=4 count=1 status=none) \
	"$T/bystander.last" || die "the bystander's last write is not in its image"
pass "machine bystander was served throughout ($rounds rounds written, acknowledged, hashed back)"

# the victim is still welcome after all this
frames victim --disk "$DISK" hello >"$T/after.out" && grep -q '^WELCOME new=0' "$T/after.out" ||
	die "machine victim cannot connect any more: $(cat "$T/after.out")"
pass "machine victim still connects normally"

stop_staging
pass "livemig-staging exits 0 on SIGTERM"
