#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package's questions at debconf's default priority (high), as
# `apt-get install livemig-agent` asks them on a terminal: the console, its
# CA and the token are asked (docs/install.md), the low-priority ones are
# not. The package's own config script runs under debconf's readline
# frontend in a pseudo-terminal, with a debconf database of its own in $T
# (DEBCONF_SYSTEMRC), so the host's debconf is not touched.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"

REPO=$(cd "$TESTS/../.." && pwd)
[ -x /usr/share/debconf/frontend ] || die "no debconf (a Debian system is needed)"
# the config script asks nothing on a machine that is registered already
[ ! -e /etc/livemig/livemigd.conf ] ||
	die "cannot run here: /etc/livemig/livemigd.conf exists (this host is a registered agent)"
[ ! -e /etc/livemig/token ] || die "cannot run here: /etc/livemig/token exists"

cat >"$T/debconf.conf" <<CONF
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: $T/config.dat

Name: templatedb
Driver: File
Mode: 644
Filename: $T/templates.dat
CONF
export DEBCONF_SYSTEMRC=$T/debconf.conf
unset DEBIAN_PRIORITY DEBIAN_FRONTEND DEBCONF_PRIORITY LIVEMIG_TOKEN
# what debconf-loadtemplate (debconf-utils) does, with debconf's own modules
perl -MDebconf::Db -MDebconf::Template -e 'Debconf::Db->load;
	Debconf::Template->load($ARGV[0], "livemig-agent"); Debconf::Db->save' \
	"$REPO/debian/livemig-agent.templates" || die "cannot load the templates"
# the frontend takes the package name from the script's name
cp "$REPO/debian/livemig-agent.config" "$T/livemig-agent.config"
chmod 755 "$T/livemig-agent.config"

python3 - "$T/livemig-agent.config" >"$T/session.log" 2>&1 <<'PY' || { cat "$T/session.log"; die "the questions were not asked as documented"; }
import os, pty, select, sys, time
answers = [("URL of the livemig console", "https://console.example:8443"),
           ("CA certificate of the console", "/srv/pki/console-ca.pem"),
           ("Installation token", "lmt_pty_test_token")]
env = dict(os.environ, DEBIAN_FRONTEND="readline", TERM="dumb")
pid, fd = pty.fork()
if pid == 0:
    os.execve(sys.argv[1], [sys.argv[1], "configure"], env)
seen, asked = b"", []
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    sys.stdout.write(chunk.decode(errors="replace"))
    for prompt, answer in answers:
        if prompt not in asked and prompt.encode() in seen:
            asked.append(prompt)
            os.write(fd, answer.encode() + b"\n")
_, status = os.waitpid(pid, 0)
print("\n--- asked:", asked)
for prompt, _ in answers:
    if prompt not in asked:
        sys.exit("not asked: " + prompt)
for low in ("Prerequisite checks to waive", "Disks to replicate", "without starting replication"):
    if low.encode() in seen:
        sys.exit("asked at default priority: " + low)
sys.exit(os.waitstatus_to_exitcode(status))
PY
cat "$T/session.log"
# the answers as debconf stored them
value_of() {
	awk -v n="Name: $1" '$0 == n { f = 1 } f && /^Value: / { sub(/^Value: /, ""); print; f = 0 }' \
		"$T/config.dat"
}
[ "$(value_of livemig-agent/console-url)" = https://console.example:8443 ] ||
	die "console-url not stored: $(cat "$T/config.dat")"
[ "$(value_of livemig-agent/console-ca)" = /srv/pki/console-ca.pem ] ||
	die "console-ca not stored: $(cat "$T/config.dat")"
[ "$(value_of livemig-agent/token)" = lmt_pty_test_token ] || die "the token was not stored"
pass "default priority: console, CA and token asked; waivers, disks, no-replication not"
