#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig-staging durability and store rules: an ACK means the data survives a
# kill -9; ZERO punches holes; resends are harmless; the manifest and the
# checkpoint persist; a full store refuses cleanly (ERROR 5, nothing torn) and
# replication resumes once space is freed; SIGTERM ends sessions with BYE.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

MiB=$((1024 * 1024))
DISK=1:vda:64M
IMG_DIR=$T/store/gamma
IMG=$IMG_DIR/disk-vda.img

# model_write FILE OFFSET: mirror a write into the expected image
model_write() {
	dd if="$1" of="$T/model" bs=64K seek=$(($2 / 65536)) conv=notrunc status=none
}

start_staging
truncate -s 64M "$T/model"

# --- ACK means durable: kill -9 right after the ACK ---
head -c 6M /dev/urandom >"$T/d1"
frames gamma --disk "$DISK" write --file "$T/d1" --offset 3M --no-bye >"$T/d1.out" ||
	die "write: $(cat "$T/d1.out")"
kill_staging
model_write "$T/d1" $((3 * MiB))
grep -q '^ACK 7$' "$T/d1.out" || die "no ACK for the FLUSH: $(cat "$T/d1.out")"
head -c 2M /dev/urandom >"$T/d2"
start_staging
frames gamma --disk "$DISK" write --file "$T/d2" --offset 20M --no-flush --no-bye >"$T/d2.out" ||
	die "write without FLUSH: $(cat "$T/d2.out")"
kill_staging
model_write "$T/d2" $((20 * MiB))
grep -q '^ACK 2$' "$T/d2.out" || die "group commit did not ACK: $(cat "$T/d2.out")"
start_staging
frames gamma --disk "$DISK" --quiet-hashes hello >"$T/w.out" || die "reconnect: $(cat "$T/w.out")"
grep -q '^WELCOME new=0 ' "$T/w.out" || die "the store was not found again: $(cat "$T/w.out")"
cmp "$IMG" "$T/model" || die "acknowledged data is missing after kill -9"
pass "acknowledged writes (after FLUSH, and by group commit alone) survive kill -9"

# hashes from the restarted server agree with the data
frames gamma --disk "$DISK" hashes --offset 3M --hash-block-size 1M --count 6 >"$T/h.out" ||
	die "HASH_REQ: $(cat "$T/h.out")"
python3 - "$T/d1" "$T/h.out" <<'EOF' || die "hashes after restart differ"
import hashlib, sys
data = open(sys.argv[1], "rb").read()
got = [l.split()[2] for l in open(sys.argv[2]) if l.startswith("HASH ")]
want = [hashlib.sha256(data[i << 20:(i + 1) << 20]).hexdigest()[:32] for i in range(6)]
assert got == want, (got, want)
EOF
pass "the restarted server's hashes match the data"

# --- resend is idempotent ---
before=$(file_sha "$IMG")
frames gamma --disk "$DISK" write --file "$T/d1" --offset 3M >"$T/r.out" || die "resend: $(cat "$T/r.out")"
frames gamma --disk "$DISK" write --file "$T/d1" --offset 3M --seq 100 --deflate >"$T/r2.out" ||
	die "resend: $(cat "$T/r2.out")"
[ "$(file_sha "$IMG")" = "$before" ] || die "resending the same writes changed the image"
pass "resending the same writes (raw, then deflated) leaves the image unchanged"

# --- ZERO punches a hole ---
used() { du -k "$IMG" | cut -f1; }
u1=$(used)
frames gamma --disk "$DISK" zero --offset 3M --length 6M >"$T/z.out" || die "zero: $(cat "$T/z.out")"
u2=$(used)
dd if=/dev/zero of="$T/model" bs=1M seek=3 count=6 conv=notrunc status=none
cmp "$IMG" "$T/model" || die "ZERO did not zero the range"
[ "$u2" -le $((u1 - 6 * 1024 + 64)) ] || die "ZERO did not free the space (du ${u1}K -> ${u2}K)"
[ "$(stat -c %s "$IMG")" -eq $((64 * MiB)) ] || die "ZERO changed the image size"
pass "ZERO punches a hole: du ${u1}K -> ${u2}K, size unchanged, bytes zero"

# --- manifest, checkpoint, modes ---
sid=$(sed -n 's/.*store_id=\([0-9a-f]*\).*/\1/p' "$T/w.out")
python3 - "$IMG_DIR/manifest.json" "$sid" <<'EOF' || die "manifest.json is wrong"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == 1 and m["machine"] == "gamma" and m["store_id"] == sys.argv[2], m
assert [(d["id"], d["name"], d["size"], d["image"]) for d in m["disks"]] == \
    [(1, "vda", 64 << 20, "disk-vda.img")], m["disks"]
assert all("created" in d for d in m["disks"]) and "created" in m
EOF
[ "$(stat -c %a "$IMG_DIR")" = 700 ] && [ "$(stat -c %a "$T/store")" = 700 ] ||
	die "store directories are not mode 0700"
pass "manifest.json records format, machine, store_id, disks; directories are 0700"

frames gamma --disk "$DISK" mark --time 1700000000123456789 --seq 9 >"$T/m.out" ||
	die "mark: $(cat "$T/m.out")"
