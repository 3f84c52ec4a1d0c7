#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build livemig-cbt with DKMS for a kernel fetched by fetch_kernel.sh, inside
# a debootstrap chroot of the kernel's own release: its headers want that
# release's compiler (gcc-10 for bullseye, gcc-14 for trixie, gcc-16 for
# sid) and its kbuild tools link that release's libc. The headers are
# installed in the chroot (apt-get install of the downloaded .debs), never
# on the host; DKMS then runs there exactly as on a user's machine (add,
# build -k KVER with the compile probes as PRE_BUILD). Then the probe
# cache: a second `dkms build` of the same version takes the cached results
# and gives the same cbt_config.h; LIVEMIG_CBT_PROBE_NOCACHE=1 (a third
# `dkms build`, and the script alone) and a touched autoconf.h probe again.
# The probes' two ways to compile (dkms/README.md): DKMS's build must take
# the batch (one compile), and the script's batch, its fallback (forced by
# LIVEMIG_CBT_PROBE_TEST_BREAK=batch and =confirm) and
# LIVEMIG_CBT_PROBE_MODE=each must write byte-identical cbt_config.h files.
#
#   tests/kmod/chroot_dkms.sh SUITE OUTDIR
# Result: OUTDIR/livemig_cbt.ko (uncompressed), OUTDIR/make.log (DKMS's log).
# CHROOT_ONLY=1: only make the cached chroot (below), build nothing.
# PROBE_TIMES=N: also time the probe script N times per mode, batch and
# each interleaved, without the cache (the CPU time: docs/kernels.md).
# The chroot is cached as $KCACHE/chroots/SUITE.tar.zst (debootstrap once,
# about a minute); each run unpacks it into a scratch directory, works in a
# private mount namespace (nothing stays mounted) and deletes it.
set -euo pipefail

