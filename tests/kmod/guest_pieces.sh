#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/kmod/run.sh guest_pieces.sh: the piece masks
# (docs/kmod-abi.md, "Pieces"). Writes of known shapes on /dev/vda (64 GiB,
# 64 KiB blocks, 4 KiB pieces), then READ in the PIECES format must give
# exactly the pieces written: a 4 KiB write, an 8 KiB write straddling two
# blocks, a whole block, a 512-byte write, partial then whole, whole then
# partial, two writes in one block, a write over three blocks, a block in
# another mask page. Then ABORT must merge the masks into the active
# generation (a partial write on a block whole in the frozen one stays
# whole), the memory counters in sysfs, and the cap: past piece_cap_kib a
# partial write marks its block whole (counted in piece_fallbacks), and
# piece_cap_kib=0 gives whole blocks.
# Exit 0 only if every check passed.
set -u
OUT=$1
# shellcheck source=tests/kmod/guest_module_lib.sh
. /mnt/repo/tests/kmod/guest_module_lib.sh
failures=0
# one map's top directory: a pointer per directory page, each covering 512
# mask pages of 2048 blocks (64 GiB): one for this disk
DIR=8
PAGE=4096

# dd of COUNT blocks of BS bytes at byte offset OFF of /dev/vda (O_DIRECT)
put() { # OFF BS [COUNT]
	dd if=/dev/urandom of=/dev/vda bs="$2" count="${3:-1}" seek=$(($1 / $2)) oflag=direct status=none ||
		fail "dd $*"
}
K=1024
pieces() { "$T" read /dev/vda pieces "${1:-65536}" 2>/dev/null; }
stat_of() { cat "$S/$1"; }

echo "== the masks of known writes"
insmod "$KO" || { fail insmod; exit 1; }
check "piece_cap_bytes" "$(stat_of piece_cap_bytes)" $((8192 * K))
"$T" attach /dev/vda >/dev/null || fail attach
check "piece_bytes after ATTACH (a directory)" "$(stat_of piece_bytes)" $DIR
put $((10 * BS + 3 * 4096)) 4096              # block 10, piece 3
put $((21 * BS - 4096)) 4096 2                # blocks 20 and 21, one piece each
put $((30 * BS)) $BS                          # block 30 whole
put $((40 * BS + 5 * 4096 + 512)) 512         # block 40, 512 bytes in piece 5
put $((50 * BS)) 4096                         # block 50: partial ...
put $((50 * BS)) $BS                          # ... then whole
put $((60 * BS)) $BS                          # block 60: whole ...
put $((60 * BS + 2 * 4096)) 4096              # ... then partial: stays whole
put $((70 * BS + 4096)) 4096                  # block 70, pieces 1 and 9
put $((70 * BS + 9 * 4096)) 4096
put $((80 * BS + 8 * 4096)) 4096 32           # block 80 piece 8 to block 82 piece 7
put $((40 * 1024 * 1048576 + 15 * 4096)) 4096 # 40 GiB: another mask page
check "piece_bytes: a directory page, two mask pages" "$(stat_of piece_bytes)" $((DIR + 3 * PAGE))
check "piece_fallbacks" "$(stat_of piece_fallbacks)" 0
check "SNAPSHOT blocks" "$(snapblocks /dev/vda)" 12
want="652+4 1340+8 1920+64 2580+4 3200+64 3840+64 4484+4 4516+4 5152+128 41943100+4"
check "READ pieces" "$(pieces)" "$want"
check "READ pieces, 8 extents a page" "$(pieces 128)" "$want"
check "READ extents still whole blocks" "$(rd /dev/vda)" "10 20 21 30 40 50 60 70 80 81 82 655360"
case $("$T" read /dev/vda pieces 112 2>&1) in
*'Invalid argument'*) pass "READ pieces into less than 8 extents: EINVAL" ;;
*) fail "READ pieces into 7 extents did not fail with EINVAL" ;;
esac
check "piece_bytes with a frozen map" "$(stat_of piece_bytes)" $((2 * DIR + 3 * PAGE))

echo "== ABORT merges the masks"
put $((10 * BS + 7 * 4096)) 4096              # block 10, piece 7 too
put $((30 * BS)) 4096                         # whole in the frozen map: stays whole
put $((70 * BS)) $BS                          # partial in the frozen map, now whole
put $((90 * BS + 4 * 4096)) 4096              # a new block
"$T" abort /dev/vda || fail abort
check "SNAPSHOT after ABORT" "$(snapblocks /dev/vda)" 13
check "READ pieces after ABORT" "$(pieces)" \
	"652+4 668+4 1340+8 1920+64 2580+4 3200+64 3840+64 4480+64 5152+128 5776+4 41943100+4"
"$T" ack /dev/vda || fail ack
check "piece_bytes after ACK (the new map's directory)" "$(stat_of piece_bytes)" $DIR
"$T" detach /dev/vda || fail detach
check "piece_bytes after DETACH" "$(stat_of piece_bytes)" 0
rmmod livemig_cbt || fail rmmod

echo "== the cap: two pages (a directory page and one mask page)"
insmod "$KO" piece_cap_kib=8 || fail "insmod piece_cap_kib=8"
"$T" attach /dev/vda >/dev/null || fail attach
put $((100 * BS + 4096)) 4096                 # page 0: the one mask page
put $((5000 * BS + 4096)) 4096                # page 2: past the cap, whole
put $((101 * BS + 2 * 4096)) 4096             # page 0 again
check "piece_fallbacks past the cap" "$(stat_of piece_fallbacks)" 1
check "SNAPSHOT blocks" "$(snapblocks /dev/vda)" 3
check "READ pieces past the cap" "$(pieces)" "6404+4 6472+4 320000+64"
check "piece_bytes at the cap" "$(stat_of piece_bytes)" $((2 * DIR + 2 * PAGE))
"$T" ack /dev/vda || fail ack
"$T" detach /dev/vda || fail detach
rmmod livemig_cbt || fail rmmod

echo "== piece_cap_kib=0: whole blocks"
insmod "$KO" piece_cap_kib=0 || fail "insmod piece_cap_kib=0"
"$T" attach /dev/vda >/dev/null || fail attach
put $((100 * BS + 4096)) 4096
check "SNAPSHOT blocks" "$(snapblocks /dev/vda)" 1
check "READ pieces with no cap" "$(pieces)" "6400+64"
check "piece_fallbacks" "$(stat_of piece_fallbacks)" 1
"$T" ack /dev/vda || fail ack
"$T" detach /dev/vda || fail detach
rmmod livemig_cbt || fail rmmod
kernel_log_check

echo "== $failures failure(s)"
[ "$failures" = 0 ]
