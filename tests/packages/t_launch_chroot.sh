#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The livemig-launch package beside livemig-server, in fresh Debian 12
# chroots made from the launch tarball (chroot_lib.sh: the package tests'
# system plus libguestfs, libvirt and QEMU's tools, what livemig-launch
# depends on), against a real livemig-console on 127.0.0.1. livemig-staging
# is started as its unit runs it (chroot_systemctl.sh: the unit and its
# drop-ins, User=, the EnvironmentFile) with --launch-driver export:
#   .deb  1. livemig-server alone: staging runs as livemig-staging and warns
#            that the launcher cannot be run (the control)
#         2. apt-get install livemig-launch: its dependencies resolve,
#            `livemig-launch --help` runs, its man page is there; systemd's
#            own offline reading of the unit (systemd-analyze cat-config,
#            security --offline, verify) has the drop-in: root, the
#            relaxations, no module loading or raw I/O; the running staging
#            is not restarted (same process, same user)
#         3. restarted: root, no warning, the launcher /usr/sbin/livemig-launch
#         4. remove livemig-launch: the drop-in gone; restarted: its own user
#            and the warning again; purge both: no file of ours left
#   .rpm  5. rpm --root -i livemig-server livemig-launch: the same drop-in
#            under /usr/lib/systemd/system, staging as root finds the
#            launcher; rpm -e livemig-launch: its files and cache gone,
#            staging back to its user
# Not here: a conversion or a launch under systemd's real sandbox (systemd
# is not PID 1 in a chroot; docs/launch.md says what runs where).
#   tests/packages/t_launch_chroot.sh BUILD OUTDIR   (OUTDIR/deb, OUTDIR/rpm)
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$TESTS/console_lib.sh"
. "$(dirname "$0")/chroot_lib.sh"
need_root
OUT=$(cd "${2:?usage: t_launch_chroot.sh BUILD OUTDIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
DEBS=$OUT/deb
RPMS=$OUT/rpm/RPMS
DROPIN=livemig-staging.service.d/launch.conf

ROOTS=()
_launch_cleanup() {
	local r p
	for r in "${ROOTS[@]}"; do
		p=$(cat "$r/run/chroot-units/livemig-staging.pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null
		chroot_umount "$r"
	done
	return 0
}
_launch_rc=0
trap '_launch_rc=$?; _launch_cleanup; (exit $_launch_rc); _lib_cleanup' EXIT

# DIR: a fresh chroot with the stand-in systemctl (in /usr/local/sbin, which
# the units never see)
new_root() {
	local r=$1 t0
	t0=$(date +%s)
	chroot_unpack "$r" launch || die "no launch chroot (debootstrap: see $CHROOT_LAUNCH_TARBALL.log)"
	chroot_mount "$r"
	ROOTS+=("$r")
	install -m 0755 "$HERE/chroot_systemctl.sh" "$r/usr/local/sbin/systemctl"
	pass "chroot unpacked from $CHROOT_LAUNCH_TARBALL in $(($(date +%s) - t0)) s"
}

setup_pki
start_console
admin add-staging main >"$T/staging.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"

# R: staging's certificates, credential and options, as docs/quickstart.md
# has them (files of the livemig-staging user), launches on (export driver)
configure_staging() {
	local r=$1 port
	port=$(free_port)
	mkdir -p "$r/etc/livemig"
	cp "$AGENT_CA" "$r/etc/livemig/agent-ca.pem"
	cp "$SERVER_CA" "$r/etc/livemig/console-ca.pem"
	cp "$SERVER_CERT" "$r/etc/livemig/staging.pem"
	install -m 0600 "$SERVER_KEY" "$r/etc/livemig/staging.key"
	install -m 0600 "$T/staging.secret" "$r/etc/livemig/staging.secret"
	in_chroot "$r" chown livemig-staging: /etc/livemig/staging.key /etc/livemig/staging.secret ||
		fail "chown to livemig-staging"
	sed -i "s|^STAGING_OPTS=.*|STAGING_OPTS=\"--listen 127.0.0.1:$port --store /var/lib/livemig-staging/store --ca /etc/livemig/agent-ca.pem --cert /etc/livemig/staging.pem --key /etc/livemig/staging.key --console https://127.0.0.1:$CONSOLE_PORT --console-ca /etc/livemig/console-ca.pem --console-credential /etc/livemig/staging.secret --launch-driver export\"|" \
		"$r/etc/default/livemig-staging"
}

LOG=
STAGING=
# R: (re)start livemig-staging.service through the stand-in; wait until it
# listens; sets STAGING (its pid) and LOG (this start's output)
restart_staging() {
	local r=$1
	LOG=$r/var/log/chroot-units/livemig-staging.log
	in_chroot "$r" /usr/local/sbin/systemctl stop livemig-staging || fail "systemctl stop"
	rm -f "$LOG"
	in_chroot "$r" /usr/local/sbin/systemctl start livemig-staging || fail "systemctl start livemig-staging"
	wait_for_log "$LOG" "listening on" 60 || fail "livemig-staging did not start: $(cat "$LOG" 2>&1)"
	STAGING=$(cat "$r/run/chroot-units/livemig-staging.pid")
}

uid_of() {
	sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}

# R WHO: staging runs as WHO (root, or its own user, then warning that the
# launcher cannot be run)
expect_staging() {
	local r=$1 who=$2 uid
	restart_staging "$r"
	uid=$(uid_of "$STAGING")
	if [ "$who" = root ]; then
		[ "$uid" = 0 ] || fail "livemig-staging runs as uid $uid, not root"
		! grep -q 'cannot be run' "$LOG" || fail "the launcher is not found: $(cat "$LOG")"
		grep -q 'launches: driver export, launcher /usr/sbin/livemig-launch, instances in /var/lib/livemig-staging/store/.launches' "$LOG" ||
			fail "no launcher line: $(cat "$LOG")"
		# the appliance's cache, for the launcher staging runs
		[ -d "$r/var/cache/livemig-launch" ] &&
			tr '\0' '\n' <"/proc/$STAGING/environ" | has_line -x 'LIBGUESTFS_CACHEDIR=/var/cache/livemig-launch' ||
			fail "no appliance cache for the launcher"
	else
		[ "$uid" = "$(in_chroot "$r" id -u livemig-staging)" ] || fail "livemig-staging runs as uid $uid"
		grep -q 'launches: the launcher livemig-launch cannot be run (No such file or directory)' "$LOG" ||
			fail "no warning about the missing launcher: $(cat "$LOG")"
	fi
}

# R: systemd's view of the unit and its drop-ins: CAT (the files, each
# after a "# PATH" line, PATH under R), SEC (the sandbox's assessment, ✓ and
# ✗ in a UTF-8 locale), EXPOSURE (its score)
systemd_view() {
	local r=$1 out
	CAT=$(systemd-analyze --root="$r" cat-config systemd/system/livemig-staging.service 2>&1) ||
		fail "systemd-analyze cat-config: $CAT"
	SEC=$(LC_ALL=C.UTF-8 systemd-analyze security --offline=yes --root="$r" livemig-staging.service 2>&1)
	EXPOSURE=$(sed -n 's/.*Overall exposure level for livemig-staging.service: \([0-9.]*\).*/\1/p' <<<"$SEC")
	[ -n "$EXPOSURE" ] || fail "systemd-analyze security --offline: $SEC"
	out=$(systemd-analyze verify --man=no --root="$r" livemig-staging.service 2>&1) && [ -z "$out" ] ||
		fail "systemd-analyze verify --root: $out"
}

# ---- .deb ---------------------------------------------------------------------
R=$T/deb-root
new_root "$R"
mkdir -p "$R/srv/repo"
cp "$DEBS"/livemig-server_*.deb "$DEBS"/livemig-launch_*.deb "$R/srv/repo/"
(cd "$R/srv/repo" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
echo "deb [trusted=yes] file:/srv/repo ./" >"$R/etc/apt/sources.list"
in_chroot "$R" apt-get update -q >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; die "apt-get update"; }
snapshot() { # as t_deb_chroot.sh
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache/apt \
		-o -path ./var/cache/debconf -o -path ./var/log -o -path ./srv/repo \) -prune -o -print) |
		sort >"$1"
}
snapshot "$T/before"
apt() {
	APT_RC=0
	in_chroot "$R" "$@" >"$T/apt.log" 2>&1 || APT_RC=$?
}

