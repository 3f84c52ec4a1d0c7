#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Where livemigd and livemig-staging spend CPU during a mirror, from
`perf script -F comm,tid,period,ip,sym,dso -G` on stdin (cpu-clock samples).
Usage: perf script ... | perf_split.py IMAGE_BYTES   (mirror.sh, BENCH_PERF=1)
Threads are told apart by what they run (no thread names): ISA-L -> worker,
O_DIRECT read paths -> reader, TLS/TCP -> sender/acker. OpenSSL samples in a
worker are its SHA-256 block fingerprints; elsewhere they are TLS AES-GCM."""
import collections, re, sys

size = int(sys.argv[1])
PROCS = ("livemigd", "livemig-staging")
samples = collections.defaultdict(list)  # (comm, tid) -> [(period, sym, dso)]
line = re.compile(r"\s*(\S+)\s+(\d+)\s+(\d+)\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$")
for l in sys.stdin:
    m = line.match(l)
    if not m or m.group(1) not in PROCS:
        continue
    comm, tid, period, sym, dso = m.groups()
    samples[(comm, tid)].append((int(period), sym, dso.rsplit("/", 1)[-1]))

KREAD = re.compile(r"gup_|bio|blk|iomap|submit|dio|folio")


def role(comm, s):
    n = len(s) or 1
    isal = sum(1 for _, _, d in s if d.startswith("libisal"))
    kread = sum(1 for _, y, d in s if d == "[kernel.kallsyms]" and KREAD.search(y))
    ssl = sum(1 for _, y, d in s if d.startswith("libssl") or "tcp_" in y)
    if comm == "livemig-staging":
        return "session" if isal else "other"
    if isal > 0.05 * n:
        return "worker"
    if kread > 0.10 * n:
        return "reader"
    if ssl:
        return "sender/acker"
    return "other"


def category(comm, r, sym, dso):
    if dso.startswith("libisal"):
        return "deflate (ISA-L)" if comm == "livemigd" else "inflate (ISA-L)"
    if dso.startswith("libcrypto"):
        if r == "worker":
            return "SHA-256 block fingerprints (OpenSSL)"
        return "TLS AES-GCM (OpenSSL)"
    if dso.startswith("libssl"):
        return "TLS record layer (libssl)"
    if "memcmp" in sym:
        return "zero check / compare (memcmp)"
    if "memmove" in sym or "memcpy" in sym or "memset" in sym:
        return "memcpy"
    if dso == "[kernel.kallsyms]":
        return {"reader": "kernel: O_DIRECT reads",
                "sender/acker": "kernel: TCP send/receive",
                "worker": "kernel (workers)",
                "session": "kernel: TCP receive, page-cache writes, fdatasync"}.get(r, "kernel (other)")
    return "other"


for comm in PROCS:
    cats = collections.Counter()
    roles = collections.Counter()
    total = 0
    for (c, tid), s in samples.items():
        if c != comm:
            continue
        r = role(comm, s)
        for p, sym, dso in s:
            cats[category(comm, r, sym, dso)] += p
            roles[r] += p
            total += p
    if not total:
        continue
    gib = size / 2**30
    print("--- %s: %.2f CPU-seconds per GiB of image (threads: %s)" % (
        comm, total / 1e9 / gib,
        ", ".join("%s %.2f s" % (k, v / 1e9 / gib) for k, v in roles.most_common())))
    for k, v in cats.most_common():
        if v / total >= 0.01:
            print("    %-52s %5.1f%%  %5.2f s/GiB" % (k, 100 * v / total, v / 1e9 / gib))
