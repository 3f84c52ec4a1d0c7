#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The lag benchmark's observer (tests/bench/lag.sh): while lag_writer writes
stamped blocks to the source disk and livemigd replicates it, follow

  * the writer's log (one record per completed write: seq, offset, time),
  * the agent's status (the control socket): `rounds` and `lag_seconds`, so
    the start of the last complete round (now - lag_seconds) is known to a
    few milliseconds: the agent claims that everything written before it is
    durable on staging,
  * the agent's log: the moment each round completed ("round N: ..."), and
    what it read, sent and put on the wire,
  * staging's replica image: for a sample of the writes, when their stamp
    (or a newer one) is first seen in it.

Several disks of one machine: --replica, --wlog and --writer-pid once per
disk, in the same order (one writer per disk); the rounds are the
machine's, and the figures are over the writes of every disk.

Per write w, completed at t_w and first covered by round R (the first round
that started after t_w):
    claimed lag  = end(R) - t_w     (when the agent knew it durable: ACKs)
    visible lag  = first time the replica showed w's stamp - t_w (sampled)
Staging makes data durable after writing it to the image and before the
ACK, so the true durability lag lies between the two. A sampled write
that was still missing from the replica in a look taken after end(R) is a
violation of the agent's claim: it is counted and must be 0.

