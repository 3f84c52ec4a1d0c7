#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig-setup (what the packages run) with a misspelt waiver: it shows the
# command it runs as typed, livemig check names the id and the one meant,
# and the setup says the setting is wrong instead of reporting a failing
# check. Nothing is registered (the console's address is never used); the
# package fails well: exit 0 with the reason kept, exit 1 under strict.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

setup=$TESTS/../../dist/livemig-setup
etc=$T/etc
mkdir -p "$etc/install.conf.d"
: >"$T/console-ca.pem"
cat >"$etc/install.conf.d/10-site.conf" <<CONF
console_url = https://127.0.0.1:9
console_ca = $T/console-ca.pem
waive = dhclent
CONF
printf 'lmt_0123456789\n' >"$etc/token"
chmod 600 "$etc/token"

rc=0
out=$(LIVEMIG_ETC=$etc LIVEMIG_STATE=$T/state LIVEMIG_BIN=$BUILD/livemig sh "$setup" register 2>&1) || rc=$?
echo "$out"
[ "$rc" = 0 ] || die "livemig-setup register exited $rc, not 0 (not strict: the package is configured)"
grep -q "^reason = waive = dhclent: livemig check refused it" "$T/state/registration-failure" ||
	die "the reason is not kept: $(cat "$T/state/registration-failure" 2>&1)"
for want in "livemig-setup: prerequisite checks (livemig check --waive dhclent):" \
	"livemig check: unknown check id 'dhclent' (did you mean dhclient?)" \
	"livemig-setup: not registered: waive = dhclent: livemig check refused it"; do
	grep -qF -- "$want" <<<"$out" || die "output lacks '$want'"
done
grep -q "a prerequisite check fails" <<<"$out" && die "a misspelt waiver reported as a failing check"
[ -e "$etc/livemigd.conf" ] && die "something was registered"
pass "a misspelt waiver is named as such, with the id meant; exit 0, the reason kept"
rc=0
out=$(LIVEMIG_STRICT=1 LIVEMIG_ETC=$etc LIVEMIG_STATE=$T/state LIVEMIG_BIN=$BUILD/livemig sh "$setup" register 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "strict = true: the configuration fails" <<<"$out" || die "LIVEMIG_STRICT=1: exit $rc: $out"
pass "LIVEMIG_STRICT=1: exit 1, the configuration fails"
