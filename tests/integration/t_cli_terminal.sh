#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_staging takes the program's options, not the script's arguments
# livemig in a terminal: -V; `livemig help CMD` is `livemig CMD --help` for
# every command; "did you mean" for a mistyped command or check id; every
# error line starts with `livemig CMD: `; a --config that does not exist is
# an error. Then `livemig status` against a real livemigd with a long disk
# path: every line fits 80 columns ($COLUMNS for a pipe, an 80-column
# terminal), the bar adapts (under the disk at 80 columns, in its row at
# 200), the overall line, tracker and why, source vs wire rate, and no
# "ETA 0ms" once a disk is done; a pipe without $COLUMNS keeps whole lines.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
need_root

L=$BUILD/livemig

# --- the command line, no daemon needed ---
v=$("$L" -V) || die "-V failed"
[ "$v" = "$("$L" --version)" ] || die "-V and --version differ: $v"
grep -qE '^livemig [0-9]' <<<"$v" || die "-V prints '$v'"
pass "-V: $v"

usage=$("$L" --help)
cmds=$(sed -n '/^Available commands:/,/^$/p' <<<"$usage" | awk '/^  / { print $1 }')
[ "$(wc -w <<<"$cmds")" -ge 10 ] || die "commands not found in --help: $usage"
for c in $cmds; do
	a=$("$L" help "$c") || die "livemig help $c failed"
	b=$("$L" "$c" --help) || die "livemig $c --help failed"
	[ "$a" = "$b" ] || die "livemig help $c and livemig $c --help differ"
	grep -q "^Usage: livemig $c" <<<"$a" || die "livemig help $c: $a"
done
pass "livemig help CMD = livemig CMD --help for: $(tr '\n' ' ' <<<"$cmds")"

# a usage error: exit 2, the one line given
expect_usage() {
	local want=$1 out rc=0
	shift
	out=$("$L" "$@" 2>&1) || rc=$?
	[ "$rc" = 2 ] || die "livemig $*: exit $rc, not 2: $out"
	grep -qF -- "$want" <<<"$out" || die "livemig $*: '$out' lacks '$want'"
	pass "livemig $*: $(sed -n 1p <<<"$out")"
}
expect_usage "livemig: 'stauts' is not a livemig command (did you mean status?)" stauts
expect_usage "livemig: 'frobnicate' is not a livemig command. Try 'livemig --help'." frobnicate
expect_usage "livemig: 'staus' is not a livemig command (did you mean status?)" help staus
expect_usage "livemig check: unknown check id 'dhclent' (did you mean dhclient?)" \
	check --waive dhclent
expect_usage "livemig check: unknown check id 'zzz';" check --waive zzz
expect_usage "livemig check: --config $T/none.conf: no such file" check --config "$T/none.conf"

# every message of a command against a daemon that is not there
for c in status pause resume sync; do
	rc=0
	out=$("$L" --socket "$T/nobody.sock" "$c" 2>&1) || rc=$?
	[ "$rc" = 3 ] || die "livemig $c without a daemon: exit $rc"
	[ "$(grep -vc "^livemig $c: " <<<"$out")" = 0 ] || die "livemig $c: a line without the prefix: $out"
done
pass "no daemon: every line starts with 'livemig CMD: '"

# --- status in a terminal ---
start_staging
python3 "$TESTS/make_disk.py" "$T/d.img" 48M --seed 5
dev=$(make_loop "$T/d.img")
long=$T/a-source-disk-with-a-name-much-longer-than-any-terminal-column-should-hold
ln -s "$dev" "$long"
write_agent_config term "$long"
start_agent term
wait_status "s['state'] == 'CHANGE_COPY' and s['disks'][0]['backlog_bytes'] == 0" 120