grep -q '^ACK 9$' "$T/m.out" || die "MARK not acknowledged: $(cat "$T/m.out")"
python3 - "$IMG_DIR/checkpoint.json" <<'EOF' || die "checkpoint.json is wrong"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["kind"] == "consistent" and c["consistent_ns"] == 1700000000123456789 and c["seq"] == 9, c
assert "written_at" in c
EOF
frames gamma --disk "$DISK" hello >"$T/w2.out" || die "hello: $(cat "$T/w2.out")"
grep -q "^WELCOME new=0 store_id=$sid consistent_ns=1700000000123456789 codecs=2$" "$T/w2.out" ||
	die "WELCOME does not carry the checkpoint: $(cat "$T/w2.out")"
pass "MARK writes checkpoint.json and WELCOME reports its consistent_ns"

frames gamma --disk 1:vda:64M --disk 2:vdb:8M hello >"$T/nd.out" || die "new disk: $(cat "$T/nd.out")"
[ "$(stat -c %s "$IMG_DIR/disk-vdb.img")" -eq $((8 * MiB)) ] || die "no 8 MiB image for the new disk"
[ "$(du -k "$IMG_DIR/disk-vdb.img" | cut -f1)" -eq 0 ] || die "the new image is not sparse"
grep -q '"disk-vdb.img"' "$IMG_DIR/manifest.json" || die "the new disk is not in the manifest"
pass "a new disk in HELLO gets a sparse image and a manifest entry"

frames gamma --disk 1:vda:65M hello >"$T/sz.out" 2>&1 && die "a resized disk was accepted"
grep -q '^ERROR 4 disk vda changed size from 67108864 to 68157440 bytes' "$T/sz.out" ||
	die "resize: $(cat "$T/sz.out")"
frames gamma --disk 7:vda:64M hello >"$T/id.out" 2>&1 && die "a disk with another id was accepted"
grep -q '^ERROR 4 ' "$T/id.out" || die "id change: $(cat "$T/id.out")"
cmp "$IMG" "$T/model" || die "a refused HELLO changed the image"
pass "a HELLO whose disk changed size or id is refused with ERROR 4"

# --- SIGTERM: sessions finish, get BYE, exit 0 ---
frames gamma --disk "$DISK" loop --offset 40M --until-file "$T/never" >"$T/loop.out" 2>&1 &
LOOP=$!
track_pid "$LOOP"
wait_for_log "$T/loop.out" WELCOME 10 || die "loop client did not connect"
sleep 0.3
stop_staging
wait "$LOOP"
grep -q '^BYE$' "$T/loop.out" || die "the open session was not told BYE: $(cat "$T/loop.out")"
pass "SIGTERM: an open session is told BYE and livemig-staging exits 0"

# --- a full store ---
mkdir "$T/full"
mount -t tmpfs -o size=32M,mode=0700 tmpfs "$T/full" || die "cannot mount a tmpfs"
track_mount "$T/full"
STAGING_STORE=$T/full/store
start_staging
frames delta --disk "$DISK" hello >/dev/null || die "delta cannot connect"
dd if=/dev/zero of="$T/full/filler" bs=1M count=20 status=none
head -c 16M /dev/urandom >"$T/big"
frames delta --disk "$DISK" write --file "$T/big" >"$T/full.out" 2>&1 && die "16 MiB fit into 12 MiB"
msg="ERROR 5 staging store $T/full/store is full (no space left on device); replication resumes by itself when space is freed"
grep -qxF "$msg" "$T/full.out" || die "no ERROR 5 with the expected text: $(grep -v ^ACK "$T/full.out")"
grep -q "error: closing connection from .*(machine delta): staging store .* is full" "$STAGING_LOG" ||
	die "the full store is not logged as an error"
acked=$(sed -n 's/^ACK //p' "$T/full.out" | sort -n | tail -n1)
acked=${acked:-0}
[ "$acked" -ge 1 ] && [ "$acked" -lt 16 ] || die "unexpected ACK $acked"
DIMG=$STAGING_STORE/delta/disk-vda.img
cmp -n $((acked * MiB)) "$DIMG" "$T/big" || die "acknowledged frames are not in the image"
python3 - "$DIMG" "$acked" <<'EOF' || die "a frame after the last ACK was written (torn)"
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]) << 20)
    rest = f.read(16 << 20)
assert rest.count(0) == len(rest), "non-zero bytes after the acknowledged frames"
EOF
pass "full store: ERROR 5 with the remedy text, frames 1..$acked acknowledged and intact, nothing after them written"

rm "$T/full/filler"
dd if="$T/big" of="$T/rest" bs=1M skip="$acked" status=none
frames delta --disk "$DISK" write --file "$T/rest" --offset $((acked * MiB)) --seq $((acked + 1)) \
	>"$T/resume.out" || die "resume after freeing space: $(cat "$T/resume.out")"
cmp -n $((16 * MiB)) "$DIMG" "$T/big" || die "the resumed image is not complete"
pass "after space is freed the agent's resend is accepted and the image is complete"
kill -0 "$STAGING_PID" || die "livemig-staging died"
stop_staging
pass "livemig-staging exits 0 on SIGTERM"
