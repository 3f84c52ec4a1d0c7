#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make check-kernels`: livemig_cbt on the other kernels Debian's registry
# offers (make check covers the host's own 6.1). For each release:
#   1. fetch_kernel.sh: image and headers by apt-get download under a private
#      apt configuration, extracted privately (nothing installed on the host);
#   2. chroot_dkms.sh: DKMS builds the module inside a debootstrap chroot of
#      that release (its compiler and kbuild), headers installed there;
#   3. run.sh boots that kernel in QEMU TCG, with an initramfs and a
#      /lib/modules taken from that kernel's tree, twice and side by side:
#      one boot runs every module-level guest test (tests/kmod/guest_*.sh
#      that do not need the agent: basic, in-flight writes, devices), the other
#      the oracle (the real livemigd and livemig-staging from BUILD
#      against the module, KERNEL_ORACLE_SEEDS, default 1,2).
# Every step is timed; the summary names the exact package versions.
#
#   tests/kmod/kernels.sh [SUITE ...]   default: bullseye trixie sid
#   tests/kmod/kernels.sh --prepare [SUITE ...]
#                                       the downloads of step 1 and the cached
#                                       chroot of step 2, no DKMS build and no
#                                       boot: fills KCACHE while other work
#                                       uses the CPU (ci/warm_caches.sh)
# (the programs must be built: make check-kernels does it)
# Environment: KCACHE (default /var/cache/livemig-tests: downloads and chroot
#   tarballs, kept between runs), OUT (default build/kmod-kernels),
#   GUEST_TESTS (default: every module-level tests/kmod/guest_*.sh),
#   LIVEMIG_BUILD (default build), KERNEL_ORACLE_SEEDS (default 1,2; empty:
#   no oracle).
# Exit 0 only if every kernel built and passed every guest test.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
export KCACHE=${KCACHE:-/var/cache/livemig-tests}
PREPARE=0
[ "${1:-}" = --prepare ] && { PREPARE=1; shift; }
OUT=${OUT:-$REPO/build/kmod-kernels$([ "$PREPARE" = 0 ] || echo -prepare)}
SUITES=${*:-bullseye trixie sid}
say() { echo "check-kernels: $*"; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot, mount namespaces)"; exit 2; }

# Module-level guest tests run in one boot; of those that drive the agent,
# the oracle runs in a second boot (the reload test stays with make check).
tests=
for f in "$REPO"/tests/kmod/guest_*.sh; do
	n=$(basename "$f")
	case $n in *_lib.sh) continue ;; esac # helpers the tests source
	if [ -n "${GUEST_TESTS:-}" ]; then
		case " $GUEST_TESTS " in *" $n "*) ;; *) continue ;; esac
	elif grep -q '^\. .*guest_agent_lib\.sh' "$f"; then # drives livemigd
		[ "$n" = guest_oracle.sh ] || say "not run here: $n drives the agent (make check-kmod runs it on 6.1)"
		continue
	fi
	tests="$tests $n"
done
[ -n "$tests" ] || { say "no guest tests to run"; exit 2; }
ORACLE_SEEDS=${KERNEL_ORACLE_SEEDS-1,2}
LIVEMIG_BUILD=${LIVEMIG_BUILD:-build}
if [ -n "$ORACLE_SEEDS" ] && [ "$PREPARE" = 0 ]; then
	[ -x "$REPO/$LIVEMIG_BUILD/livemigd" ] ||
		{ say "no $LIVEMIG_BUILD/livemigd for the oracle: run make first (or KERNEL_ORACLE_SEEDS=)"; exit 2; }
fi

