#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Numbered, checksummed, fsync'd records: the writes a copy must not lose.

  records.py write FILE ACKS     append "%010d %08x\\n" (number, crc32 of the
                                 number) to FILE, fsync each, then log
                                 "N START_NS ACK_NS" to ACKS; until SIGTERM.
                                 Numbering goes on after FILE's gap-free
                                 prefix (a restart after a reboot); a torn
                                 last record, never acknowledged, is cut
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


PACE = 0.5  # seconds between records: pgbench's pace (t_migration.sh)


def record(n):
    return b"%010d %08x\n" % (n, zlib.crc32(b"%d" % n))


def valid_prefix(data):
    """(K, BYTES): the number of leading valid records and their length;
    raises ValueError for a bad record before the last line."""
    lines = data.split(b"\n")
    for k, line in enumerate(lines[:-1]):
        if line + b"\n" != record(k + 1):
            raise ValueError("record %d is %r" % (k + 1, line))
    return len(lines) - 1, len(data) - len(lines[-1])


def write(path, acks):
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    n, end = valid_prefix(os.pread(fd, os.fstat(fd).st_size, 0))
    os.ftruncate(fd, end)
    os.fsync(fd)
    log = open(acks, "a", buffering=1)
    while not stop:
        n += 1
        start = time.time_ns()
        os.pwrite(fd, record(n), end)
        end += len(record(n))
        os.fsync(fd)
        log.write("%d %d %d\n" % (n, start, time.time_ns()))
        # about 5 a second, pgbench's pace: each record is an fsync (a
        # journal commit) on the guest's one TCG vCPU, which the agent,
        # DKMS and the boots need more
        time.sleep(PACE)
    os.close(fd)


def prefix(path):
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        data = b""
    try:
        k, end = valid_prefix(data)
    except ValueError as e:
        sys.exit(str(e))
    if end != len(data):
        sys.exit("torn record after %d" % k)
    print(k)


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
