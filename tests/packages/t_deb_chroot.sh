#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The .debs in a fresh Debian 12 chroot (debootstrap, cached), from a local
# apt repository, against a real livemig-console on 127.0.0.1 (the chroot
# shares this network namespace):
#   1. preseeded token: apt-get install livemig-agent livemig-cbt-dkms ->
#      registered, 1 license in use, DKMS built the module for the chroot's
#      linux-headers-amd64, the token gone from disk, debconf and logs
#   2. upgrade to a rebuilt N+1: the registration and the state kept; DKMS
#      takes the compile probes' results cached at the installation
#   3. remove keeps the registration, state and the probes' cache; purge:
#      the license free, DKMS's module and the cache gone, no file of ours left
#      (the file list before install equals the one after purge)
#   4. token file /etc/livemig/token: registered, token deleted; purge;
#      the same with LIVEMIG_TOKEN in apt-get's environment
#   4c. purge with the console down queues the release; the next install
#      sends it
#   5. a failing prerequisite: the package is configured (dpkg says "install
#      ok installed"), the machine unregistered with the reason kept and
#      shown by `livemig status`, a later apt-get install of another package
#      works; waived, `dpkg-reconfigure livemig-agent` registers. Preseeded
#      livemig-agent/strict: the configuration fails (half-configured);
#      waived, `dpkg --configure -a` registers
#   5b. a bad token: configured, unregistered, the console's refusal kept
#      and shown, the spent token deleted; LIVEMIG_STRICT=1: the
#      configuration fails with the refusal
#   6. console unreachable: the install succeeds, the token is kept and
#      livemig-register.service is enabled
#   7. livemig-server: its system users, its units verified; purge
# systemd is not PID 1 in a chroot: policy-rc.d forbids starting services
# (deb-systemd-invoke obeys it), so livemigd is not started; what is checked
# instead: the unit enabled, `livemigd --check-config` of the written
# configuration, `systemd-analyze verify` of the units.
#   tests/packages/t_deb_chroot.sh BUILD DEBDIR DEBDIR_N+1
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$TESTS/console_lib.sh"
. "$(dirname "$0")/chroot_lib.sh"
need_root
DEBS=$(cd "${2:?usage: t_deb_chroot.sh BUILD DEBDIR DEBDIR_NEXT}" && pwd)
DEBS_NEXT=$(cd "${3:?usage: t_deb_chroot.sh BUILD DEBDIR DEBDIR_NEXT}" && pwd)

R=$T/root
t0=$(date +%s)
chroot_unpack "$R" || die "no chroot"
chroot_mount "$R"
_pkg_rc=0
trap '_pkg_rc=$?; chroot_umount "$R"; (exit $_pkg_rc); _lib_cleanup' EXIT
pass "chroot unpacked from $(chroot_tarball) in $(($(date +%s) - t0)) s"

# the local repository: N and N+1 in two suites of one flat tree each
repo() {
	local dir=$R/srv/repo
	rm -rf "$dir" && mkdir -p "$dir"
	cp "$1"/livemig-agent_*.deb "$1"/livemig-cbt-dkms_*.deb "$1"/livemig-server_*.deb "$dir/"
	# "another package" for apt to install while livemig-agent is there
	mkdir -p "$T/other/DEBIAN"
	printf 'Package: livemig-test-other\nVersion: 1\nArchitecture: all\nMaintainer: tests <t@example.org>\nDescription: stand-in for any other package\n' \
		>"$T/other/DEBIAN/control"
	dpkg-deb -b "$T/other" "$dir/livemig-test-other_1_all.deb" >/dev/null || die "dpkg-deb"
	(cd "$dir" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
	echo "deb [trusted=yes] file:/srv/repo ./" >"$R/etc/apt/sources.list"
	in_chroot "$R" apt-get update -q >"$T/apt-update.log" 2>&1 || { cat "$T/apt-update.log"; die "apt-get update"; }
}
repo "$DEBS"

setup_pki
start_console
admin create-account acme --licenses 2 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme --max-uses 10 2>/dev/null) || die "create-token"
cp "$SERVER_CA" "$R/root/console-ca.pem"
URL=https://127.0.0.1:$CONSOLE_PORT
# the metadata service: a closed port, so the identity is the MAC (as the
# integration tests do); passed as the environment of a one-off install
MD=LIVEMIG_METADATA_URL=http://127.0.0.1:$(free_port)

