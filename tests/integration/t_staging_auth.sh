#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig-staging authorization: a connection reaches only the volumes of the
# machine named by its certificate; certificates from any other CA, or none,
# fail the handshake; a newer connection of a machine replaces an older one.
# And a good client's writes come back as the right block hashes.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

start_staging
DISK=1:vda:20492K # 20 MiB + 12 KiB: the last 64 KiB block is clipped
IMG=$STAGING_STORE/alpha/disk-vda.img

head -c 1M /dev/urandom >"$T/a1"
frames alpha --disk "$DISK" write --file "$T/a1" >"$T/a1.out" || die "alpha cannot write: $(cat "$T/a1.out")"
before=$(file_sha "$IMG")
pass "machine alpha writes its own disk"

# --- another machine's certificate claiming alpha ---
head -c 1M /dev/urandom >"$T/evil"
frames bravo --machine alpha --disk "$DISK" write --file "$T/evil" >"$T/b.out" 2>&1 &&
	die "bravo's certificate was accepted for alpha"
grep -q '^ERROR 3 certificate is for machine bravo, not alpha$' "$T/b.out" ||
	die "expected ERROR 3 for bravo claiming alpha, got: $(cat "$T/b.out")"
wait_for_log "$STAGING_LOG" 'closing connection from 127\.0\.0\.1:[0-9]+ \(machine bravo\): certificate is for machine bravo, not alpha' 5 ||
	die "the refusal is not logged"
frames bravo --machine alpha --disk "$DISK" write --pipeline --file "$T/evil" >"$T/b2.out" 2>&1 &&
	die "bravo's pipelined write was accepted"
grep -q '^ERROR 3 ' "$T/b2.out" || die "pipelined HELLO+DATA: $(cat "$T/b2.out")"
[ "$(file_sha "$IMG")" = "$before" ] || die "alpha's image changed"
[ ! -e "$STAGING_STORE/bravo" ] || die "a store was created for the refused connection"
pass "machine bravo's certificate cannot write machine alpha's disk (ERROR 3), image untouched"

# --- certificates that do not come from the agent CA ---
make_ca "rogue CA" "$T/rogue"
make_cert "$T/rogue" alpha "$T/rogue/alpha"
n=$(grep -c 'TLS handshake with .* failed' "$STAGING_LOG")
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$T/rogue/alpha.pem" \
	--key "$T/rogue/alpha.key" --machine alpha --disk "$DISK" write --file "$T/evil" \
	>"$T/rogue.out" 2>&1 && die "a certificate from another CA was accepted"
grep -qE '^(TLS_ERROR|EOF)' "$T/rogue.out" || die "rogue CA: $(cat "$T/rogue.out")"
wait_for_log "$STAGING_LOG" "client certificate rejected .certificate verify failed.: unable to get local issuer certificate; agents need a certificate from the CA this server trusts .--ca." 5 ||
	die "the refused handshake is not logged with its reason: $(grep 'TLS handshake with' "$STAGING_LOG")"
pass "a client certificate from another CA fails the handshake (logged: client certificate rejected, unable to get local issuer certificate, and the remedy)"

make_cert "$PKI/server-ca" alpha "$T/srvca-alpha"
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$T/srvca-alpha.pem" \
	--key "$T/srvca-alpha.key" --machine alpha --disk "$DISK" hello >"$T/srvca.out" 2>&1 &&
	die "a certificate from the server's CA was accepted as an agent"
pass "a certificate signed by the server's own CA is not an agent certificate"

python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --machine alpha \
	--disk "$DISK" hello >"$T/nocert.out" 2>&1 && die "a client without a certificate was accepted"
pass "a client without a certificate fails the handshake"
[ "$(grep -c 'TLS handshake with 127\.0\.0\.1:[0-9]* failed' "$STAGING_LOG")" -ge $((n + 3)) ] ||
	die "not every refused handshake was logged"
[ "$(file_sha "$IMG")" = "$before" ] || die "alpha's image changed"
pass "every refused handshake is logged; alpha's image is untouched"

make_cert "$PKI/agent-ca" "bad name" "$PKI/badname"
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$PKI/badname.pem" \
	--key "$PKI/badname.key" --machine alpha --disk "$DISK" hello >"$T/badname.out" 2>&1 &&
	die "a certificate whose CN is not a machine name was accepted"
wait_for_log "$STAGING_LOG" 'refusing connection from .*no valid machine name' 5 ||
	die "the bad common name is not logged"
pass "a certificate whose common name is not a valid machine name is refused"

# a CN one character too long must not pass as its 63-character prefix
long63=$(printf 'm%.0s' $(seq 63))
make_cert "$PKI/agent-ca" "${long63}x" "$PKI/long"
n=$(grep -c 'no valid machine name' "$STAGING_LOG")
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$PKI/long.pem" \
	--key "$PKI/long.key" --machine "$long63" --disk "$DISK" hello >"$T/long.out" 2>&1 &&
	die "a 64-character CN was accepted as its 63-character prefix"
