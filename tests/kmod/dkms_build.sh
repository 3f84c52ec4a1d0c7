#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build livemig-cbt through DKMS for Debian's packaged kernel (not the running
# one: -k on every call), check the result, then remove it again.
#   tests/kmod/dkms_build.sh        (root; needs dkms and linux-headers-amd64)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -1)}
V=0.0.0-test
SRC=/usr/src/livemig-cbt-$V

command -v dkms >/dev/null || { echo "dkms-test: no dkms"; exit 2; }
[ -f "/lib/modules/$KVER/build/Makefile" ] || { echo "dkms-test: no headers for '$KVER'"; exit 2; }
log=$(mktemp)
cleanup() {
	rm -f "$log"
	dkms remove -m livemig-cbt -v "$V" --all >/dev/null 2>&1 || true
	rm -rf "$SRC"
}
cleanup
trap cleanup EXIT
"$REPO/dkms/stage.sh" "$SRC" "$V"
dkms add -m livemig-cbt -v "$V" -k "$KVER"
# not `tee /dev/stderr`: reopening a stderr that is a file truncates it
if ! dkms build -m livemig-cbt -v "$V" -k "$KVER" >"$log" 2>&1; then
	cat "$log"
	echo "dkms-test: FAIL dkms build"
	exit 1
fi
cat "$log"
ko=$(find "/var/lib/dkms/livemig-cbt/$V/$KVER" -name 'livemig_cbt.ko*' | sed -n 1p)
[ -n "$ko" ] || { echo "dkms-test: FAIL no module built"; exit 1; }
modinfo "$ko" | grep -E '^(filename|license|vermagic|signer):'
grep -q "^$KVER " <<<"$(modinfo -F vermagic "$ko")" || { echo "dkms-test: FAIL wrong vermagic"; exit 1; }
grep -q 'probe: CBT_HAVE_TP_BIO_QUEUE_BIO=1' "$log" ||
	{ echo "dkms-test: FAIL the compile probes did not run"; exit 1; }
dkms status -m livemig-cbt -v "$V" -k "$KVER"
echo "dkms-test: PASS dkms add/build -k $KVER"