SUITE=${1:?usage: chroot_dkms.sh SUITE OUTDIR}
DEST=${2:?usage: chroot_dkms.sh SUITE OUTDIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KCACHE=${KCACHE:-/var/cache/livemig-tests}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
K=$KCACHE/kernels/$SUITE
TARBALL=$KCACHE/chroots/$SUITE.tar.zst
V=0.0.0-test
say() { echo "chroot-dkms[$SUITE]: $*" >&2; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

for t in debootstrap zstd unshare chroot; do
	command -v $t >/dev/null || { say "missing $t (apt-get install debootstrap zstd util-linux)"; exit 2; }
done
[ -f "$K/kernel.env" ] || { say "run tests/kmod/fetch_kernel.sh $SUITE first"; exit 2; }
# shellcheck disable=SC1091
. "$K/kernel.env"
mkdir -p "$KCACHE/chroots" "$DEST"

# What the headers need beyond a minimal system (their compiler, pahole,
# libraries: BUILD_DEPS from fetch_kernel.sh), so a cached chroot installs
# them without downloading; dkms itself, and openssl (DKMS signs modules with
# a key it generates).
include=make,dkms,kmod,openssl
for d in ${BUILD_DEPS:-$COMPILER_PKG}; do include="$include,$d"; done

# debootstrap fetches with wget, which ignores apt's configuration: hand it
# apt's proxy, if the host has one
eval "$(apt-config shell APT_PROXY Acquire::http::Proxy)"
[ -z "${APT_PROXY:-}" ] || export http_proxy=${http_proxy:-$APT_PROXY}

# One debootstrap of a release at a time: the warming (kernels.sh --prepare)
# and check-kernels reach the same release at once in .ci/run; the second
# waits and finds the first's tarball.
exec 8>"$KCACHE/chroots/$SUITE.lock"
flock 8
if [ ! -s "$TARBALL" ]; then
	t=$(now)
	tmp=$KCACHE/chroots/$SUITE.new
	rm -rf "$tmp"
	say "debootstrap $SUITE (--include=$include)"
	if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$tmp" "$MIRROR" \
		>"$KCACHE/chroots/$SUITE.debootstrap.log" 2>&1; then
		tail -20 "$KCACHE/chroots/$SUITE.debootstrap.log" >&2
		say "debootstrap failed (log $KCACHE/chroots/$SUITE.debootstrap.log)"
		rm -rf "$tmp"
		exit 1
	fi
	tar -C "$tmp" -cf - . | zstd -q -T0 -3 >"$TARBALL.tmp"
	mv "$TARBALL.tmp" "$TARBALL"
	rm -rf "$tmp"
	say "chroot cached as $TARBALL ($(du -h "$TARBALL" | cut -f1)) in $(took "$t") s"
fi
exec 8>&-

# CHROOT_ONLY=1 (kernels.sh --prepare): the cached chroot is all that is wanted
[ "${CHROOT_ONLY:-0}" = 1 ] && exit 0

t=$(now)
C=$(mktemp -d "$KCACHE/chroots/$SUITE.run.XXXXXX")
trap 'rm -rf "$C"' EXIT
zstd -qdc "$TARBALL" | tar -C "$C" -xf -
mkdir -p "$C/tmp/debs"
for f in "$K"/debs/linux-headers-* "$K"/debs/linux-kbuild-* "$K"/debs/linux-base-*; do
	[ -e "$f" ] && cp "$f" "$C/tmp/debs/"
done
"$REPO/dkms/stage.sh" "$C/usr/src/livemig-cbt-$V" "$V"

# Inside the chroot, in a mount namespace of its own: install the headers
# (apt resolves anything the cached chroot lacks from the release itself),
# then DKMS as a user would run it for a kernel that is not running.
cat >"$C/tmp/build.sh" <<'EOS'
#!/bin/sh
set -eu
KVER=$1 V=$2 TIMES=$3
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
inst() { apt-get install -y -q --no-install-recommends /tmp/debs/*.deb; }
inst >/tmp/apt.log 2>&1 || { apt-get update -q >>/tmp/apt.log 2>&1 && inst >>/tmp/apt.log 2>&1; } ||
	{ cat /tmp/apt.log; echo "installing the headers failed"; exit 1; }
[ -f "/lib/modules/$KVER/build/Makefile" ] || { echo "no /lib/modules/$KVER/build after install"; exit 1; }
echo "dkms-version: $(dkms --version)"
dkms add -m livemig-cbt -v "$V" -k "$KVER"
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { echo "probe-cache: FAIL $*"; exit 1; }
said() { grep -c "$1" /tmp/dkms.log || true; }
CACHE=/var/cache/livemig-cbt PROBE=/usr/src/livemig-cbt-$V/livemig-cbt-probe.sh
KDIR=/lib/modules/$KVER/build
# DKMS's output and the build's make.log in /tmp/dkms.log: DKMS 2.8 and
# 3.0 print PRE_BUILD's output, 3.2 writes it to make.log (the newest one
# under the module's tree: `remove --all` deletes the earlier build's)
build() {
	rc=0
	dkms build -m livemig-cbt -v "$V" -k "$KVER" >/tmp/dkms.log 2>&1 || rc=$?
	cat /tmp/dkms.log
	log=$(find "/var/lib/dkms/livemig-cbt/$V" -name make.log -exec ls -t {} + 2>/dev/null | sed -n 1p)
	[ -z "$log" ] || cat "$log" >>/tmp/dkms.log
	[ $rc = 0 ] || { [ -z "$log" ] || cat "$log"; exit 1; }
}
t=$(now)
build
echo "dkms-build-1: $(took "$t") s wall"
[ "$(said 'probe: results kept in /var/cache/livemig-cbt/')" = 1 ] && [ "$(said 'probe: cached results')" = 0 ] ||
	fail "the first build did not probe and keep its results"
[ "$(ls "$CACHE" | wc -l)" = 1 ] || fail "$CACHE holds $(ls -A "$CACHE" | wc -l) files, not 1"
# DKMS 2.8 deletes its build tree after a build: what went into
# cbt_config.h is in the probe's lines (one per #define, the same loop)
grep '^probe: CBT_' /tmp/dkms.log >/tmp/results.first
[ "$(said 'probe: batch: ')" = 1 ] && [ "$(said 'probe: batch not clear')" = 0 ] ||
	fail "the first build did not take the batch: $(grep '^probe: batch' /tmp/dkms.log)"

# the same version again, removed and added as a package upgrade or a
# reinstall does (DKMS 2.8 ignores `build --force` on a built module)
dkms remove -m livemig-cbt -v "$V" --all >/dev/null
dkms add -m livemig-cbt -v "$V" -k "$KVER" >/dev/null
t=$(now)
build
echo "dkms-build-2: $(took "$t") s wall"
[ "$(said "probe: cached results for $KVER from $CACHE/")" = 1 ] || fail "the second build did not use the cached results"
grep '^probe: CBT_' /tmp/dkms.log >/tmp/results.second
cmp /tmp/results.first /tmp/results.second || fail "the cached results gave another cbt_config.h"

# LIVEMIG_CBT_PROBE_NOCACHE=1 reaches PRE_BUILD through DKMS: it probes
dkms remove -m livemig-cbt -v "$V" --all >/dev/null
dkms add -m livemig-cbt -v "$V" -k "$KVER" >/dev/null
LIVEMIG_CBT_PROBE_NOCACHE=1
export LIVEMIG_CBT_PROBE_NOCACHE
build
unset LIVEMIG_CBT_PROBE_NOCACHE
[ "$(said 'probe: results kept in /var/cache/livemig-cbt/')" = 1 ] && [ "$(said 'probe: cached results')" = 0 ] ||
	fail "LIVEMIG_CBT_PROBE_NOCACHE=1 dkms build did not probe"
grep '^probe: CBT_' /tmp/dkms.log >/tmp/results.third
cmp /tmp/results.first /tmp/results.third || fail "probing again gave other results"

# what a probe run costs, probed and cached (the key's own work included):
# wall and CPU time (bash's `time`: the wall time moves with the load)
timed() { # LOG CMD...: CMD's stderr to LOG; prints its times
	bash -c 'log=$1; shift; TIMEFORMAT="%R s wall, %U+%S s CPU"; { time "$@" 2>"$log"; } 2>&1' _ "$@"
}
mkdir -p /tmp/p1 /tmp/p2 /tmp/p3
tm=$(timed /tmp/p1.log env LIVEMIG_CBT_PROBE_NOCACHE=1 "$PROBE" "$KDIR" /tmp/p1 "$CACHE") ||
	{ cat /tmp/p1.log; fail "NOCACHE probe"; }
echo "probe-run-nocache: $tm"
tm=$(timed /tmp/p2.log "$PROBE" "$KDIR" /tmp/p2 "$CACHE") || { cat /tmp/p2.log; fail "cached probe"; }
echo "probe-run-cached: $tm"
! grep -q 'cached results' /tmp/p1.log && grep -q 'results kept' /tmp/p1.log ||
	fail "LIVEMIG_CBT_PROBE_NOCACHE=1 did not probe: $(cat /tmp/p1.log)"
grep -q 'cached results' /tmp/p2.log || fail "no cached results after NOCACHE's run"
grep '^probe: CBT_' /tmp/p1.log >/tmp/results.nocache
cmp /tmp/results.first /tmp/results.nocache || fail "NOCACHE's run gave other results than DKMS's build"
cmp /tmp/p1/cbt_config.h /tmp/p2/cbt_config.h || fail "the cached run's cbt_config.h differs from the probed one"

# the key names the compiler kbuild answers without the configuration
# (cheap); it must be the one kbuild compiles with, configuration read
mkdir -p /tmp/m
cc_noconf=$(make -s --no-print-directory -C "$KDIR" M=/tmp/m --eval 'checklivemig-cc: ; @echo "$(strip $(CC))"' checklivemig-cc)
cc_conf=$(make -s --no-print-directory -C "$KDIR" M=/tmp/m --eval 'livemig-cc: ; @echo "$(strip $(CC))"' livemig-cc)
[ -n "$cc_noconf" ] && [ "$cc_noconf" = "$cc_conf" ] ||
	fail "kbuild's compiler: '$cc_noconf' without the configuration, '$cc_conf' with it"
echo "kbuild-cc: $cc_noconf"

# a changed key: the headers' autoconf.h differs by a comment (in place:
# this chroot is thrown away; with a copy of the tree beside it, sid's 7.x
# kbuild rewrote the copy's Makefile and every probe failed), then restored
conf=$KDIR/include/generated/autoconf.h
cp -p "$conf" /tmp/autoconf.h.orig
echo '/* touched */' >>"$conf"
"$PROBE" "$KDIR" /tmp/p3 "$CACHE" 2>/tmp/p3.log || { cat /tmp/p3.log; fail "probe with the touched autoconf.h"; }
cp -p /tmp/autoconf.h.orig "$conf"
! grep -q 'cached results' /tmp/p3.log && grep -q 'results kept' /tmp/p3.log ||
	fail "a changed autoconf.h did not probe again: $(cat /tmp/p3.log)"
[ "$(ls "$CACHE" | wc -l)" = 2 ] || fail "$CACHE holds $(ls -A "$CACHE" | wc -l) files, not 2"
cmp /tmp/p1/cbt_config.h /tmp/p3/cbt_config.h || fail "the touched autoconf.h gave other results"
"$PROBE" "$KDIR" /tmp/p3 "$CACHE" 2>/tmp/p3.log || { cat /tmp/p3.log; fail "probe with autoconf.h restored"; }
grep -q 'cached results' /tmp/p3.log || fail "autoconf.h restored: its entry was not found again"
# the two modes, and the fallback, give the same cbt_config.h (no cache:
# each run probes)
mkdir -p /tmp/pe /tmp/pb /tmp/pc
tm=$(timed /tmp/pe.log env LIVEMIG_CBT_PROBE_MODE=each "$PROBE" "$KDIR" /tmp/pe) || { cat /tmp/pe.log; fail "each mode"; }
echo "probe-run-each: $tm"
grep -q 'probe: compiling each probe alone (LIVEMIG_CBT_PROBE_MODE=each)' /tmp/pe.log || fail "each mode: $(cat /tmp/pe.log)"
grep -q '^probe: batch: ' /tmp/p1.log || fail "the NOCACHE run did not take the batch: $(cat /tmp/p1.log)"
cmp /tmp/p1/cbt_config.h /tmp/pe/cbt_config.h || fail "the batch and each mode differ: $(diff /tmp/p1/cbt_config.h /tmp/pe/cbt_config.h)"
for k in batch confirm; do
	LIVEMIG_CBT_PROBE_TEST_BREAK=$k "$PROBE" "$KDIR" /tmp/pb 2>/tmp/pb.log || { cat /tmp/pb.log; fail "the fallback ($k)"; }
	grep -q '^probe: batch not clear' /tmp/pb.log && ! grep -q '^probe: batch: ' /tmp/pb.log ||
		fail "LIVEMIG_CBT_PROBE_TEST_BREAK=$k did not fall back: $(cat /tmp/pb.log)"
	cmp /tmp/p1/cbt_config.h /tmp/pb/cbt_config.h || fail "the fallback ($k) gave other results"
	rm -f /tmp/pb/cbt_config.h
done
echo "probe-batch: $(grep '^probe: batch: ' /tmp/p1.log)"
echo "probe-modes: ok: the batch, each mode and the fallback (a broken batch, a broken confirming compile) wrote the same cbt_config.h"

# PROBE_TIMES=N: N runs per mode, interleaved, CPU time (user+sys) each
i=0
while [ "$i" -lt "$TIMES" ]; do
	i=$((i + 1))
	for m in batch each; do
		tm=$(timed /tmp/pt.log env LIVEMIG_CBT_PROBE_NOCACHE=1 LIVEMIG_CBT_PROBE_MODE=$m "$PROBE" "$KDIR" /tmp/pc) ||
			{ cat /tmp/pt.log; fail "timed run $m"; }
		echo "probe-time-$m-$i: $tm"
	done
done

echo "probe-cache: ok: the second build took the cached results (the same cbt_config.h); NOCACHE (through DKMS and alone) and a touched autoconf.h probed again, the restored one found its entry"
EOS
chmod +x "$C/tmp/build.sh"
set +e
unshare -m --propagation private sh -c '
	mount -t proc proc "$1/proc" && mount -t sysfs sys "$1/sys" &&
	mount --bind /dev "$1/dev" && exec chroot "$1" /tmp/build.sh "$2" "$3" "$4"' \
	sh "$C" "$KVER" "$V" "${PROBE_TIMES:-0}" >"$DEST/dkms.out" 2>&1
rc=$?
set -e
log=$(find "$C/var/lib/dkms/livemig-cbt/$V" -name make.log 2>/dev/null | sed -n 1p)
[ -n "$log" ] && cp "$log" "$DEST/make.log"
if [ $rc != 0 ]; then
	cat "$DEST/dkms.out" "${log:-/dev/null}" >&2
	say "FAIL dkms build for $KVER"
	exit 1
fi
ko=$(find "$C/var/lib/dkms/livemig-cbt/$V/$KVER" -name 'livemig_cbt.ko*' | sed -n 1p)
[ -n "$ko" ] || { cat "$DEST/dkms.out" >&2; say "FAIL dkms built no module"; exit 1; }
case $ko in
*.xz) xz -dc "$ko" >"$DEST/livemig_cbt.ko" ;;
*.zst) zstd -qdc "$ko" >"$DEST/livemig_cbt.ko" ;;
*.gz) gzip -dc "$ko" >"$DEST/livemig_cbt.ko" ;;
*) cp "$ko" "$DEST/livemig_cbt.ko" ;;
esac
# a warning in the module's own code fails, as in run.sh's host build
if grep -E '^[^ ]*\.[ch]:[0-9]+:[0-9]+: (warning|error):' "$DEST/make.log" "$DEST/dkms.out"; then
	say "FAIL: the build printed warnings"
	exit 1
fi
grep -q '^probe-modes: ok' "$DEST/dkms.out" || { cat "$DEST/dkms.out" >&2; say "FAIL: no word from the probe modes' checks"; exit 1; }
grep -q '^probe-cache: ok' "$DEST/dkms.out" || { cat "$DEST/dkms.out" >&2; say "FAIL: no word from the probe cache's checks"; exit 1; }
v() { sed -n "s/^$1: //p" "$DEST/dkms.out"; }
say "probe cache: dkms build $(v dkms-build-1) probing, $(v dkms-build-2) from the cache; the probe script alone $(v probe-run-nocache) probing, $(v probe-run-cached) cached; the same results"
say "probe modes: $(v probe-batch); the script probing $(v probe-run-nocache) batch, $(v probe-run-each) each; the same cbt_config.h from both and from the fallback"
grep '^probe-time-' "$DEST/dkms.out" >&2 || true
say "built with $(v dkms-version) and ${COMPILER:-the default gcc} in $(took "$t") s"
