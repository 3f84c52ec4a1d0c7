#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The RPMs: rpmlint with the project's configuration (0 errors), then
# installed with `rpm --root` into a fresh Debian 12 chroot, whose /bin/sh
# and dkms run their scriptlets (rpm chroots into it for each). Against a
# real console on 127.0.0.1: install (%post: checks, registration, DKMS),
# upgrade to N+1 (%post with $1=2, old %preun/%postun with $1=1,
# %posttrans), erase (%preun with $1=0: deregistration; %postun); a failing
# check and a refused token leave the package installed and unregistered
# with the reason kept, LIVEMIG_STRICT=1 makes %post fail.
# --nodeps: the chroot's libraries are Debian packages the rpm database
# does not know. What only a real RPM system checks: docs/install.md.
#   tests/packages/t_rpm_chroot.sh BUILD OUTDIR   (RPMs in OUTDIR/rpm, rpm-next)
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$TESTS/console_lib.sh"
. "$(dirname "$0")/chroot_lib.sh"
need_root
OUT=$(cd "${2:?usage: t_rpm_chroot.sh BUILD OUTDIR}" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
RPMS=$OUT/rpm/RPMS
NEXT=$OUT/rpm-next/RPMS

out=$(rpmlint -c "$REPO/rpm/rpmlint.toml" -r "$REPO/rpm/livemig.rpmlintrc" \
	"$RPMS"/*/*.rpm "$OUT"/rpm/SRPMS/*.rpm "$REPO/rpm/livemig.spec" 2>&1)
summary=$(grep -E 'packages and .* checked' <<<"$out")
grep -q ' 0 errors' <<<"$summary" || { echo "$out"; fail "rpmlint: $summary"; }
pass "rpmlint -c rpm/rpmlint.toml -r rpm/livemig.rpmlintrc: $summary"

R=$T/root
chroot_unpack "$R" || die "no chroot"
chroot_mount "$R"
_pkg_rc=0
trap '_pkg_rc=$?; chroot_umount "$R"; (exit $_pkg_rc); _lib_cleanup' EXIT

setup_pki
start_console
admin create-account acme --licenses 2 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme --max-uses 5 2>/dev/null) || die "create-token"
cp "$SERVER_CA" "$R/root/console-ca.pem"
mapfile -t FAILING < <("$BUILD/livemig" check --root "$R" --json | python3 -c 'import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["verdict"] == "fail":
        print(c["id"])')
WAIVE=$(IFS=,; echo "${FAILING[*]}")

in_use() {
	admin list-machines acme --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["licenses"]["in_use"])'
}
# as t_deb_chroot.sh, and /usr/share/licenses: rpm makes it for %license;
# on an RPM system the filesystem package owns it
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/lib/rpm -o -path ./var/log \) -prune -o -print) |
		grep -Ev '^\./usr/lib/modules/[^/]+/modules\.[a-z.]+$|^\./var/lib/dkms/mok\.(key|pub)$|^\./usr/share/licenses$' |
		sort >"$1"
}
# rpm hands its environment to the scriptlets: the settings of a one-off
# install (docs/install.md), as a yum or dnf run would be given them
rpm_env() {
	env LIVEMIG_CONSOLE_URL="https://127.0.0.1:$CONSOLE_PORT" LIVEMIG_CONSOLE_CA=/root/console-ca.pem \
		LIVEMIG_WAIVE="$WAIVE" LIVEMIG_METADATA_URL="http://127.0.0.1:$(free_port)" \
		LIVEMIG_TOKEN="$TOKEN" "$@"
}

rpm --root "$R" --initdb || die "rpm --initdb"
snapshot "$T/before"
RC=0
rpm_env rpm --root "$R" -ivh --nodeps "$RPMS"/x86_64/livemig-agent-*.rpm "$RPMS"/noarch/livemig-cbt-dkms-*.rpm \
	>"$T/rpm.log" 2>&1 || RC=$?
[ "$RC" = 0 ] || { cat "$T/rpm.log"; fail "rpm -i: exit $RC"; }
grep -q 'livemig-setup: registered' "$T/rpm.log" || { cat "$T/rpm.log"; fail "rpm -i: not registered"; }
[ "$(in_use)" = 1 ] || fail "rpm -i: licenses in use: $(in_use)"
[ ! -e "$R/etc/livemig/token" ] || fail "rpm -i: the token file is left"
! grep -qF "$TOKEN" "$T/rpm.log" || fail "rpm -i: the token is in the output"
KVER=$(basename "$(ls -d "$R"/usr/src/linux-headers-*-amd64 | sed -n 1p)" | sed 's/^linux-headers-//')
ls "$R/lib/modules/$KVER/updates/dkms/livemig_cbt.ko"* >/dev/null 2>&1 ||
	{ cat "$T/rpm.log"; fail "rpm -i: DKMS did not install the module for $KVER"; }
pass "rpm --root -i (LIVEMIG_TOKEN): %post registered (1 license in use), token gone, DKMS built livemig_cbt for $KVER"

sums() { (cd "$R" && sha256sum etc/livemig/livemigd.conf etc/livemig/agent.pem etc/livemig/agent.key); }
before=$(sums)
rpm_env rpm --root "$R" -Uvh --nodeps "$NEXT"/x86_64/livemig-agent-*.rpm "$NEXT"/noarch/livemig-cbt-dkms-*.rpm \
	>"$T/rpm.log" 2>&1 || { cat "$T/rpm.log"; fail "rpm -U: failed"; }
V=$(rpm --root "$R" -q --qf '%{VERSION}' livemig-agent)
[ "$(sums)" = "$before" ] || fail "rpm -U: the registration changed"
[ "$(in_use)" = 1 ] || fail "rpm -U: licenses in use: $(in_use)"
in_chroot "$R" dkms status livemig-cbt | has_line "livemig-cbt/$V" || fail "rpm -U: DKMS has no $V: $(in_chroot "$R" dkms status)"
! in_chroot "$R" dkms status livemig-cbt | has_line -v "livemig-cbt/$V" || fail "rpm -U: the old module version is still in DKMS"
pass "rpm --root -U to $V: registration kept (1 license), DKMS moved to livemig-cbt/$V"

rpm --root "$R" -e livemig-agent livemig-cbt-dkms >"$T/rpm.log" 2>&1 || { cat "$T/rpm.log"; fail "rpm -e: failed"; }
[ "$(in_use)" = 0 ] || fail "rpm -e: licenses in use: $(in_use)"
snapshot "$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || { cat "$T/diff"; fail "rpm -e left files"; }
pass "rpm --root -e: %preun deregistered (0 licenses in use), DKMS removed the module, no file of ours left"

# failing well (docs/install.md): a failing check or a refused token leaves
# the package installed, %post successful, the machine unregistered with
# the reason kept and shown by `livemig status`
agent_i() { # ENV...: rpm -i of the agent alone, settings in the environment
	RC=0
	env LIVEMIG_CONSOLE_URL="https://127.0.0.1:$CONSOLE_PORT" LIVEMIG_CONSOLE_CA=/root/console-ca.pem \
		LIVEMIG_METADATA_URL="http://127.0.0.1:$(free_port)" "$@" \
		rpm --root "$R" -ivh --nodeps "$RPMS"/x86_64/livemig-agent-*.rpm >"$T/rpm.log" 2>&1 || RC=$?
}
agent_i LIVEMIG_TOKEN="$TOKEN"
[ "$RC" = 0 ] || { cat "$T/rpm.log"; fail "rpm -i with a failing check: exit $RC"; }
grep -q "^FAIL  ${FAILING[0]} " "$T/rpm.log" && grep -q 'Replication cannot start' "$T/rpm.log" ||
	{ cat "$T/rpm.log"; fail "rpm -i: the report is not in the output"; }
grep -q "livemig-setup: not registered: a prerequisite check fails: ${FAILING[0]}\\b.*RPM: /usr/libexec/livemig/livemig-setup register" "$T/rpm.log" ||
	{ cat "$T/rpm.log"; fail "rpm -i: the reason and the remedy are not in the output"; }
! grep -q 'scriptlet failed' "$T/rpm.log" || { cat "$T/rpm.log"; fail "%post failed without strict"; }
[ "$(in_use)" = 0 ] && [ ! -e "$R/etc/livemig/livemigd.conf" ] || fail "a failing check registered"
[ -e "$R/etc/livemig/token" ] || fail "the token was not kept for the retry"
st=$(in_chroot "$R" livemig status 2>&1) && fail "livemig status succeeded without a registration"
grep -q "^livemig status: not registered: a prerequisite check fails: ${FAILING[0]}\\b" <<<"$st" || fail "livemig status: $st"
pass "failing ${FAILING[0]}: rpm -i exit 0, %post succeeded, not registered, the token kept; livemig status: $(sed -n 1p <<<"$st" | cut -c1-100)"
# the cause fixed (a waiver in a drop-in): livemig-setup register registers
printf 'waive = %s\n' "$WAIVE" >"$R/etc/livemig/install.conf.d/50-waive.conf"
out=$(in_chroot "$R" LIVEMIG_CONSOLE_URL="https://127.0.0.1:$CONSOLE_PORT" LIVEMIG_CONSOLE_CA=/root/console-ca.pem \
	LIVEMIG_METADATA_URL="http://127.0.0.1:$(free_port)" /usr/libexec/livemig/livemig-setup register 2>&1) ||
	fail "livemig-setup register after the waiver: $out"
[ "$(in_use)" = 1 ] && [ ! -e "$R/var/lib/livemig/registration-failure" ] || fail "after the waiver: in use $(in_use): $out"
pass "waived in a drop-in: livemig-setup register registers, the kept reason is gone"
rm -f "$R/etc/livemig/install.conf.d/50-waive.conf"
rpm --root "$R" -e livemig-agent >"$T/rpm.log" 2>&1 && [ "$(in_use)" = 0 ] || { cat "$T/rpm.log"; fail "rpm -e after the retry"; }

agent_i LIVEMIG_TOKEN="not-a-token-$RANDOM" LIVEMIG_WAIVE="$WAIVE"
[ "$RC" = 0 ] || { cat "$T/rpm.log"; fail "rpm -i with a bad token: exit $RC"; }
grep -q 'livemig-setup: not registered: the console refused the registration: .*(invalid_token)' "$T/rpm.log" ||
	{ cat "$T/rpm.log"; fail "rpm -i: the refusal is not in the output"; }
! grep -q 'scriptlet failed' "$T/rpm.log" || { cat "$T/rpm.log"; fail "%post failed without strict"; }
[ ! -e "$R/etc/livemig/token" ] || fail "the refused token was kept"
grep -q '^reason = the console refused the registration: .*(invalid_token)' "$R/var/lib/livemig/registration-failure" ||
	fail "the refusal is not kept"
pass "bad token: rpm -i exit 0, %post succeeded, not registered, the refused token deleted, the refusal kept"
rpm --root "$R" -e livemig-agent >"$T/rpm.log" 2>&1 || { cat "$T/rpm.log"; fail "rpm -e after the refusal"; }
[ ! -e "$R/var/lib/livemig" ] || fail "rpm -e left /var/lib/livemig: $(ls -A "$R/var/lib/livemig")"

# strict: %post fails. RPM's rule: a failed %post is reported (`warning:
# %post(...) scriptlet failed, exit status 1`; dnf: "Error in POSTIN
# scriptlet") but neither rolls back nor changes rpm's exit status (0 with
# rpm 4.18): the package stays installed, unregistered
agent_i LIVEMIG_TOKEN="$TOKEN" LIVEMIG_STRICT=1
grep -q "^FAIL  ${FAILING[0]} " "$T/rpm.log" && grep -q 'strict = true: the configuration fails' "$T/rpm.log" ||
	{ cat "$T/rpm.log"; fail "LIVEMIG_STRICT=1: the report or the reason is not in the output"; }
grep -q '%post(livemig-agent-.*) scriptlet failed, exit status 1' "$T/rpm.log" ||
	{ cat "$T/rpm.log"; fail "LIVEMIG_STRICT=1: %post did not fail"; }
[ "$(in_use)" = 0 ] || fail "a failed %post took a license"
[ ! -e "$R/etc/livemig/livemigd.conf" ] || fail "a failed %post registered"
pass "LIVEMIG_STRICT=1, failing ${FAILING[0]}: %post failed with the report (rpm -i exit $RC, RPM's rule), not registered, no license taken"
rpm --root "$R" -e livemig-agent >/dev/null 2>&1 || fail "rpm -e after the failed %post"
stop_console
