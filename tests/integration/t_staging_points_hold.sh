#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copy-on-write points (ext4) with the writes that first overwrite chunks
# after a point held back until the delta's sync: overlapping DATA and ZERO
# frames on the same chunks, sent in one burst after a point, keep their
# order (every point's export and the live image equal the source, modelled
# by frames.py); a HASH_REQ after held writes sees them, and one of a range
# no held write touches is answered right without them. The staging log
# must show that writes were held (a burst is retried a few times should
# staging have caught up with the client between frames).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/points_lib.sh"
need_root
command -v jq >/dev/null || die "jq is missing (ci/deps.sh test installs it)"

MACHINE=ph
DISK=(--disk 1:vda:8M)
cat >"$T/steps" <<S
data 1 0 8M 1
mark now
burst
data 1 0 64K 2
data 1 32K 64K 3
zero 1 16K 32K
data 1 20K 8K 4
data 1 1M 1M 5
zero 1 1536K 256K
data 1 1600K 10K 6
data 1 64K 128K 7
zero 1 0 4K
hash 1 0 4096 512
data 1 3M 64K 8
data 1 3076K 8K 9
zero 1 3M 4K
data 1 2M 2M 10
data 1 3M 16K 11
mark now
burst
data 1 3M 4K 12
zero 1 3M 1M
data 1 0 1M 13
zero 1 512K 64K
hash 1 5M 4096 256
hash 1 0 65536 128
data 1 6M 2M 14
data 1 7M 4K 15
mark now
S

make_fs ext4 "$T/ext4" 256M
STAGING_STORE=$T/ext4/store
held=0
for try in 1 2 3 4 5; do
	rm -rf "$STAGING_STORE"
	start_staging
	grep -q 'recovery points: copy-on-write deltas' "$STAGING_LOG" || die "ext4 not detected as copy-on-write"
	out=$T/script.$try
	frames "$MACHINE" --quiet-hashes "${DISK[@]}" script --steps "$T/steps" >"$out" ||
		die "script failed: $(cat "$out")"
	stop_staging
	[ "$(grep -c '^HASHES ok$' "$out")" -eq 3 ] || die "HASH_REQ answers missing: $(cat "$out")"
	[ "$(pts list "$MACHINE" --json | jq -c '[.points[].id]')" = '[1,2,3]' ] ||
		die "points are not 1..3: $(pts list "$MACHINE" --json)"
	for id in 1 2 3; do
		[ "$(export_sha "$id" vda)" = "$(model_of "$(point_seq "$id")" vda "$out")" ] ||
			die "try $try: point $id differs from the source at its MARK"
	done
	[ "$(file_sha "$STAGING_STORE/$MACHINE/disk-vda.img")" = "$(model_of "$(point_seq 3)" vda "$out")" ] ||
		die "try $try: the live image differs from the source"
	held=$(sed -n 's/.*: held \([0-9]*\) writes back until.*/\1/p' "$STAGING_LOG" | sed -n '$p')
	[ "${held:-0}" -gt 0 ] && break
	echo "try $try: staging kept up with the burst, nothing was held; again"
done
[ "${held:-0}" -gt 0 ] || die "no write was ever held back in 5 tries: $(cat "$STAGING_LOG")"
pass "held writes ($held) keep their order: 3 points and the live image equal the source; HASH_REQ sees them"
