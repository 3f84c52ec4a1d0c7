#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fail on pipelines whose reader may stop before its writer has finished.

Under `set -o pipefail` a pipeline's status is its writer's as well. A reader
that stops early (`head`, `grep -q`/`-m`/`-l`, `awk` with `exit`, `sed … q`,
`read`, `cmp`) closes the pipe while the writer may still be writing; the
writer dies of SIGPIPE and the pipeline fails or not depending on which
process the scheduler ran first. Every shell script in the tree (tests, CI,
packaging) therefore uses readers that read to the end of their input:
`sed -n 1p` for `head -1`, `has_line` (tests/integration/lib.sh) for `grep -q`,
an awk flag instead of `exit`, or the writer's output captured first.

Usage: tests/lint/pipe_readers.py [REPO]   exit 1 and a list when any is found
"""
import os
import re
import subprocess
import sys

# a reader right after a pipe (not `||`) that may stop before EOF
EARLY = [
    (re.compile(r"^head\b"), "head stops after its lines"),
    (re.compile(r"^grep\s+(?:-[A-Za-z]*\s+|-e\s+\S+\s+|--\S+\s+)*-[A-Za-z]*[qmlL]"), "grep -q/-m/-l stops at a match"),
    (re.compile(r"^grep\b.*\s--(?:quiet|silent|max-count|files-with)"), "grep stops at a match"),
    (re.compile(r"^awk\b(?:(?!END\s*\{).)*[{;]\s*exit\b"), "awk exits before EOF"),
    (re.compile(r"^sed\b[^|]*?(?:^|[\s'\"0-9;/{}$])[qQ](?:\s*\d*)?\s*(?:[;}'\"]|$)"), "sed quits before EOF"),
    (re.compile(r"^(?:IFS=\S*\s+)?read\b"), "read takes one line"),
    (re.compile(r"^cmp\b"), "cmp stops at the first difference"),
]
PIPE = re.compile(r"(?<![|])\|(?![|])\s*")
SHEBANG = re.compile(rb"^#!.*\b(?:ba)?sh\b")


def shell_files(repo):
    out = subprocess.run(["git", "-C", repo, "ls-files"], check=True,
                         capture_output=True, text=True).stdout.split()
    for path in out:
        full = os.path.join(repo, path)
        if not os.path.isfile(full) or os.path.islink(full):
            continue
        name = os.path.basename(path)
        if path.endswith(".sh") or name == "Makefile" or path.startswith("debian/") \
                or path.startswith(".ci/") or path.startswith("dist/"):
            yield path, full
            continue
        with open(full, "rb") as f:
            if SHEBANG.match(f.read(64)):
                yield path, full


def logical_lines(text):
    """Join continuation lines (a trailing `\\` or `|`), drop comments."""
    buf, start = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buf:
            start = n
        if stripped.startswith("#"):
            if buf:
                continue
            continue
        buf += " " + stripped
        if stripped.endswith("\\"):
            buf = buf[:-1]
            continue
        if stripped.endswith("|") and not stripped.endswith("||"):
            continue
        yield start, buf.strip()
        buf = ""
    if buf:
        yield start, buf.strip()


def findings(repo):
    for path, full in shell_files(repo):
        if path == "tests/lint/pipe_readers.py":
            continue
        with open(full, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for lineno, line in logical_lines(text):
            for m in PIPE.finditer(line):
                rest = line[m.end():]
                for pattern, why in EARLY:
                    if pattern.search(rest):
                        yield path, lineno, why, line
                        break


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    found = list(findings(repo))
    for path, lineno, why, line in found:
        print(f"{path}:{lineno}: {why}: {line[:160]}")
    if found:
        print(f"pipe-readers: FAIL {len(found)} pipeline(s) whose reader may stop before "
              "its writer ends (SIGPIPE under pipefail); read to EOF instead (see this script's doc)")
        return 1
    print("pipe-readers: ok, no pipeline ends in a reader that stops early")
    return 0


if __name__ == "__main__":
    sys.exit(main())
