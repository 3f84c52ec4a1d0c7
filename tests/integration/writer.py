#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keep changing a disk while it is replicated, the way a busy server would:
random writes of 4 KiB to 256 KiB at random aligned offsets, some of them
zeros, some overwriting recent writes, with an fsync now and then.

Deterministic for a given --seed. Runs until --count writes are done, or
--seconds pass, or SIGTERM; prints how many writes and bytes it made."""
import argparse
import os
import random
import signal
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("device")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=0, help="0: until SIGTERM")
    ap.add_argument("--count", type=int, default=0, help="0: no limit")
    ap.add_argument("--rate", type=float, default=200, help="writes per second")
    ap.add_argument("--region", type=int, default=0, help="only the first N bytes")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    rnd = random.Random(args.seed)
    fd = os.open(args.device, os.O_WRONLY)
    size = os.lseek(fd, 0, os.SEEK_END)
    if args.region:
        size = min(size, args.region)
    recent = []
    writes = written = 0
    start = time.monotonic()
    while not stop:
        if args.count and writes >= args.count:
            break
        if args.seconds and time.monotonic() - start >= args.seconds:
            break
        length = rnd.choice((4096, 8192, 65536, 131072, 262144))
        if recent and rnd.random() < 0.2:
            off = rnd.choice(recent)  # hot blocks are rewritten
        else:
            off = rnd.randrange(0, max(1, size - length)) // 4096 * 4096
        length = min(length, size - off)
        kind = rnd.random()
        if kind < 0.15:
            data = bytes(length)
        elif kind < 0.5:
            data = (b"livemig %d %d " % (writes, off)) * (length // 16 + 1)
            data = data[:length]
        else:
            data = rnd.randbytes(length)
        os.pwrite(fd, data, off)
        recent = (recent + [off])[-32:]
        writes += 1
        written += length
        if writes % 50 == 0:
            os.fsync(fd)
        if args.rate:
            delay = start + writes / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    os.fsync(fd)
    os.close(fd)
    print("writer: %d writes, %d bytes" % (writes, written), flush=True)


if __name__ == "__main__":
    sys.exit(main())