# two common names: which machine would it be?
make_cert "$PKI/agent-ca" "alpha/CN=bravo" "$PKI/twocn"
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$PKI/twocn.pem" \
	--key "$PKI/twocn.key" --machine alpha --disk "$DISK" hello >"$T/twocn.out" 2>&1 &&
	die "a certificate with two common names was accepted"
for _ in $(seq 600); do # bounded for a hang only
	[ "$(grep -c 'no valid machine name' "$STAGING_LOG")" -ge $((n + 2)) ] && break
	sleep 0.1
done
[ "$(grep -c 'no valid machine name' "$STAGING_LOG")" -ge $((n + 2)) ] || die "refusals not logged"
[ ! -e "$STAGING_STORE/$long63" ] || die "a store was made for the truncated name"
pass "an over-long common name, or two of them, is refused (no silent truncation)"

# --- takeover: the newer connection owns the machine ---
frames alpha --disk "$DISK" takeover >"$T/takeover.out" 2>&1 || die "takeover: $(cat "$T/takeover.out")"
grep -q 'ERROR 7 replaced by a newer connection for machine alpha' "$T/takeover.out" || die "old connection not refused: $(cat "$T/takeover.out")"
grep -q '^NEW written' "$T/takeover.out" || die "new connection cannot write: $(cat "$T/takeover.out")"
python3 - "$IMG" <<'EOF' || die "takeover: wrong bytes in the image"
import sys
d = open(sys.argv[1], "rb").read(12288)
assert d[:4096] == b"\x11" * 4096, "first write of the old connection missing"
assert d[4096:8192] != b"\x22" * 4096, "the replaced connection wrote after the takeover"
assert d[8192:12288] == b"\x33" * 4096, "write of the new connection missing"
EOF
pass "a new connection of alpha replaces the old one, which gets ERROR 7 and writes nothing more"

# --- a good client: write (raw and deflate), FLUSH, ACK, hashes match ---
SIZE=$((20 * 1024 * 1024 + 12 * 1024))
truncate -s "$SIZE" "$T/model"
dd if="$T/a1" of="$T/model" conv=notrunc status=none
python3 - "$T/model" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.write(b"\x11" * 4096)
    f.seek(8192)
    f.write(b"\x33" * 4096)
EOF
cmp "$IMG" "$T/model" || die "the image is not exactly what alpha wrote so far"
head -c 1M /dev/urandom >"$T/r1"
python3 -c 'import sys; sys.stdout.buffer.write(b"livemig " * 65536)' >"$T/r2" # compressible
frames alpha --disk "$DISK" write --file "$T/r1" --offset 64K >"$T/w1.out" || die "write r1: $(cat "$T/w1.out")"
frames alpha --disk "$DISK" write --file "$T/r2" --offset 4M --deflate >"$T/w2.out" || die "write r2: $(cat "$T/w2.out")"
head -c 12K /dev/urandom >"$T/tail"
frames alpha --disk "$DISK" write --file "$T/tail" --offset $((SIZE - 12288)) >"$T/w3.out" || die "write tail"
grep -q '^ACK ' "$T/w1.out" && grep -q '^ACK ' "$T/w2.out" || die "no ACK"
dd if="$T/r1" of="$T/model" bs=64K seek=1 conv=notrunc status=none
dd if="$T/r2" of="$T/model" bs=1M seek=4 conv=notrunc status=none
dd if="$T/tail" of="$T/model" bs=4K seek=$(((SIZE - 12288) / 4096)) conv=notrunc status=none
pass "raw and deflated writes are acknowledged after FLUSH"

# verify_hashes OFFSET BLOCK_SIZE COUNT: HASH_REQ against sha256[:16] of the model
verify_hashes() {
	frames alpha --disk "$DISK" hashes --offset "$1" --hash-block-size "$2" --count "$3" \
		>"$T/hashes.out" || die "HASH_REQ failed: $(cat "$T/hashes.out")"
	python3 - "$T/model" "$T/hashes.out" "$@" <<'EOF'
import hashlib, sys
model, got = open(sys.argv[1], "rb").read(), {}
off, bs, count = (int(x) for x in sys.argv[3:6])
for line in open(sys.argv[2]):
    if line.startswith("HASH "):
        _, i, h = line.split()
        got[int(i)] = h
assert len(got) == count, f"{len(got)} hashes for {count} blocks"
for i in range(count):
    start = off + i * bs
    want = hashlib.sha256(model[start:start + bs]).hexdigest()[:32]
    assert got[i] == want, f"block {i}: {got[i]} != {want}"
EOF
}
verify_hashes 0 65536 $(((SIZE + 65535) / 65536)) || die "hashes differ from the data written"
pass "HASH_RESP matches sha256[:16] of every 64 KiB block (data, holes, clipped tail)"
verify_hashes 65536 4096 4096 || die "4 KiB hashes differ from the data written"
pass "a HASH_REQ of the maximum 4096 blocks of 4 KiB matches too"
verify_hashes $((SIZE - 12288)) 1048576 1 || die "a single clipped 1 MiB block differs"
pass "a 1 MiB block starting 12 KiB before the end hashes its 12 KiB"

cmp "$IMG" "$T/model" || die "the image differs from what was written"
pass "the image holds exactly the bytes written"

stop_staging
pass "livemig-staging exits 0 on SIGTERM"
