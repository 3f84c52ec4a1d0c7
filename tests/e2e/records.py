#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Numbered, checksummed, fsync'd records: the writes a copy must not lose.

  records.py write FILE ACKS     append "%010d %08x\\n" (number, crc32 of the
                                 number) to FILE, fsync each, then log
                                 "N START_NS ACK_NS" to ACKS; until SIGTERM
  records.py prefix FILE         print K, the length of FILE's gap-free prefix
                                 of valid records; exit 1 on a bad or torn one
  records.py acked ACKS T_NS     print the highest N acknowledged before T_NS
                                 (0 if none)

A copy taken at a point whose freeze began at T_NS must hold a prefix of
at least `acked ACKS T_NS` records (the recovery points' rule)."""
import os
import signal
import sys
import time
import zlib


def record(n):
    return b"%010d %08x\n" % (n, zlib.crc32(b"%d" % n))


def write(path, acks):
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    log = open(acks, "a", buffering=1)
    n = 0
    while not stop:
        n += 1
        start = time.time_ns()
        os.write(fd, record(n))
        os.fsync(fd)
        log.write("%d %d %d\n" % (n, start, time.time_ns()))
        time.sleep(0.05)
    os.close(fd)


def prefix(path):
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        data = b""
    lines = data.split(b"\n")
    if data and lines[-1]:
        sys.exit("torn record after %d" % (len(lines) - 1))
    for k, line in enumerate(lines[:-1]):
        if line + b"\n" != record(k + 1):
            sys.exit("record %d is %r" % (k + 1, line))
    print(max(len(lines) - 1, 0))


def acked(acks, t_ns):
    best = 0
    for line in open(acks):
        n, _, ack = map(int, line.split())
        if ack < t_ns:
            best = max(best, n)
    print(best)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "write":
        write(args[1], args[2])
    elif len(args) == 2 and args[0] == "prefix":
        prefix(args[1])
    elif len(args) == 3 and args[0] == "acked":
        acked(args[1], int(args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
