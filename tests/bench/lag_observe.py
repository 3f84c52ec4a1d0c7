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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", required=True)
    ap.add_argument("--agent-log", required=True)
    ap.add_argument("--replica", required=True)
    ap.add_argument("--wlog", required=True)
    ap.add_argument("--writer-pid", type=int, required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--sample-every", type=int, default=1)
    ap.add_argument("--min-secs", type=float, default=30)
    ap.add_argument("--min-rounds", type=int, default=3)
    ap.add_argument("--max-secs", type=float, default=600)
    ap.add_argument("--poll", type=float, default=0.2)
    a = ap.parse_args()

    t_begin = time.time()
    wlog = open(a.wlog, "rb")
    rest = b""
    times = []  # t_done of every write, in seq order (seconds)
    lens = []
    samples = {}  # seq -> [offset, t_done, seen_at, last_look_before]
    pending = set()
    starts = {}  # round -> start (s), from the status
    polls = []  # (time, rounds, sent_bytes, wire_bytes)
    max_lag_status = 0.0
    rep = None
    w_start = w_end = None
    truncated = False
    stopped_at = None

    def read_log():
        nonlocal rest
        data = rest + wlog.read()
        n = len(data) // REC.size
        for seq, off, t_ns, ln, run in REC.iter_unpack(data[: n * REC.size]):
            if run != a.run or seq != len(times):
                raise SystemExit("lag_observe: writer log out of order at seq %d" % seq)
            times.append(t_ns / 1e9)
            lens.append(ln)
            if seq % a.sample_every == 0:
                samples[seq] = [off, t_ns / 1e9, None, None]
                pending.add(seq)
        rest = data[n * REC.size:]

    def look_replica():
        nonlocal rep
        if rep is None:
            try:
                rep = os.open(a.replica, os.O_RDONLY)
            except FileNotFoundError:
                return
        for seq in list(pending):
            s = samples[seq]
            before = time.time()
            blk = os.pread(rep, STAMP.size, s[0])
            if len(blk) == STAMP.size:
                magic, run, _piece, sseq, _t, _off = STAMP.unpack(blk)
                if magic == MAGIC and (run, sseq) >= (a.run, seq):
                    s[2] = time.time()  # there by now (since the previous look)
                    pending.discard(seq)
                    continue
            s[3] = before  # not there at this moment

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
        if times and w_start is None:
            # the first round that started after the load began
            first = min((r for r, s in starts.items() if s > times[0]), default=None)
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
    os.kill(a.writer_pid, signal.SIGTERM)
    while True:
        try:
            os.kill(a.writer_pid, 0)
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
    for seq, t in enumerate(times):
        if ws is None or t < ws or t >= w_end:
            continue
        i = bisect.bisect_right(start_list, t)
        if i >= len(known):
            uncovered += 1
            continue
        end = ends[known[i]][0]
        claimed.append(end - t)
        s = samples.get(seq)
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
        lo = bisect.bisect_left(times, starts[ra])
        hi = bisect.bisect_left(times, starts[rb])
        written = sum(lens[lo:hi])
        read = sum(ends[r][1] for r in win[1:])
        if ca and cb and written:
            amp = {"written": written, "read": read, "sent": cb[0] - ca[0], "wire": cb[1] - ca[1],
                   "rounds": len(win) - 1,
                   "read_per_written": read / written, "sent_per_written": (cb[0] - ca[0]) / written,
                   "wire_per_written": (cb[1] - ca[1]) / written}
    durations = [ends[r][0] - starts[r] for r in win]
    span = (times[-1] - times[0]) if len(times) > 1 else 0
    res = {
        "writes": len(times), "bytes": sum(lens),
        "rate_mbs": sum(lens) / span / 1e6 if span else 0,
        "window_s": (w_end - ws) if ws is not None else None, "window_writes": len(claimed) + uncovered,
        "uncovered": uncovered, "truncated": truncated,
        "claimed": {"p50": pct(claimed, 0.5), "p99": pct(claimed, 0.99), "max": max(claimed, default=None)},
        "visible": {"n": len(visible), "p50": pct(visible, 0.5), "p99": pct(visible, 0.99),
                    "max": max(visible, default=None)},
        "violations": violations,
        "sampled": sum(1 for seq in samples if ws is not None and ws <= times[seq] < w_end),
        "never_seen": sum(1 for seq in pending if ws is not None and ws <= times[seq] < w_end),
        "round_s": {"n": len(durations), "mean": sum(durations) / len(durations) if durations else None,
                    "max": max(durations, default=None)},
        "status_lag_max": max_lag_status,
        "amp": amp,
    }
    json.dump(res, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
