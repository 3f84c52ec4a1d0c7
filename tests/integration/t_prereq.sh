#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `livemig check` as an operator runs it: a fake system under --root that
# passes everything, then broken copies of it; the report, --json, --waive
# and the exit status (0 ready, 1 not ready, 2 usage). Here the fake roots
# carry no mount table of their own, so /tmp's options come from the real
# /proc/self/mountinfo: real noexec and read-only tmpfs mounts make the
# failures. Last, a run on this machine, whose verdicts are not asserted.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

LM=$BUILD/livemig
KVER=6.1.0-18-amd64

# make_root DIR: a Debian-like system on its own 2 GiB tmpfs that passes every check
make_root() {
	local r=$1
	mkdir -p "$r"
	mount -t tmpfs -o size=2g,mode=0755 livemig-prereq "$r" || die "cannot mount tmpfs on $r"
	track_mount "$r"
	mkdir -p "$r/etc" "$r/usr/bin" "$r/sbin" "$r/boot/grub" "$r/proc/sys/kernel" \
		"$r/usr/src/linux-headers-$KVER/include/config" "$r/lib/modules/$KVER"
	install -d -m 1777 "$r/tmp"
	printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' >"$r/etc/os-release"
	printf '#!/bin/sh\necho Python 3.11.2\n' >"$r/usr/bin/python3.11"
	chmod 0755 "$r/usr/bin/python3.11"
	ln -s python3.11 "$r/usr/bin/python3"
	echo "menuentry 'Debian' { linux /vmlinuz }" >"$r/boot/grub/grub.cfg"
	printf '#!/bin/sh\n' >"$r/sbin/dhclient"
	chmod 0755 "$r/sbin/dhclient"
	echo "$KVER" >"$r/proc/sys/kernel/osrelease"
	echo "$KVER" >"$r/usr/src/linux-headers-$KVER/include/config/kernel.release"
	ln -s "/usr/src/linux-headers-$KVER" "$r/lib/modules/$KVER/build"
	mkdir -p "$r/lib/modules/$KVER/updates/dkms"
	: >"$r/lib/modules/$KVER/updates/dkms/livemig_cbt.ko.xz"
}

# run_check ROOT EXPECTED_RC [ARGS...]: output in $T/out, stderr must stay empty
run_check() {
	local root=$1 want=$2 rc=0
	shift 2
	"$LM" check --root "$root" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$T/out" "$T/err" >&2
		die "livemig check --root $root $* exited $rc, not $want"
	fi
	[ -s "$T/err" ] && die "unexpected stderr: $(cat "$T/err")"
	return 0
}

has() {
	grep -qE -- "$1" "$T/out" || { cat "$T/out" >&2; die "output lacks '$1'"; }
}

R=$T/sys
make_root "$R"
run_check "$R" 0
cat "$T/out"
[ "$(grep -c '^PASS  ' "$T/out")" = 11 ] || die "not 11 passes"
has '^Replication can start: every prerequisite is met\.$'
has "^PASS  kernel-headers +.*$KVER in /usr/src/linux-headers-$KVER"
has '^PASS  tmp-exec .*a script placed there ran'
pass "a sound system: 11 PASS lines, ready, exit 0"

run_check "$R" 0 --json
python3 - "$T/out" <<'EOF' || die "JSON report is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["ready"] is True, doc
ids = [c["id"] for c in doc["checks"]]
assert ids == ["root-free-space", "python", "tmp-writable", "bootloader-grub", "tmp-exec",
               "privileges", "dhclient", "kernel-headers", "kernel-headers-not-symlink",
               "secure-boot", "kmod-loadable"], ids
for c in doc["checks"]:
    assert set(c) == {"id", "title", "verdict", "seen", "remedy", "waived"}, c
    assert c["verdict"] == "pass" and c["waived"] is False and c["remedy"] == "", c
EOF
pass "--json: ready, the 11 ids in order, every field"

# a failure blocks; its remedy names the distribution's command; a waiver unblocks
rm "$R/sbin/dhclient"
run_check "$R" 1
has '^FAIL  dhclient +dhclient installed: no dhclient in /sbin or /usr/sbin$'
has '^      remedy: apt-get install isc-dhcp-client$'
has '^Replication cannot start: 1 check fails \(dhclient\)\.'
run_check "$R" 0 --waive dhclient --waive python
has '^      waived \(--waive dhclient\): does not block replication$'
has '^Replication can start: 1 failing check waived \(dhclient\)\.$'
run_check "$R" 0 --json --waive dhclient
python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
d = [c for c in doc["checks"] if c["id"] == "dhclient"][0]
assert doc["ready"] is True and d["verdict"] == "fail" and d["waived"] is True, doc' "$T/out" ||
	die "waived JSON is wrong"
pass "dhclient missing: exit 1 with apt-get remedy; waived: exit 0"