# 1. the server alone: the control
apt apt-get install -y -q livemig-server
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "apt-get install livemig-server: exit $APT_RC"; }
[ "$(in_chroot "$R" dpkg-query -W -f='${Status}' livemig-launch 2>&1)" != "install ok installed" ] ||
	fail "livemig-server pulled livemig-launch in: $(cat "$T/apt.log")"
configure_staging "$R"
systemd_view "$R"
! grep -q "$DROPIN" <<<"$CAT" || fail "a drop-in without livemig-launch: $CAT"
grep -q '✓ User=/DynamicUser=.*static non-root user' <<<"$SEC" || fail "security: $SEC"
BASE_EXPOSURE=$EXPOSURE
expect_staging "$R" user
pass "livemig-server alone (not livemig-launch, a Suggests): staging as livemig-staging warns 'the launcher livemig-launch cannot be run'; systemd's exposure $BASE_EXPOSURE"
OLD=$STAGING

# 2. the launch package
apt apt-get install -y -q livemig-launch
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "apt-get install livemig-launch: exit $APT_RC"; }
grep -q 'livemig-staging.service runs as root from its next restart' "$T/apt.log" ||
	fail "the postinst did not say what changes: $(cat "$T/apt.log")"
help=$(in_chroot "$R" livemig-launch --help 2>&1) || fail "livemig-launch --help: $help"
grep -q '^  convert ' <<<"$help" || fail "livemig-launch --help: $help"
[ -x "$R/usr/sbin/livemig-launch" ] && [ -e "$R/usr/share/man/man8/livemig-launch.8.gz" ] ||
	fail "livemig-launch or its man page is not installed: $(in_chroot "$R" dpkg -L livemig-launch)"
