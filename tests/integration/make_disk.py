#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make a disk image shaped like a real server's disk: extents of zeros
(never written), of real file data (from /usr) and of random bytes, in the
given proportions, in extents of 1 to 8 MiB. Sparse where zero.
Deterministic for a given --seed (the file data comes from this machine's
/usr, so identical across runs on one machine)."""
import argparse
import os
import random
import sys

MiB = 1 << 20


def usr_files():
    for top in ("/usr/lib", "/usr/share", "/usr/bin"):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        yield f.read(16 * MiB)
                except OSError:
                    continue


class FileData:
    def __init__(self):
        self.source = usr_files()
        self.buf = b""

    def take(self, n):
        while len(self.buf) < n:
            try:
                self.buf += next(self.source)
            except StopIteration:
                self.source = usr_files()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1].upper() in mult:
        return int(float(s[:-1]) * mult[s[-1].upper()])
    return int(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("path")
    ap.add_argument("size", help="e.g. 1G, 64M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--zeros", type=float, default=0.4)
    ap.add_argument("--files", type=float, default=0.3)
    ap.add_argument("--random", type=float, default=0.3)
    args = ap.parse_args()
    size = parse_size(args.size)
    rnd = random.Random(args.seed)
    files = FileData()
    with open(args.path, "wb") as out:
        out.truncate(size)
        off = 0
        while off < size:
            length = min(rnd.randrange(1, 9) * MiB, size - off)
            kind = rnd.choices(("zeros", "files", "random"),
                               (args.zeros, args.files, args.random))[0]
            if kind == "files":
                out.seek(off)
                out.write(files.take(length))
            elif kind == "random":
                out.seek(off)
                out.write(rnd.randbytes(length))
            off += length
    return 0


if __name__ == "__main__":
    sys.exit(main())