# the RHEL family gets yum, with the running kernel's release in the package name
printf 'ID="rocky"\nID_LIKE="rhel centos fedora"\n' >"$R/etc/os-release"
rm "$R/lib/modules/$KVER/build"
run_check "$R" 1
has '^      remedy: yum install dhclient$'
has "^FAIL  kernel-headers .*no headers for the running kernel $KVER"
has "^      remedy: yum install kernel-devel-$KVER$"
has '^Replication cannot start: 2 checks fail \(dhclient, kernel-headers\)\.'
pass "RHEL-like: yum remedies, kernel-devel-$KVER"

# /tmp really mounted noexec: the mount table and the probe script both say so
R2=$T/sys2
make_root "$R2"
mount -t tmpfs -o size=64m,mode=1777,noexec livemig-prereq-tmp "$R2/tmp" || die "mount noexec"
track_mount "$R2/tmp"
run_check "$R2" 1
has "^FAIL  tmp-exec .*/tmp is mounted noexec \\(tmpfs on /tmp, per the host's /proc/self/mountinfo\\); a script placed there could not run: Permission denied"
has '^      remedy: mount -o remount,exec /tmp, and remove noexec'
[ "$(grep -c '^FAIL' "$T/out")" = 1 ] || die "more than tmp-exec fails"
[ -z "$(ls -A "$R2/tmp")" ] || die "the probe left files in /tmp: $(ls -A "$R2/tmp")"
pass "noexec /tmp: tmp-exec fails alone, probe cleaned up"

# /tmp really read-only
umount "$R2/tmp"
mount -t tmpfs -o size=64m,mode=1777,ro livemig-prereq-tmp "$R2/tmp" || die "mount ro"
run_check "$R2" 1
has "^FAIL  tmp-writable .*/tmp is mounted read-only \\(tmpfs on /tmp, per the host's /proc/self/mountinfo\\)"
has '^      remedy: mount -o remount,rw /tmp'
pass "read-only /tmp: tmp-writable fails"
umount "$R2/tmp"

# the headers folder a symlink to elsewhere
mkdir -p "$R2/srv"
mv "$R2/usr/src/linux-headers-$KVER" "$R2/srv/headers"
ln -s /srv/headers "$R2/usr/src/linux-headers-$KVER"
run_check "$R2" 1 --json
python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
bad = [c for c in doc["checks"] if c["verdict"] != "pass"]
assert doc["ready"] is False and len(bad) == 1, bad
c = bad[0]
assert c["id"] == "kernel-headers-not-symlink" and c["verdict"] == "fail", c
assert "is a symbolic link to /srv/headers" in c["seen"], c
assert c["remedy"].startswith("rm /usr/src/linux-headers-") and "apt-get install --reinstall" in c["remedy"], c' \
	"$T/out" || die "symlinked headers: $(cat "$T/out")"
pass "symlinked headers folder: only kernel-headers-not-symlink fails"

# usage errors: exit 2 and a message
for args in "--waive nosuch" "--bogus" "--root $T/none" "extra" "--root="; do
	rc=0
	# shellcheck disable=SC2086
	"$LM" check $args >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || die "check $args exited $rc, not 2"
	[ -s "$T/err" ] || die "check $args said nothing on stderr"
done
"$LM" check --help | has_line 'kernel-headers-not-symlink' || die "--help does not list the ids"
pass "usage errors exit 2: $(head -1 "$T/err")"

# this machine: whatever it lacks, a complete report and a consistent status
rc=0
"$LM" check >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out"
[ "$rc" = 0 ] || [ "$rc" = 1 ] || die "check on this machine exited $rc"
[ "$(grep -cE '^(PASS|WARN|FAIL)  ' "$T/out")" = 11 ] || die "not 11 check lines"
if [ "$rc" = 0 ]; then has '^Replication can start'; else has '^Replication cannot start'; fi
rc2=0
"$LM" check --json >"$T/out" || rc2=$?
[ "$rc2" = "$rc" ] || die "--json exited $rc2, the report $rc"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["checks"]) == 11 and d["ready"] == (sys.argv[2] == "0"), d' "$T/out" "$rc" ||
	die "JSON on this machine: $(cat "$T/out")"
pass "this machine: 11 checks, exit $rc"

# the kernel-module checks on this machine, for every tracker: a module that
# is not loaded and cannot load is never a PASS, and every problem has a remedy
for tr in scan auto kmod; do
	"$LM" check --tracker "$tr" >"$T/out" 2>"$T/err" || true
	line=$(grep -E '^(PASS|WARN|FAIL)  kmod-loadable ' "$T/out") || die "--tracker $tr: no kmod-loadable line"
	case $line in
	PASS*"cannot load"* | PASS*"not built"*) die "--tracker $tr: $line" ;;
	PASS*) ;;
	*) grep -A1 -E '^(WARN|FAIL)  kmod-loadable ' "$T/out" | has_line '      remedy: ' ||
		die "--tracker $tr: no remedy: $(cat "$T/out")" ;;
	esac
	if grep -E 'livemig-dkms' "$T/out" >/dev/null; then
		die "--tracker $tr names a package that does not exist: $(cat "$T/out")"
	fi
done
pass "kmod-loadable here: ${line%%  *} with a remedy, never PASS when it cannot load"