pass "apt-get install livemig-launch (its Depends from the chroot's packages): /usr/sbin/livemig-launch --help runs, livemig-launch(8) installed"
kill -0 "$OLD" 2>/dev/null && [ "$(uid_of "$OLD")" = "$(in_chroot "$R" id -u livemig-staging)" ] ||
	fail "installing livemig-launch changed the running staging server"
pass "the running staging server is untouched by the install (pid $OLD, still livemig-staging)"
systemd_view "$R"
grep -q "^# $R/\(usr/\)\?lib/systemd/system/$DROPIN\$" <<<"$CAT" || fail "cat-config does not show the drop-in: $CAT"
grep -q '✗ User=/DynamicUser=.*runs as root user' <<<"$SEC" || fail "security: not root: $SEC"
for ok in CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_PTRACE CAP_NET_ADMIN 'CAP_SET(UID|GID|PCAP)'; do
	grep -qF "✓ CapabilityBoundingSet=~$ok " <<<"$SEC" || fail "security: $ok is not out of the bounding set: $SEC"
done
grep -q '✓ ProtectSystem=.*strict' <<<"$SEC" && grep -q '✓ RestrictNamespaces=~user' <<<"$SEC" ||
	fail "security: the rest of the sandbox is not kept: $SEC"
devices=$(sed -n 's/.*device ACL with some special devices: //p' <<<"$SEC" | sed 's/ *[0-9.]*$//')
pass "systemd-analyze (cat-config, security --offline, verify) --root: the drop-in, root, devices '$devices', no module loading, raw I/O, ptrace, network administration; exposure $BASE_EXPOSURE -> $EXPOSURE"