# WIDTH as the terminal (a pty) or as $COLUMNS (a pipe); prints the output
status_at() {
	python3 - "$L" "$AGENT_SOCK" "$@" <<'PY'
import fcntl, os, pty, struct, sys, termios
prog, sock, mode, width = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
argv = [prog, "--socket", sock, "status"]
if mode == "pipe":
    env = dict(os.environ, COLUMNS=str(width))
    os.execvpe(prog, argv, env)
pid, fd = pty.fork()
if pid == 0:
    # the child sizes its own terminal before the exec: sized by the parent
    # after the fork, livemig could ask for the size first and get 0 columns
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
    os.execv(prog, argv)
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode().replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

fits() {
	local width=$1 text=$2
	awk -v w="$width" 'length($0) > w { bad = bad "\n" length($0) ": " $0 } END { if (bad) { print "wider than " w ":" bad; exit 1 } }' <<<"$text"
}

plain=$(status_at pipe 80) || die "status failed"
echo "$plain"
fits 80 "$plain" || die "plain status is wider than 80 columns"
for want in "^machine: +term$" "^tracker: +scan \(tracker = scan\)$" \
	"^rate: +[0-9.]+ [KMG]?i?B/s source, [0-9.]+ [KMG]?i?B/s on the wire$" \
	"^since start: +[0-9.]+ [KMG]?i?B durable \(zeros included\), [0-9.]+ [KMG]?i?B on the wire$" \
	"^rounds: +[0-9]+ change-copy rounds? in all$" \
	"^all disks: +100\.0% \(48\.0 MiB / 48\.0 MiB\), ETA -$" "^d0 +CHANGE_COPY " \
	"^      /.*\.\.\..*hold$"; do
	grep -qE -- "$want" <<<"$plain" || die "plain status lacks '$want'"
done
grep -qE ' 0ms ' <<<"$plain" && die "a finished disk shows an ETA of 0ms"
pass "status fits 80 columns: overall line, tracker and why, source vs wire rate, no ETA 0ms"

# a pipe without COLUMNS: whole lines, one per disk, as scripts read them
whole=$(lm status) || die "status to a pipe failed"
grep -qE "^d0 +$long +CHANGE_COPY" <<<"$whole" || die "piped status lacks the disk's line: $whole"
pass "piped status keeps one whole line per disk"

tty80=$(status_at pty 80) || die "status on a terminal failed"
echo "$tty80"
fits 80 "$tty80" || die "status on an 80-column terminal is wider"
grep -qE '^      /.*\.\.\..*  \[#{20}\]$' <<<"$tty80" || die "no bar under the disk on an 80-column terminal"
tty200=$(status_at pty 200) || die "status on a wide terminal failed"
echo "$tty200"
fits 200 "$tty200" || die "status on a 200-column terminal is wider"
grep -qE "^d0 +$long +CHANGE_COPY .*\[#{5,20}\] +100\.0%" <<<"$tty200" ||
	die "no one-line row with its bar on a 200-column terminal"
pass "on a terminal the bar takes the room left: under the disk at 80 columns, in its row at 200"
stop_agent

# the agent's log: one line per round with what it did, none per block
rounds=$(grep -c ': round [0-9]*: read ' "$AGENT_LOG")
[ "$rounds" -ge 1 ] || die "no round line in the agent's log"
line=$(grep -m1 ': round [0-9]*: read ' "$AGENT_LOG")
grep -qE 'round [0-9]+: read [0-9.]+ [KMG]?i?B \([0-9]+ blocks\), [0-9.]+ [KMG]?i?B of changed data durable \(zero blocks included\), [0-9.]+ [KMG]?i?B on the wire, [0-9.]+ s, lag [0-9.]+ s$' <<<"$line" ||
	die "round line: $line"
[ "$(wc -l <"$AGENT_LOG")" -lt $((rounds + 30)) ] || die "the log has more than a line per round: $(wc -l <"$AGENT_LOG") lines"
pass "agent log: $rounds round lines, e.g. ${line#*info: }"