Measured window: writes completed from the start of the first round that
began after the load started (round R0) to the start of the last complete
round, once that round is R0 + --min-rounds or later and the window is at
least --min-secs long: every write in it is covered by a round that ran
entirely under load. Then the writer is stopped (SIGTERM). Prints one JSON
object.
"""
import argparse
import bisect
import datetime
import json
import os
import re
import signal
import socket
import struct
import sys
import time

REC = struct.Struct("<QQQII")  # seq, offset, t_done_ns, len, run
STAMP = struct.Struct("<QIIQQQ")  # magic, run, piece, seq, t_begin_ns, offset
MAGIC = 0x504d5453474c4d4c
ROUND_RE = re.compile(r"^(\S+Z) livemigd: info: round (\d+): read \S+ \S+ \((\d+) blocks\)")


def status(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    s.sendall(b'{"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise RuntimeError("status: %s" % reply)
    return reply["status"]


def log_rounds(path):
    """round number -> (end time in s since the epoch, bytes read)"""
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = ROUND_RE.match(line)
            if m:
                t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
                t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
                out[int(m.group(2))] = (t, int(m.group(3)) * 65536)
    return out


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


class Disk:
    """One disk's writer log and replica."""

    def __init__(self, replica, wlog):
        self.replica = replica
        self.wlog_path = wlog
        self.wlog = None  # the writer creates it, maybe after we start
        self.rest = b""
        self.times = []  # t_done of every write, in seq order (seconds)
        self.lens = []
        self.samples = {}  # seq -> [offset, t_done, seen_at, last_look_before]
        self.pending = set()
        self.rep = None

    def read_log(self, run_id, sample_every):
        if self.wlog is None:
            try:
                self.wlog = open(self.wlog_path, "rb")
            except FileNotFoundError:
                return
        data = self.rest + self.wlog.read()
        n = len(data) // REC.size
        for seq, off, t_ns, ln, run in REC.iter_unpack(data[: n * REC.size]):
            if run != run_id or seq != len(self.times):
                raise SystemExit("lag_observe: writer log out of order at seq %d" % seq)
            self.times.append(t_ns / 1e9)
            self.lens.append(ln)
            if seq % sample_every == 0:
                self.samples[seq] = [off, t_ns / 1e9, None, None]
                self.pending.add(seq)
        self.rest = data[n * REC.size:]

    def look_replica(self, run_id):
        if self.rep is None:
            try:
                self.rep = os.open(self.replica, os.O_RDONLY)
            except FileNotFoundError:
                return
        for seq in list(self.pending):
            s = self.samples[seq]
            before = time.time()
            blk = os.pread(self.rep, STAMP.size, s[0])
            if len(blk) == STAMP.size:
                magic, run, _piece, sseq, _t, _off = STAMP.unpack(blk)
                if magic == MAGIC and (run, sseq) >= (run_id, seq):
                    s[2] = time.time()  # there by now (since the previous look)
                    self.pending.discard(seq)
                    continue
            s[3] = before  # not there at this moment


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", required=True)
    ap.add_argument("--agent-log", required=True)
    ap.add_argument("--replica", action="append", required=True)
    ap.add_argument("--wlog", action="append", required=True)
    ap.add_argument("--writer-pid", type=int, action="append", required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--sample-every", type=int, default=1)
    ap.add_argument("--min-secs", type=float, default=30)
    ap.add_argument("--min-rounds", type=int, default=3)
    ap.add_argument("--max-secs", type=float, default=600)
    ap.add_argument("--poll", type=float, default=0.2)
    ap.add_argument("--link-bps", type=float, default=0,
                    help="the link's measured rate (bytes/s): adds each round's backlog transfer time")
    a = ap.parse_args()
    if not len(a.replica) == len(a.wlog) == len(a.writer_pid):
        raise SystemExit("lag_observe: one --replica, --wlog and --writer-pid per disk")

    t_begin = time.time()
    disks = [Disk(r, w) for r, w in zip(a.replica, a.wlog)]
    starts = {}  # round -> start (s), from the status
    polls = []  # (time, rounds, sent_bytes, wire_bytes)
    max_lag_status = 0.0
    w_start = w_end = None
    truncated = False
    stopped_at = None

    def read_log():
        for d in disks:
            d.read_log(a.run, a.sample_every)

    def look_replica():
        for d in disks:
            d.look_replica(a.run)

    def first_write():
        return min((d.times[0] for d in disks if d.times), default=None)

    while True:
        t0 = time.time()
        st = status(a.sock)
        t1 = time.time()
        rounds = st.get("rounds") or 0
        lag = st.get("lag_seconds")
        if lag is not None:
            starts.setdefault(rounds, (t0 + t1) / 2 - lag)
        polls.append((t1, rounds, st.get("sent_bytes") or 0, st.get("wire_bytes") or 0))
        read_log()
        look_replica()
        now = time.time()
        t_first = first_write()
        if t_first is not None and w_start is None:
            # the first round that started after the load began
            first = min((r for r, s in starts.items() if s > t_first), default=None)
            if first is not None:
                w_start = (first, starts[first])
        if w_start is not None and rounds in starts:
            # writes before the start of the last complete round are covered
            # by rounds that ran entirely under load
            if rounds - w_start[0] >= a.min_rounds and starts[rounds] - w_start[1] >= a.min_secs:
                w_end = starts[rounds]
                break
        if now - t_begin > a.max_secs:
            truncated = True
            w_end = starts.get(rounds, now)
            break
        if lag is not None and w_start is not None:
            max_lag_status = max(max_lag_status, lag)
        time.sleep(a.poll)

    stopped_at = time.time()
    for pid in a.writer_pid:
        os.kill(pid, signal.SIGTERM)
    for pid in a.writer_pid:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    read_log()
    look_replica()

    # the agent counts a round before it logs it
    ends = log_rounds(a.agent_log)
    deadline = time.time() + 60
    while rounds not in ends and time.time() < deadline:
        time.sleep(0.1)
        ends = log_rounds(a.agent_log)
    # every round the window needs, with both ends known
    known = [r for r in sorted(starts) if r in ends]
    start_list = [starts[r] for r in known]
    ws = w_start[1] if w_start else None
    claimed, visible, uncovered, violations = [], [], 0, 0
    for d in disks:
        for seq, t in enumerate(d.times):
            if ws is None or t < ws or t >= w_end:
                continue
            i = bisect.bisect_right(start_list, t)
            if i >= len(known):
                uncovered += 1
                continue
            end = ends[known[i]][0]
            claimed.append(end - t)
            s = d.samples.get(seq)
            if s is not None:
                if s[2] is not None:
                    visible.append(s[2] - t)
                if s[3] is not None and s[3] > end:
                    violations += 1
    # what the rounds inside the window read, sent and put on the wire,
    # against what was written meanwhile: rounds a+1..b send what was
    # written between start(a) and start(b)
    win = [r for r in known if ws is not None and starts[r] >= ws and ends[r][0] <= stopped_at]
    amp = None
    if len(win) >= 2:
        ra, rb = win[0], win[-1]

        def counters_after(r):
            for t, rounds, sent, wire in polls:
                if rounds >= r and t >= ends[r][0]:
                    return sent, wire
            return None

        ca, cb = counters_after(ra), counters_after(rb)
        written = 0
        for d in disks:
            lo = bisect.bisect_left(d.times, starts[ra])
            hi = bisect.bisect_left(d.times, starts[rb])
            written += sum(d.lens[lo:hi])
        read = sum(ends[r][1] for r in win[1:])
        if ca and cb and written:
            amp = {"written": written, "read": read, "sent": cb[0] - ca[0], "wire": cb[1] - ca[1],
                   "rounds": len(win) - 1,
                   "read_per_written": read / written, "sent_per_written": (cb[0] - ca[0]) / written,
                   "wire_per_written": (cb[1] - ca[1]) / written}
    durations = [ends[r][0] - starts[r] for r in win]
    # what each round of the window read (with the kmod tracker's pieces:
    # what was written since the round before, the backlog it had to move)
    # and, at the link's measured rate, the time that takes
    backlog = [ends[r][1] for r in win[1:]]
    t_all = sorted(t for d in disks for t in d.times)
    nbytes = sum(sum(d.lens) for d in disks)
    span = (t_all[-1] - t_all[0]) if len(t_all) > 1 else 0
    res = {
        "disks": len(disks),
        "writes": len(t_all), "bytes": nbytes,
        "rate_mbs": nbytes / span / 1e6 if span else 0,
        "window_s": (w_end - ws) if ws is not None else None, "window_writes": len(claimed) + uncovered,
        "uncovered": uncovered, "truncated": truncated,
        "claimed": {"p50": pct(claimed, 0.5), "p99": pct(claimed, 0.99), "max": max(claimed, default=None)},
        "visible": {"n": len(visible), "p50": pct(visible, 0.5), "p99": pct(visible, 0.99),
                    "max": max(visible, default=None)},
        "violations": violations,
        "sampled": sum(1 for d in disks for seq in d.samples if ws is not None and ws <= d.times[seq] < w_end),
        "never_seen": sum(1 for d in disks for seq in d.pending if ws is not None and ws <= d.times[seq] < w_end),
        "round_s": {"n": len(durations), "mean": sum(durations) / len(durations) if durations else None,
                    "max": max(durations, default=None)},
        "status_lag_max": max_lag_status,
        "amp": amp,
        "backlog_bytes": {"mean": sum(backlog) / len(backlog) if backlog else None,
                          "max": max(backlog, default=None)},
        "link_bps": a.link_bps or None,
        "backlog_s": {"mean": sum(backlog) / len(backlog) / a.link_bps if backlog and a.link_bps else None,
                      "max": max(backlog) / a.link_bps if backlog and a.link_bps else None},
    }
    json.dump(res, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