# 3. restarted: root, the launcher found
expect_staging "$R" root
pass "restarted as the unit runs it: livemig-staging as root, no warning: $(grep -o 'launches: driver.*' "$LOG")"

# 4. removed: the user again; purged: nothing left
apt apt-get remove -y -q livemig-launch
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "apt-get remove livemig-launch: exit $APT_RC"; }
[ ! -e "$R/usr/lib/systemd/system/$DROPIN" ] || fail "remove left the drop-in"
expect_staging "$R" user
pass "remove livemig-launch: the drop-in gone; restarted, staging runs as livemig-staging and warns again"
in_chroot "$R" /usr/local/sbin/systemctl stop livemig-staging || fail "systemctl stop"
apt apt-get purge -y -q livemig-launch livemig-server
[ "$APT_RC" = 0 ] || { cat "$T/apt.log"; fail "purge: exit $APT_RC"; }
rm -f "$R/etc/livemig/agent-ca.pem" "$R/etc/livemig/console-ca.pem" "$R"/etc/livemig/staging.*
rmdir "$R/etc/livemig"
snapshot "$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || { cat "$T/diff"; fail "purge left files (or removed some)"; }
pass "purge livemig-launch livemig-server: no file left (the appliance cache included)"

# ---- .rpm ---------------------------------------------------------------------
R=$T/rpm-root
new_root "$R"
rpm --root "$R" --initdb || die "rpm --initdb"
RC=0
rpm --root "$R" -ivh --nodeps "$RPMS"/x86_64/livemig-server-[0-9]*.rpm "$RPMS"/x86_64/livemig-launch-[0-9]*.rpm \
	>"$T/rpm.log" 2>&1 || RC=$?
[ "$RC" = 0 ] || { cat "$T/rpm.log"; fail "rpm -i livemig-server livemig-launch: exit $RC"; }
[ -e "$R/usr/lib/systemd/system/$DROPIN" ] || fail "no drop-in: $(rpm --root "$R" -ql livemig-launch)"
help=$(in_chroot "$R" /usr/sbin/livemig-launch --help 2>&1) || fail "livemig-launch --help: $help"
configure_staging "$R"
systemd_view "$R"
grep -q "^# $R/usr/lib/systemd/system/$DROPIN\$" <<<"$CAT" && grep -q '✗ User=/DynamicUser=.*runs as root user' <<<"$SEC" ||
	fail "systemd does not see the RPM's drop-in: $CAT $SEC"
expect_staging "$R" root
pass "rpm --root -i livemig-server livemig-launch: livemig-launch --help runs; systemd sees the drop-in (exposure $EXPOSURE); staging as root: $(grep -o 'launches: driver.*' "$LOG")"
files=$(rpm --root "$R" -ql livemig-launch)
in_chroot "$R" /usr/local/sbin/systemctl stop livemig-staging || fail "systemctl stop"
rpm --root "$R" -e livemig-launch >"$T/rpm.log" 2>&1 || { cat "$T/rpm.log"; fail "rpm -e livemig-launch"; }
while read -r f; do
	# a directory another package still owns (/usr/lib/.build-id) stays
	[ -d "$R$f" ] && rpm --root "$R" -qf "$f" >/dev/null 2>&1 && continue
	[ ! -e "$R$f" ] || fail "rpm -e left $f"
done <<<"$files"
[ ! -e "$R/var/cache/livemig-launch" ] || fail "rpm -e left the appliance cache"
expect_staging "$R" user
pass "rpm -e livemig-launch: its $(wc -l <<<"$files") files and the appliance cache gone; staging as livemig-staging again, with the warning"
in_chroot "$R" /usr/local/sbin/systemctl stop livemig-staging || fail "systemctl stop"
stop_console