# what this chroot fails (no GRUB, the host's kernel is not the headers'...)
mapfile -t FAILING < <("$BUILD/livemig" check --root "$R" --json | python3 -c 'import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["verdict"] == "fail":
        print(c["id"])')
[ "${#FAILING[@]}" -ge 1 ] || die "expected the chroot to fail some check (it has no GRUB)"
WAIVE=$(IFS=,; echo "${FAILING[*]}")
pass "the chroot fails: $WAIVE (waived where the test wants the install to go through)"

preseed() { # URL WAIVE [TOKEN [STRICT]]
	{
		echo "livemig-agent livemig-agent/console-url string $1"
		echo "livemig-agent livemig-agent/console-ca string /root/console-ca.pem"
		echo "livemig-agent livemig-agent/waive string $2"
		[ -z "${3:-}" ] || echo "livemig-agent livemig-agent/token password $3"
		echo "livemig-agent livemig-agent/strict boolean ${4:-false}"
	} | in_chroot "$R" debconf-set-selections || die "debconf-set-selections"
}

# every file, except what apt, dpkg and debconf keep about packages, and
# (as piuparts ignores them too) files other tools create once for every
# module package and keep: depmod's indexes of the kernel's module
# directory, and DKMS's machine signing key (made on its first build)
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache/apt \
		-o -path ./var/cache/debconf -o -path ./var/log -o -path ./srv/repo \) -prune -o -print) |
		grep -Ev '^\./usr/lib/modules/[^/]+/modules\.[a-z.]+$|^\./var/lib/dkms/mok\.(key|pub)$' |
		sort >"$1"
}

in_use() {
	admin list-machines acme --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["licenses"]["in_use"])'
}

