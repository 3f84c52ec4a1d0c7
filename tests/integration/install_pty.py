#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive an interactive program through a pseudo-terminal, like a person.

    install_pty.py --transcript FILE [--step REGEX TEXT]... [--timeout S] -- CMD [ARGS...]

Runs CMD with a new pty as its controlling terminal (stdin, stdout and
stderr). For each --step, in order: waits until the output since the last
match contains REGEX, then types TEXT (Python escapes: "\\n" for Enter,
"\\x03" for Ctrl-C). Everything the terminal showed, echo included, goes to
FILE. Prints "exit N" (or "signal N") and "echo on|off" (the terminal's
ECHO flag after CMD ended: a program killed during a secret prompt must
have restored it). Exit status 0, or 1 when a step timed out.
"""
import argparse
import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transcript", required=True)
    ap.add_argument("--step", nargs=2, action="append", default=[], metavar=("REGEX", "TEXT"))
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd

    master, slave = os.openpty()

    def become_tty_owner():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # after setsid: Ctrl-C reaches CMD

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=become_tty_owner)
    out = bytearray()
    pos = 0
    ok = True

    def read_some(timeout):
        r, _, _ = select.select([master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every slave fd closed
            return False
        out.extend(data)
        return bool(data)

    for regex, text in args.step:
        pat = re.compile(regex.encode())
        deadline = time.monotonic() + args.timeout
        while True:
            m = pat.search(out, pos)
            if m:
                pos = m.end()
                break
            if time.monotonic() > deadline or proc.poll() is not None and not read_some(0.2):
                print("timed out waiting for %r" % regex, file=sys.stderr)
                ok = False
                break
            read_some(0.2)
        if not ok:
            break
        time.sleep(0.05)  # a person does not type before the question is read
        os.write(master, text.encode().decode("unicode_escape").encode())

    deadline = time.monotonic() + args.timeout
    while proc.poll() is None and time.monotonic() < deadline:
        read_some(0.2)
    if proc.poll() is None:
        proc.kill()
        ok = False
    while read_some(0.1):
        pass
    rc = proc.wait()
    echo = "on" if termios.tcgetattr(slave)[3] & termios.ECHO else "off"
    with open(args.transcript, "wb") as f:
        f.write(bytes(out))
    print("exit %d" % rc if rc >= 0 else "signal %d" % -rc)
    print("echo " + echo)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
