#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The lag benchmark's summary (tests/bench/lag.sh): reads its JSON lines
(a file, or lines mixed into a log on stdin) and prints the tables
docs/performance.md quotes: lag per disk size and load, write amplification,
rescan after tracking loss; for the kernel tracker's bench (kmod-lag.sh) also
the link and piece rates of the boot and, per load, the backlog's transfer
time beside the target p99 <= 1 s + that time."""
import json
import sys


def rows(stream):
    for line in stream:
        line = line.strip()
        if line.startswith("{"):
            yield json.loads(line)


def f(x, fmt="%.1f"):
    return "-" if x is None else fmt % x


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    res = list(rows(src))
    loads = [r for r in res if "claimed" in r]
    if loads:
        print("change-copy lag, seconds from a write's completion on the source (claimed: until the agent had")
        print("staging's ACK for the round that covers it; visible: until staging's image held it, sampled)")
        print("%-24s %7s %8s %20s %20s %7s %5s %17s %s" % (
            "load", "MB/s", "writes", "claimed p50/p99/max", "visible p50/p99/max", "round s",
            "viol", "read/sent/wire", "1-min load"))
        for r in loads:
            c, v, a = r["claimed"], r["visible"], r["amp"] or {}
            print("%-24s %7.1f %8d %20s %20s %7s %5d %17s %s%s" % (
                r["label"], r["rate_mbs"], r["window_writes"],
                "/".join(f(c[k]) for k in ("p50", "p99", "max")),
                "/".join(f(v[k]) for k in ("p50", "p99", "max")),
                f(r["round_s"]["mean"]), r["violations"] + r.get("never_seen", 0),
                "/".join(f(a.get(k), "%.2f") for k in ("read_per_written", "sent_per_written", "wire_per_written")),
                r["load"].split()[0], " (cut off)" if r["truncated"] else ""))
    # same-run ratios: each load's lag and round against the first load of
    # the same rate, interval and kind (a larger disk, or more disks ("N x
    # SIZE"), beside it)
    groups = {}
    for r in loads:
        key = (r["target_mbs"], r["label"].partition(", ")[2], " x " in r["label"])
        groups.setdefault(key, []).append(r)
    ratios = [g for g in groups.values() if len(g) > 1]
    if ratios:
        print()
        print("same-run ratios to the first load of the same rate: claimed p50, p99, round (mean)")
        for g in ratios:
            base = g[0]
            for r in g[1:]:
                q = lambda k, x, y: "-" if x is None or not y else "%.2f" % (x / y)
                print("%-24s / %-24s p50 %s  p99 %s  round %s" % (
                    r["label"], base["label"], q(0, r["claimed"]["p50"], base["claimed"]["p50"]),
                    q(0, r["claimed"]["p99"], base["claimed"]["p99"]),
                    q(0, r["round_s"]["mean"], base["round_s"]["mean"])))
    link = [r for r in res if r["label"] == "link"]
    pieces = [r for r in res if r["label"] == "pieces"]
    if link or pieces:
        print()
        for r in link:
            print("link: the initial mirror of %d bytes of random data at %.1f MB/s" % (r["bytes"], r["link_bps"] / 1e6))
        for r in pieces:
            print("pieces: %d bytes of scattered 4 KiB writes sent in %.1f s of rounds: %.2f MB/s"
                  % (r["bytes"], r["secs"], r["piece_bps"] / 1e6))
    backlog = [r for r in loads if r.get("backlog_s", {}).get("max") is not None]
    if backlog:
        print()
        print("against the target: p99 claimed lag <= 1 s + the backlog's transfer time at the link rate")
        print("(the backlog: what a round of the window read, its mean and its largest)")
        print("%-24s %9s %21s %21s %9s %s" % ("load", "p99 s", "backlog bytes mean/max", "at link s mean/max",
                                             "target s", "met"))
        for r in backlog:
            b, bs, p99 = r["backlog_bytes"], r["backlog_s"], r["claimed"]["p99"]
            target = 1 + bs["max"]
            print("%-24s %9s %21s %21s %9.2f %s" % (
                r["label"], f(p99, "%.2f"), "%d/%d" % (b["mean"], b["max"]),
                "%.3f/%.3f" % (bs["mean"], bs["max"]), target,
                "-" if p99 is None else ("yes" if p99 <= target else "no")))
    scans = [r for r in res if r["label"].startswith("rescan ")]
    reads = [r["secs"] for r in res if r["label"] == "read once"]
    if scans:
        ref = sum(reads) / len(reads) if reads else None
        print()
        print("rescan after tracking loss (read once: %s s, mean of %d dd runs)" % (f(ref, "%.2f"), len(reads)))
        for r in scans:
            print("%-32s sent %5.2f %% of the disk (%d bytes, %d on the wire) for %.2f %% changed; %.2f s = %s x reading it once; load %s" % (
                r["label"][7:], 100 * r["sent"] / r["disk"], r["sent"], r["wire"], 100 * r["changed"] / r["disk"],
                r["secs"], f(r["secs"] / ref if ref else None, "%.2f"), r["load"].split()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