no_token_anywhere() {
	local what=$1 f
	for f in "$T/apt.log" "$R/var/log/apt/term.log" "$R/var/log/dpkg.log" "$R"/var/cache/debconf/*.dat "$CONSOLE_LOG"; do
		[ -e "$f" ] || continue
		! grep -qF "$TOKEN" "$f" || fail "$what: the token is in $f"
	done
	[ ! -e "$R/etc/livemig/token" ] || fail "$what: /etc/livemig/token is still there"
	pass "$what: the token is in no log, not in debconf's database, not on disk"
}

apt() {
	APT_RC=0
	in_chroot "$R" "$@" >"$T/apt.log" 2>&1 || APT_RC=$?
}

snapshot "$T/before"

# ---- 1. preseeded token, agent and module -------------------------------
preseed "$URL" "$WAIVE" "$TOKEN"
t0=$(date +%s)
apt "$MD" apt-get install -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "apt-get install: exit $APT_RC"; }
pass "apt-get install livemig-agent livemig-cbt-dkms (preseeded token): exit 0 in $(($(date +%s) - t0)) s"
grep -q 'livemig-setup: registered; livemigd.service started' "$T/apt.log" || { cat "$T/apt.log"; fail "no registration in the output"; }
grep -q 'Replication can start' "$T/apt.log" || fail "the prerequisite report is not in the output"
[ "$(in_use)" = 1 ] || fail "licenses in use: $(in_use)"
pass "registered: $(grep -o 'Installed: machine [0-9a-f]*' "$T/apt.log"); 1 of 2 licenses in use"
no_token_anywhere "preseeded"
in_chroot "$R" livemigd --check-config -c /etc/livemig/livemigd.conf >/dev/null ||
	fail "livemigd --check-config refuses the written configuration"
grep -q "^waived_checks = $WAIVE" "$R/etc/livemig/livemigd.conf" || fail "waived_checks not written: $(cat "$R/etc/livemig/livemigd.conf")"
[ -L "$R/etc/systemd/system/multi-user.target.wants/livemigd.service" ] || fail "livemigd.service is not enabled"
grep -q "policy-rc.d returned 101, not running 'start livemigd.service'" "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "deb-systemd-invoke was not asked to start livemigd.service"; }
pass "livemigd.service enabled, its start refused by policy-rc.d (chroot); livemigd --check-config accepts the configuration, waived_checks = $WAIVE"
KVER=$(basename "$(ls -d "$R"/usr/src/linux-headers-*-amd64 | sed -n 1p)" | sed 's/^linux-headers-//')
ls "$R/lib/modules/$KVER/updates/dkms/livemig_cbt.ko"* >/dev/null 2>&1 ||
	fail "DKMS did not install livemig_cbt.ko for $KVER: $(in_chroot "$R" dkms status)"
pass "DKMS built and installed livemig_cbt for the chroot's headers $KVER: $(in_chroot "$R" dkms status livemig-cbt | tr '\n' ' ')"
# the compile probes ran and kept their results for the upgrade
grep -q 'probe: results kept in /var/cache/livemig-cbt/' "$T/apt.log" && ! grep -q 'probe: cached results' "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "install: the compile probes did not run and keep their results"; }
[ "$(ls "$R/var/cache/livemig-cbt" | wc -l)" = 1 ] || fail "install: /var/cache/livemig-cbt: $(ls -A "$R/var/cache/livemig-cbt")"
pass "DKMS's compile probes ran and kept their results in /var/cache/livemig-cbt"
# the chroot has systemd installed (not running): verify the units there
out=$(systemd-analyze verify --man=no --root="$R" livemigd.service livemig-register.service 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
pass "systemd-analyze verify --root=CHROOT livemigd.service livemig-register.service: clean"

# ---- 2. upgrade to N+1 --------------------------------------------------
MACHINE=$(sed -n 's/^machine = //p' "$R/etc/livemig/livemigd.conf")
# a checkpoint as livemigd leaves it in its state directory
printf '{"stand-in": "checkpoint kept across the upgrade"}\n' >"$R/var/lib/livemig/checkpoint.json"
sums_before=$(cd "$R" && sha256sum etc/livemig/livemigd.conf etc/livemig/agent.pem etc/livemig/agent.key var/lib/livemig/checkpoint.json)
repo "$DEBS_NEXT"
t0=$(date +%s)
apt apt-get install -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "upgrade: exit $APT_RC"; }
NEXT=$(in_chroot "$R" dpkg-query -W -f='${Version}' livemig-agent)
[ "$NEXT" != "$(dpkg-deb -f "$DEBS"/livemig-agent_*.deb Version)" ] || fail "upgrade: the version did not change ($NEXT)"
sums_after=$(cd "$R" && sha256sum etc/livemig/livemigd.conf etc/livemig/agent.pem etc/livemig/agent.key var/lib/livemig/checkpoint.json)
[ "$sums_before" = "$sums_after" ] || fail "upgrade changed the registration or the state"
[ "$(in_use)" = 1 ] || fail "upgrade: licenses in use: $(in_use)"
grep -q 'registered machine kept' "$T/apt.log" || fail "upgrade: no word of the kept registration"
ls "$R/lib/modules/$KVER/updates/dkms/livemig_cbt.ko"* >/dev/null 2>&1 || fail "upgrade: no module for $KVER"
in_chroot "$R" dkms status livemig-cbt | has_line "livemig-cbt/$NEXT" || fail "upgrade: DKMS did not build $NEXT: $(in_chroot "$R" dkms status)"
pass "upgraded to $NEXT in $(($(date +%s) - t0)) s: machine $MACHINE, configuration, key, certificate and checkpoint unchanged; still 1 license; DKMS built livemig-cbt/$NEXT"
grep -q "probe: cached results for $KVER from /var/cache/livemig-cbt/" "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "upgrade: DKMS compiled the probes again for the same headers"; }
pass "upgrade: DKMS's build took the probes' cached results (the same headers, compiler and probes)"
# The chroot has no systemd, so its upgrade cannot show what systemd would
# do (check-e2e does): the preinst must not stop livemigd (nothing would
# start it again: the postinst only try-restarts; the prerm stops it only on
# remove), and the postinst reloads the units before restarting it.
pre=$(dpkg-deb --ctrl-tarfile "$(ls "$DEBS_NEXT"/livemig-agent_*.deb)" | tar -xO ./preinst)
! grep -n "stop.*livemigd" <<<"$pre" || fail "the preinst stops livemigd on upgrade"
post=$(dpkg-deb --ctrl-tarfile "$(ls "$DEBS_NEXT"/livemig-agent_*.deb)" | tar -xO ./postinst)
grep -A4 'daemon-reload' <<<"$post" | has_line 'try-restart livemigd' || fail "the postinst does not reload the units before restarting livemigd"
pass "the upgrade's scripts keep livemigd running through the unpack, then reload the units and restart it"

# ---- 3. remove, then purge --------------------------------------------------
apt apt-get remove -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "remove: exit $APT_RC"; }
[ ! -e "$R/usr/bin/livemig" ] || fail "remove: /usr/bin/livemig is still there"
[ "$sums_before" = "$(cd "$R" && sha256sum etc/livemig/livemigd.conf etc/livemig/agent.pem etc/livemig/agent.key var/lib/livemig/checkpoint.json)" ] ||
	fail "remove changed the registration or the state"
[ "$(in_use)" = 1 ] || fail "remove: licenses in use: $(in_use)"
[ -n "$(ls -A "$R/var/cache/livemig-cbt")" ] || fail "remove: the probes' cached results are gone"
pass "remove: the programs gone; registration, state, the license and the probes' cached results kept"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge: exit $APT_RC"; }
[ "$(in_use)" = 0 ] || fail "purge: licenses in use: $(in_use)"
snapshot "$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || { cat "$T/diff"; fail "purge left files (or removed some)"; }
[ ! -e "$R/var/cache/livemig-cbt" ] || fail "purge: /var/cache/livemig-cbt is still there"
pass "purge: the license is free (0 of 2), no file of ours is left (file lists before install and after purge equal)"

# ---- 4. token file ------------------------------------------------------
preseed "$URL" "$WAIVE"
mkdir -p "$R/etc/livemig"
(umask 077 && printf '%s\n' "$TOKEN" >"$R/etc/livemig/token")
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "token file: exit $APT_RC"; }
[ "$(in_use)" = 1 ] || fail "token file: licenses in use: $(in_use)"
no_token_anywhere "token file /etc/livemig/token"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 0 ] || fail "token file: purge: exit $APT_RC, in use $(in_use)"
pass "token file: registered, the file deleted; purged, license free"

# ---- 4b. the environment, for a one-off install ------------------------
preseed "$URL" "$WAIVE"
apt "$MD" "LIVEMIG_TOKEN=$TOKEN" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "LIVEMIG_TOKEN: exit $APT_RC"; }
[ "$(in_use)" = 1 ] || fail "LIVEMIG_TOKEN: licenses in use: $(in_use)"
no_token_anywhere "LIVEMIG_TOKEN"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 0 ] || fail "LIVEMIG_TOKEN: purge: exit $APT_RC, in use $(in_use)"
pass "LIVEMIG_TOKEN in apt-get's environment: registered; purged, license free"

# ---- 4c. purge while the console is down: the release is queued ----------
preseed "$URL" "$WAIVE"
mkdir -p "$R/etc/livemig"
(umask 077 && printf '%s\n' "$TOKEN" >"$R/etc/livemig/token")
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 1 ] || { cat "$T/apt.log"; fail "offline purge: install: exit $APT_RC, in use $(in_use)"; }
stop_console
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge with the console down: exit $APT_RC"; }
grep -q 'the license release is queued' "$T/apt.log" || { cat "$T/apt.log"; fail "purge did not say the release is queued"; }
[ -e "$R/var/lib/livemig/pending-deregistration.json" ] || fail "purge with the console down: no queue kept"
start_console --listen "127.0.0.1:$CONSOLE_PORT"
[ "https://127.0.0.1:$CONSOLE_PORT" = "$URL" ] || die "the console came back on another port"
[ "$(in_use)" = 1 ] || fail "the queued release freed the license already: $(in_use)"
pass "purge with the console down: exit 0, the release queued in /var/lib/livemig/pending-deregistration.json, the license still counted"
# the next install sends the queue before it registers
preseed "$URL" "$WAIVE" "$TOKEN"
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "install after the queued release: exit $APT_RC"; }
[ ! -e "$R/var/lib/livemig/pending-deregistration.json" ] || fail "the queue was not sent by the next install"
[ "$(in_use)" = 1 ] || fail "after the queue and a new registration: in use $(in_use)"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 0 ] || fail "purge after the queue: exit $APT_RC, in use $(in_use)"
pass "the next install sent the queued release before registering; purged again, license free"

# ---- 5. a failing prerequisite: configured, not registered ----------------
dpkg_status() { in_chroot "$R" dpkg-query -W -f='${Status}' "$1"; }
KEEP=("${FAILING[@]:1}")
preseed "$URL" "$(IFS=,; echo "${KEEP[*]}")" "$TOKEN"
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "a failing check ${FAILING[0]} failed the install (exit $APT_RC)"; }
[ "$(dpkg_status livemig-agent)" = "install ok installed" ] || fail "status: $(dpkg_status livemig-agent)"
grep -q "^FAIL  ${FAILING[0]} " "$T/apt.log" || { cat "$T/apt.log"; fail "the report is not in the output"; }
grep -q 'Replication cannot start' "$T/apt.log" || fail "the report's verdict is not in the output"
grep -q "livemig-setup: not registered: a prerequisite check fails: ${FAILING[0]}\\b.*waive = ID" "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "the postinst output does not say why and what to do"; }
[ "$(in_use)" = 0 ] || fail "a failed registration took a license"
[ ! -e "$R/etc/livemig/livemigd.conf" ] || fail "a failed registration left a configuration"
grep -q "^reason = a prerequisite check fails: ${FAILING[0]}\\b" "$R/var/lib/livemig/registration-failure" ||
	fail "the reason is not kept: $(cat "$R/var/lib/livemig/registration-failure" 2>&1)"
st=$(in_chroot "$R" livemig status 2>&1) && fail "livemig status succeeded without a registration"
grep -q "^livemig status: not registered: a prerequisite check fails: ${FAILING[0]}\\b" <<<"$st" &&
	grep -q '^  remedy: .*dpkg-reconfigure livemig-agent' <<<"$st" || fail "livemig status: $st"
pass "failing ${FAILING[0]}: apt-get exit 0, dpkg: install ok installed, not registered; livemig status: $(sed -n 1p <<<"$st" | cut -c1-110)"
apt apt-get install -y -q livemig-test-other
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "another package after the failed registration: exit $APT_RC"; }
apt apt-get purge -y -q livemig-test-other
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge of another package: exit $APT_RC"; }
pass "apt-get install of another package after the failed registration: exit 0 (dpkg is not left half-configured)"
printf 'waive = %s\n' "$WAIVE" >"$R/etc/livemig/install.conf.d/50-waive.conf"
apt "$MD" dpkg-reconfigure livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "dpkg-reconfigure after the waiver: exit $APT_RC"; }
[ "$(in_use)" = 1 ] || { cat "$T/apt.log"; fail "after the waiver: licenses in use: $(in_use)"; }
[ ! -e "$R/var/lib/livemig/registration-failure" ] || fail "the kept reason outlived the registration"
pass "waived in /etc/livemig/install.conf.d/50-waive.conf: dpkg-reconfigure livemig-agent registers (the kept token), the reason is gone"
rm -f "$R/etc/livemig/install.conf.d/50-waive.conf"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 0 ] || fail "purge after the waiver: exit $APT_RC, in use $(in_use)"

# ---- 5a. the same, strict (preseeded): the configuration fails ----------------
preseed "$URL" "$(IFS=,; echo "${KEEP[*]}")" "$TOKEN" true
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" != 0 ] || { cat "$T/apt.log"; fail "strict: a failing check ${FAILING[0]} did not fail the install"; }
grep -q "^FAIL  ${FAILING[0]} " "$T/apt.log" && grep -q 'strict = true: the configuration fails' "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "strict: the report or the reason is not in the output"; }
[ "$(dpkg_status livemig-agent)" = "install ok half-configured" ] || fail "strict: status: $(dpkg_status livemig-agent)"
[ "$(in_use)" = 0 ] || fail "strict: a failed install took a license"
pass "strict (livemig-agent/strict preseeded): apt-get exit $APT_RC, half-configured, the report and the reason shown"
printf 'waive = %s\n' "$WAIVE" >"$R/etc/livemig/install.conf.d/50-waive.conf"
apt "$MD" dpkg --configure -a
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "dpkg --configure -a after the waiver: exit $APT_RC"; }
[ "$(in_use)" = 1 ] || fail "strict, after the waiver: licenses in use: $(in_use)"
pass "strict, waived in a drop-in: dpkg --configure -a registers"
rm -f "$R/etc/livemig/install.conf.d/50-waive.conf"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] && [ "$(in_use)" = 0 ] || fail "purge after the waiver: exit $APT_RC, in use $(in_use)"

# ---- 5b. a definitive refusal: configured, not registered ----------------------
preseed "$URL" "$WAIVE" "not-a-token-$RANDOM"
apt "$MD" apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "a bad token failed the install (exit $APT_RC)"; }
[ "$(dpkg_status livemig-agent)" = "install ok installed" ] || fail "bad token: status: $(dpkg_status livemig-agent)"
grep -q 'livemig install: the console refused the registration: .*(invalid_token)' "$T/apt.log" &&
	grep -q 'livemig-setup: not registered: the console refused the registration: .*Get a new token' "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "the console's refusal and the remedy are not in the output"; }
[ "$(in_use)" = 0 ] || fail "a refused install took a license"
[ ! -e "$R/etc/livemig/livemigd.conf" ] || fail "a refused install left a configuration"
[ ! -e "$R/etc/livemig/token" ] || fail "the refused token was kept"
st=$(in_chroot "$R" livemig status 2>&1) && fail "livemig status succeeded without a registration"
grep -q '^livemig status: not registered: the console refused the registration: .*(invalid_token)' <<<"$st" || fail "livemig status: $st"
pass "bad token: apt-get exit 0, installed ok, not registered, the token deleted; livemig status: $(grep -o 'not registered: [^;]*' <<<"$st" | cut -c1-100)"
apt apt-get install -y -q livemig-test-other
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "another package after the refusal: exit $APT_RC"; }
apt apt-get purge -y -q livemig-agent livemig-test-other
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge after the refusal: exit $APT_RC"; }
[ ! -e "$R/var/lib/livemig" ] || fail "purge left /var/lib/livemig: $(ls -A "$R/var/lib/livemig")"
# LIVEMIG_STRICT in the environment: the refusal fails the configuration
preseed "$URL" "$WAIVE" "not-a-token-$RANDOM"
apt "$MD" LIVEMIG_STRICT=1 apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" != 0 ] || { cat "$T/apt.log"; fail "LIVEMIG_STRICT=1: a bad token did not fail the install"; }
grep -q 'livemig-setup: not registered: the console refused the registration: .*(invalid_token)' "$T/apt.log" ||
	{ cat "$T/apt.log"; fail "LIVEMIG_STRICT=1: the refusal is not in the output"; }
[ "$(dpkg_status livemig-agent)" = "install ok half-configured" ] || fail "LIVEMIG_STRICT=1: status: $(dpkg_status livemig-agent)"
pass "LIVEMIG_STRICT=1, bad token: apt-get exit $APT_RC, half-configured, the refusal shown"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge after the strict refusal: exit $APT_RC"; }

# ---- 6. console unreachable ----------------------------------------------
preseed "https://127.0.0.1:$(free_port)" "$WAIVE" "$TOKEN"
apt "$MD" LIVEMIG_RETRIES=0 apt-get install -y -q --no-install-recommends livemig-agent
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "unreachable console: exit $APT_RC"; }
grep -q 'did not answer' "$T/apt.log" || fail "unreachable: not said"
[ -e "$R/etc/livemig/token" ] && [ "$(stat -c %a "$R/etc/livemig/token")" = 600 ] || fail "unreachable: the token was not kept (0600)"
[ -L "$R/etc/systemd/system/multi-user.target.wants/livemig-register.service" ] || fail "livemig-register.service not enabled"
st=$(in_chroot "$R" livemig status 2>&1) && fail "livemig status succeeded without a registration"
grep -q 'not registered yet: the console did not answer' <<<"$st" || fail "livemig status does not say the registration waits: $st"
pass "console unreachable: installed, token kept 0600, livemig-register.service enabled to retry; livemig status says so"
apt apt-get purge -y -q livemig-agent livemig-cbt-dkms
[ "$APT_RC" = 0 ] || fail "purge (unreachable): exit $APT_RC"
snapshot "$T/after2"
diff -u "$T/before" "$T/after2" >"$T/diff" || { cat "$T/diff"; fail "purge left files (unreachable case)"; }
pass "purge of the unregistered agent leaves nothing"

# ---- 7. the servers' package ------------------------------------------------
apt apt-get install -y -q livemig-server
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "livemig-server: exit $APT_RC"; }
for u in livemig-staging livemig-console; do
	in_chroot "$R" getent passwd "$u" >/dev/null || fail "livemig-server: no user $u"
done
out=$(systemd-analyze verify --man=no --root="$R" livemig-staging.service livemig-console.service 2>&1) &&
	[ -z "$out" ] || fail "systemd-analyze verify (servers): $out"
conffiles=$(in_chroot "$R" dpkg-query -W -f='${Conffiles}' livemig-server)
for u in staging console; do
	grep -q "/etc/default/livemig-$u " <<<"$conffiles" || fail "/etc/default/livemig-$u is not a conffile: $conffiles"
	grep -q "livemig-$u is not configured yet: set ${u^^}_OPTS in /etc/default/livemig-$u" "$T/apt.log" ||
		fail "the postinst did not say that livemig-$u needs its options: $(cat "$T/apt.log")"
done
# systemd is not PID 1 in a chroot: run each unit's ExecCondition as systemd
# would ($$ is a literal $; the environment comes from the EnvironmentFile)
unit_condition() { # SERVICE: exit status of its ExecCondition, stderr on stdout
	local cmd
	cmd=$(sed -n 's/^ExecCondition=\/bin\/sh -c //p' "$R/lib/systemd/system/$1")
	cmd=${cmd#\'}
	cmd=${cmd%\'}
	in_chroot "$R" /bin/sh -c "set -a; . /etc/default/${1%.service}; set +a; /bin/sh -c '${cmd//\$\$/\$}'" 2>&1
}
for u in staging console; do
	out=$(unit_condition "livemig-$u.service") && fail "livemig-$u.service would start unconfigured"
	grep -q "livemig-$u is not configured: set ${u^^}_OPTS" <<<"$out" || fail "livemig-$u's condition says: $out"
done
sed -i 's|^STAGING_OPTS=""|STAGING_OPTS="--listen 0.0.0.0:7450"|' "$R/etc/default/livemig-staging"
out=$(unit_condition livemig-staging.service) || fail "a configured livemig-staging is still skipped: $out"
pass "livemig-server ships /etc/default/livemig-{staging,console} as conffiles; unconfigured units are skipped with the remedy, the postinst says it"
apt apt-get purge -y -q livemig-server
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "livemig-server purge: exit $APT_RC"; }
! in_chroot "$R" getent passwd livemig-staging >/dev/null || fail "livemig-server purge: the user is left"
snapshot "$T/after3"
diff -u "$T/before" "$T/after3" >"$T/diff" || { cat "$T/diff"; fail "livemig-server purge left files"; }
pass "livemig-server: users livemig-staging and livemig-console made, units verify clean; purge removes them and leaves no file"
stop_console