rm -rf "$OUT"
mkdir -p "$OUT"
summary=$OUT/summary.txt
: >"$summary"
failed=0
T0=$(now)
for s in $SUITES; do
	res=$OUT/$s
	mkdir -p "$res"
	t=$(now)
	if ! tests/kmod/fetch_kernel.sh "$s" 2>&1 | tee "$res/fetch.log"; then
		say "FAIL $s: cannot fetch its kernel"
		echo "$s: FAIL fetch" >>"$summary"
		failed=1
		continue
	fi
	tf=$(took "$t")
	# shellcheck source=/dev/null
	. "$KCACHE/kernels/$s/kernel.env"
	line="$s $KVER ($PACKAGES; $COMPILER): fetch ${tf}s"

	t=$(now)
	if [ "$PREPARE" = 1 ]; then
		if CHROOT_ONLY=1 tests/kmod/chroot_dkms.sh "$s" "$res/dkms"; then
			echo "$line, chroot $(took "$t")s (prepared)" >>"$summary"
		else
			say "FAIL $s: its chroot"
			echo "$line, FAIL chroot" >>"$summary"
			failed=1
		fi
		continue
	fi
	if ! tests/kmod/chroot_dkms.sh "$s" "$res/dkms"; then
		say "FAIL $s: DKMS build for $KVER"
		echo "$line, FAIL dkms build" >>"$summary"
		failed=1
		continue
	fi
	tb=$(took "$t")
	vm=$(modinfo -F vermagic "$res/dkms/livemig_cbt.ko")
	if [ "${vm%% *}" != "$KVER" ]; then
		say "FAIL $s: module vermagic '$vm' is not $KVER"
		echo "$line, FAIL vermagic" >>"$summary"
		failed=1
		continue
	fi
	# DKMS 2.x logs the PRE_BUILD output on stdout, 3.x in make.log
	probes=$(cat "$res/dkms/make.log" "$res/dkms/dkms.out" 2>/dev/null |
		sed -n 's/^probe: CBT_//p' | sort -u | tr '\n' ' ')
	say "$s: probes: $probes"
	line="$line, dkms build ${tb}s"

	# boot the kernel: NAME GUEST_ENV TESTS...; PASS or FAIL on the last
	# line of its log (OUT is the subshell's own). No bound on the boot's
	# length: run.sh ends a guest whose tests fall silent.
	boot() {
		local name=$1 genv=$2
		shift 2
		if (export KVER KO=$res/dkms/livemig_cbt.ko \
			MODROOT=$KCACHE/kernels/$s/root \
			VMLINUZ=$KCACHE/kernels/$s/root/boot/vmlinuz-$KVER \
			OUT=$res/$name GUEST_ENV="$genv" &&
			tests/kmod/run.sh "$@") >"$res/$name.log" 2>&1; then
			echo PASS >>"$res/$name.log"
		else
			echo FAIL >>"$res/$name.log"
		fi
	}
	t=$(now)
	# shellcheck disable=SC2086 # the test names are words
	boot module "" $tests &
	if [ -n "$ORACLE_SEEDS" ]; then
		boot oracle "LIVEMIG_BUILD=$LIVEMIG_BUILD ORACLE_SEEDS=$ORACLE_SEEDS" guest_oracle.sh &
	fi
	wait
	for name in module oracle; do
		[ -f "$res/$name.log" ] || continue
		if [ "$(tail -n 1 "$res/$name.log")" = PASS ]; then
			r=PASS
		else
			r=FAIL
			failed=1
			tail -n 60 "$res/$name.log"
		fi
		tail -n 2 "$res/$name.log" | sed -n 1p
		case $name in
		module) names=${tests# }; line="$line, ${names// /+} $r" ;;
		oracle) line="$line, guest_oracle.sh (seeds $ORACLE_SEEDS) $r" ;;
		esac
	done
	line="$line ($(took "$t")s${ORACLE_SEEDS:+, two boots side by side})"
	line="$line; probes: $probes"
	echo "$line" >>"$summary"
done
echo
say "summary ($(took "$T0") s in all; logs in $OUT):"
cat "$summary"
[ "$failed" = 0 ] && say "PASS" || say "FAIL"
exit "$failed"
