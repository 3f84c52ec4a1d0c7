#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A test client for livemig-staging that speaks the wire protocol
(docs/protocol.md) over TLS 1.3 with a client certificate. It crafts good
frames and deliberately bad ones. Standard library only.

Every frame received is printed as one line on stdout:
    WELCOME new=1 store_id=<hex> consistent_ns=<n> codecs=<n>
    ACK <seq>
    HASH <index> <hex>          (one line per hash of a HASH_RESP)
    ERROR <code> <message>
    BYE
    EOF                         (the server closed the connection)
    TLS_ERROR <text>            (the handshake or the session was refused)

Usage: frames.py --port P --ca CA --cert CERT --key KEY [--machine M]
                 [--disk ID:NAME:SIZE]... COMMAND [command options]
    POINT <mark_seq> <point_id>
    MODEL <mark_seq> <disk name> <sha256>   (script: the disk as the point must hold it)
    ACKED <seq> <offset> <length> <sha256>  (acked: a write staging acknowledged)
    NEW <sha256>                (overtake: what the image must hold)
Commands: hello, write, zero, hashes, mark, bad KIND, takeover, loop, script, acked,
overtake.
See --help.
"""

import argparse
import hashlib
import os
import socket
import ssl
import struct
import sys
import time
import zlib

MAGIC = 0x4C4D4947
VERSION = 1
HDR = struct.Struct(">IBBHI")
HELLO, WELCOME, DATA, ZERO, FLUSH, ACK, HASH_REQ, HASH_RESP, MARK, ERROR, BYE, POINT = range(1, 13)
CAP_POINT = 1 << 15
CODEC_NONE, CODEC_DEFLATE = 0, 1
MAX_BODY = (4 << 20) + 4096
MAX_RAW = 4 << 20
ERR = {"PROTOCOL": 1, "VERSION": 2, "AUTH": 3, "DISK": 4, "NOSPACE": 5, "IO": 6, "BUSY": 7}


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = s.strip()
    if s and s[-1].upper() in mult:
        return int(float(s[:-1]) * mult[s[-1].upper()])
    return int(s, 0)


def blockhash(data):
    return hashlib.sha256(data).digest()[:16]


# ---- encoding ----

def frame(ftype, body=b"", version=VERSION, magic=MAGIC, length=None, flags=0):
    return HDR.pack(magic, version, ftype, flags, len(body) if length is None else length) + body


def name_bytes(s):
    b = s.encode()
    return struct.pack(">B", len(b)) + b


def hello_frame(machine, disks, codecs=1 << CODEC_DEFLATE, block_size=65536, agent="frames.py"):
    body = name_bytes(machine) + name_bytes(agent) + struct.pack(">HIH", codecs, block_size, len(disks))
    for disk_id, name, size in disks:
        body += struct.pack(">IQ", disk_id, size) + name_bytes(name)
    return frame(HELLO, body)


def data_frame(seq, disk, offset, raw, codec=CODEC_NONE, raw_len=None, payload=None):
    if payload is None:
        payload = zlib.compress(raw, 1) if codec == CODEC_DEFLATE else raw
    if raw_len is None:
        raw_len = len(raw)
    body = struct.pack(">QIB3xQI", seq, disk, codec, offset, raw_len) + payload
    return frame(DATA, body)


def zero_frame(seq, disk, offset, length):
    return frame(ZERO, struct.pack(">QIIQQ", seq, disk, 0, offset, length))


def seq_frame(ftype, seq):
    return frame(ftype, struct.pack(">Q", seq))


def hash_req_frame(req_id, disk, offset, block_size, count):
    return frame(HASH_REQ, struct.pack(">IIQII", req_id, disk, offset, block_size, count))


def mark_frame(seq, time_ns, kind=1, origin=None, consistency=None):
    body = struct.pack(">QBQ", seq, kind, time_ns)
    if origin is not None:
        body += struct.pack(">BB", origin, consistency)
    return frame(MARK, body)


# ---- connection ----

class Closed(Exception):
    pass


class Client:
    def __init__(self, args):
        self.args = args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(args.ca)
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key)
        raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=args.server_name)
        self.buf = b""
        self.burst = None  # bytes gathered for one write (script burst)

    def send(self, data):
        if self.burst is not None:
            self.burst += data
            return
        self.sock.sendall(data)

    def end_burst(self):
        data, self.burst = self.burst, None
        if data:
            self.sock.sendall(data)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Closed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """One frame as (type, fields) and its line printed; raises Closed at EOF."""
        magic, version, ftype, _flags, length = HDR.unpack(self._read(HDR.size))
        if magic != MAGIC or version != VERSION:
            raise SystemExit("frames.py: server sent a bad header")
        body = self._read(length)
        if ftype == WELCOME:
            codecs, sid, new, cns = struct.unpack(">H16sBQ", body)
            out(f"WELCOME new={new} store_id={sid.hex()} consistent_ns={cns} codecs={codecs}")
            return ftype, dict(codecs=codecs, store_id=sid.hex(), new=new, consistent_ns=cns)
        if ftype == ACK:
            (seq,) = struct.unpack(">Q", body)
            out(f"ACK {seq}")
            return ftype, dict(seq=seq)
        if ftype == HASH_RESP:
            req_id, count = struct.unpack(">II", body[:8])
            hashes = [body[8 + 16 * i:24 + 16 * i].hex() for i in range(count)]
            if not self.args.quiet_hashes:
                for i, h in enumerate(hashes):
                    out(f"HASH {i} {h}")
            return ftype, dict(req_id=req_id, hashes=hashes)
        if ftype == ERROR:
            code, n = struct.unpack(">IB", body[:5])
            msg = body[5:5 + n].decode(errors="replace")
            out(f"ERROR {code} {msg}")
            return ftype, dict(code=code, msg=msg)
        if ftype == BYE:
            out("BYE")
            return ftype, {}
        if ftype == POINT:
            mark_seq, point_id = struct.unpack(">QQ", body)
            out(f"POINT {mark_seq} {point_id}")
            return ftype, dict(mark_seq=mark_seq, point_id=point_id)
        out(f"FRAME {ftype} {body.hex()}")
        return ftype, {}

    def expect(self, want):
        """The next frame of type want; ACKs are cumulative and may come at any time."""
        ftype, fields = self.recv()
        while ftype in (ACK, POINT) and want != ftype:
            ftype, fields = self.recv()
        if ftype != want:
            raise SystemExit(f"frames.py: expected frame type {want}, got {ftype} {fields}")
        return fields

    def wait_ack(self, seq):
        while True:
            if self.expect(ACK)["seq"] >= seq:
                return

    def drain(self):
        """Print whatever the server still says, up to its close."""
        try:
            while True:
                self.recv()
        except Closed:
            out("EOF")
        except (ConnectionResetError, BrokenPipeError):
            out("EOF")
        except ssl.SSLError as e:
            out(f"TLS_ERROR {e}")
        except socket.timeout:
            out("TIMEOUT")

    def hello(self):
        a = self.args
        self.send(hello_frame(a.machine, a.disks, codecs=a.codecs, block_size=a.block_size))
        return self.expect(WELCOME)

    def bye(self):
        self.send(frame(BYE))
        self.drain()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def out(line):
    print(line, flush=True)


def disk_size(args, disk_id):
    for i, _name, size in args.disks:
        if i == disk_id:
            return size
    raise SystemExit(f"frames.py: no --disk with id {disk_id}")


# ---- commands ----

def cmd_hello(c, a):
    c.hello()
    c.bye()


def send_file(c, a, data, offset, seq):
    """DATA frames for data at offset, numbered from seq; returns the last seq."""
    for pos in range(0, len(data), a.chunk):
        piece = data[pos:pos + a.chunk]
        codec = CODEC_DEFLATE if a.deflate else CODEC_NONE
        c.send(data_frame(seq, a.disk_id, offset + pos, piece, codec=codec))
        seq += 1
    return seq - 1


def cmd_write(c, a):
    with open(a.file, "rb") as f:
        data = f.read()
    if a.pipeline:
        # DATA right behind HELLO, without waiting to be welcomed
        c.send(hello_frame(a.machine, a.disks, codecs=a.codecs, block_size=a.block_size))
        send_file(c, a, data, a.offset, a.seq)
        c.expect(WELCOME)
        raise SystemExit("frames.py: pipelined write was accepted")
    c.hello()
    last = send_file(c, a, data, a.offset, a.seq)
    if not a.no_flush:
        last += 1
        c.send(seq_frame(FLUSH, last))
    c.wait_ack(last)
    if a.no_bye:
        os._exit(0)  # vanish without BYE, as a crashed agent would
    c.bye()


def cmd_zero(c, a):
    c.hello()
    c.send(zero_frame(a.seq, a.disk_id, a.offset, a.length))
    c.send(seq_frame(FLUSH, a.seq + 1))
    c.wait_ack(a.seq + 1)
    c.bye()


def cmd_hashes(c, a):
    c.hello()
    c.send(hash_req_frame(7, a.disk_id, a.offset, a.hash_block_size, a.count))
    fields = c.expect(HASH_RESP)
    if fields["req_id"] != 7:
        raise SystemExit("frames.py: HASH_RESP for another request")
    c.bye()


def cmd_mark(c, a):
    c.hello()
    c.send(mark_frame(a.seq, a.time, origin=a.origin, consistency=a.consistency))
    c.wait_ack(a.seq)
    c.bye()


def cmd_script(c, a):
    """One connection running the steps of --steps (one per line):
        data DISK_ID OFFSET LENGTH SEED   deterministic bytes from SEED
        zero DISK_ID OFFSET LENGTH
        mark TIME_NS|now [ORIGIN CONSISTENCY]
                                          a point; prints the model's sha256
                                          per disk, then waits for its ACK
        hash DISK_ID OFFSET BLOCK_SIZE COUNT
                                          a HASH_REQ; its hashes must be the
                                          model's (prints HASHES ok)
        burst                             the frames of the next steps go out
                                          in one write, up to a hash or mark
        sleep SECONDS
        overwrite DISK_ID COUNT LENGTH SEED
                                          COUNT writes of LENGTH bytes at random
                                          LENGTH-aligned offsets, then a FLUSH;
                                          prints TIMED overwrite SECONDS BYTES
    A model of every disk (in memory) follows the writes, so each MARK can
    say what its point must hold (not with --no-model, for benchmarks of big
    disks; overwrite steps are not modelled). A MARK prints TIMED mark
    SECONDS: from sending it to its ACK."""
    import random
    c.hello()
    model = {i: bytearray(0 if a.no_model else size) for i, _n, size in a.disks}
    sizes = {i: size for i, _n, size in a.disks}
    names = {i: n for i, n, _s in a.disks}
    seq = 0
    with open(a.steps) as f:
        steps = [line.split() for line in f if line.strip() and not line.startswith("#")]
    for st in steps:
        seq += 1
        if st[0] == "data":
            d, off, length, seed = int(st[1]), parse_size(st[2]), parse_size(st[3]), int(st[4])
            rnd = random.Random(seed)
            for pos in range(0, length, MAX_RAW):
                piece = rnd.randbytes(min(MAX_RAW, length - pos))
                c.send(data_frame(seq, d, off + pos, piece))
                seq += 1
                if not a.no_model:
                    model[d][off + pos:off + pos + len(piece)] = piece
        elif st[0] == "overwrite":
            d, count, length, seed = int(st[1]), int(st[2]), parse_size(st[3]), int(st[4])
            rnd = random.Random(seed)
            pool = rnd.randbytes(length + 4096)
            slots = sizes[d] // length
            t0 = time.monotonic()
            for _ in range(count):
                shift = rnd.randrange(4096)
                c.send(data_frame(seq, d, rnd.randrange(slots) * length, pool[shift:shift + length]))
                seq += 1
            c.send(seq_frame(FLUSH, seq))
            c.end_burst()
            c.wait_ack(seq)
            out(f"TIMED overwrite {time.monotonic() - t0:.3f} {count * length}")
        elif st[0] == "zero":
            d, off, length = int(st[1]), parse_size(st[2]), parse_size(st[3])
            c.send(zero_frame(seq, d, off, length))
            if not a.no_model:
                model[d][off:off + length] = bytes(length)
        elif st[0] == "mark":
            extra = (int(st[2]), int(st[3])) if len(st) > 3 else (None, None)
            for d in sorted(model):
                if not a.no_model:
                    out(f"MODEL {seq} {names[d]} {hashlib.sha256(model[d]).hexdigest()}")
            when = time.time_ns() if st[1] == "now" else int(st[1])
            t0 = time.monotonic()
            c.send(mark_frame(seq, when, origin=extra[0], consistency=extra[1]))
            c.end_burst()
            c.wait_ack(seq)
            out(f"TIMED mark {time.monotonic() - t0:.3f}")
        elif st[0] == "hash":
            d, off, bs, count = int(st[1]), parse_size(st[2]), parse_size(st[3]), int(st[4])
            if a.no_model:
                raise SystemExit("frames.py: a hash step needs the model")
            c.send(hash_req_frame(seq, d, off, bs, count))
            c.end_burst()
            got = c.expect(HASH_RESP)["hashes"]
            want = [blockhash(bytes(model[d][off + k * bs:off + (k + 1) * bs])).hex()
                    for k in range(count)]
            if got != want:
                bad = [k for k in range(count) if got[k] != want[k]]
                raise SystemExit(f"frames.py: HASH_REQ at step {seq}: blocks {bad[:8]} differ "
                                 "from what was sent")
            out("HASHES ok")
        elif st[0] == "burst":
            c.burst = b""
        elif st[0] == "sleep":
            time.sleep(float(st[1]))
        else:
            raise SystemExit(f"frames.py: unknown step {st[0]}")
    seq += 1
    c.send(seq_frame(FLUSH, seq))
    c.end_burst()
    c.wait_ack(seq)
    out("SCRIPT done")
    c.bye()


def cmd_acked(c, a):
    """Writes a full store may refuse, and what staging acknowledged of them.
    For each offset of --at in turn: a DATA frame of --length bytes (from
    --seed and its index) and, in the same write, a HASH_REQ of its range, so
    that staging reads the range before it syncs; then the ACK of the DATA
    is waited for. Prints ACKED SEQ OFFSET LENGTH SHA256 for each write
    acknowledged; stops at an ERROR (the end of the connection without one
    fails)."""
    import random
    c.hello()
    for i, off in enumerate(parse_size(x) for x in a.at.split(",")):
        seq = i + 1
        data = random.Random(a.seed * 1000 + i).randbytes(a.length)
        c.burst = b""
        c.send(data_frame(seq, a.disk_id, off, data))
        c.send(hash_req_frame(seq, a.disk_id, off, a.length, 1))
        c.end_burst()
        ftype, f = c.recv()
        while ftype != ERROR and not (ftype == ACK and f["seq"] >= seq):
            ftype, f = c.recv()
        if ftype == ERROR:
            c.drain()
            return
        out(f"ACKED {seq} {off} {a.length} {hashlib.sha256(data).hexdigest()}")
    c.bye()


def bad_frames(a):
    """KIND -> (needs HELLO first, bytes to send, half-close after sending)."""
    size = disk_size(a, a.disk_id)
    d = a.disk_id
    junk = bytes((i * 37 + 11) & 0xFF or 1 for i in range(4096))
    good_hdr = HDR.pack(MAGIC, VERSION, DATA, 0, 28 + 4096)
    kinds = {
        "truncated-header": (True, good_hdr[:5], True),
        "truncated-body": (True, data_frame(1, d, 0, junk)[:100], True),
        "oversized": (True, HDR.pack(MAGIC, VERSION, DATA, 0, MAX_BODY + 1) + junk, False),
        "bad-magic": (True, frame(DATA, data_frame(1, d, 0, junk)[12:], magic=0x58585858), False),
        "version2": (True, frame(DATA, data_frame(1, d, 0, junk)[12:], version=2), False),
        "unknown-type": (True, frame(99, junk[:64]), False),
        "reserved-flags": (True, frame(FLUSH, struct.pack(">Q", 1), flags=1), False),
        "unknown-disk": (True, data_frame(1, d + 1000, 0, junk), False),
        "offset-past-end": (True, data_frame(1, d, size, junk), False),
        "crossing-end": (True, data_frame(1, d, size - 2048, junk), False),
        "raw-len-mismatch": (True, data_frame(1, d, 0, junk, raw_len=4000), False),
        "deflate-bomb": (True, data_frame(1, d, 0, junk, codec=CODEC_DEFLATE, raw_len=4096,
                                          payload=bomb()), False),
        "deflate-short": (True, data_frame(1, d, 0, junk, codec=CODEC_DEFLATE, raw_len=8192),
                          False),
        "deflate-garbage": (True, data_frame(1, d, 0, junk, codec=CODEC_DEFLATE,
                                             payload=junk[:1000]), False),
        "data-before-hello": (False, data_frame(1, d, 0, junk), False),
        "zero-past-end": (True, zero_frame(1, d, size - 4096, 8192), False),
        "hash-past-end": (True, hash_req_frame(1, d, size, 4096, 1), False),
        "hello-twice": (True, hello_frame(a.machine, a.disks), False),
        "ack-from-agent": (True, seq_frame(ACK, 1), False),
    }
    if a.kind not in kinds:
        raise SystemExit(f"frames.py: unknown bad kind {a.kind}; one of: {' '.join(kinds)}")
    return kinds[a.kind]


def bomb():
    """A zlib stream that inflates to 64 MiB of zeros, far past any declared length."""
    comp = zlib.compressobj(9)
    zeros = b"\0" * (1 << 20)
    return b"".join(comp.compress(zeros) for _ in range(64)) + comp.flush()


def cmd_bad(c, a):
    needs_hello, data, half_close = bad_frames(a)
    if needs_hello:
        c.hello()
    c.send(data)
    if half_close:
        # stop mid-frame and go away, as a crashing agent would
        c.close()
        out("EOF")
        return
    c.drain()


def cmd_takeover(c, a):
    """Connection 1 writes; connection 2 of the same machine takes over; then
    connection 1 must be refused (ERROR BUSY) and only connection 2 writes."""
    c.hello()
    c.send(data_frame(1, a.disk_id, 0, b"\x11" * 4096))
    c.send(seq_frame(FLUSH, 1))
    c.wait_ack(1)
    out("OLD written")
    c2 = Client(a)
    c2.hello()
    out("NEW welcomed")
    try:
        c.send(data_frame(2, a.disk_id, 4096, b"\x22" * 4096))
        c.send(seq_frame(FLUSH, 2))
    except OSError:
        pass
    sys.stdout.write("OLD ")
    c.drain()
    c2.send(data_frame(1, a.disk_id, 8192, b"\x33" * 4096))
    c2.send(seq_frame(FLUSH, 1))
    c2.wait_ack(1)
    out("NEW written")
    c2.bye()
    c2.close()


def cmd_overtake(c, a):
    """Connection 1 sends --count DATA frames of --length bytes side by side
    from offset 0, all at once and never synced; connection 2 of the same
    machine takes over at once and writes the same range with other bytes,
    acknowledged. Prints NEW <sha256 of connection 2's bytes>: the image
    must hold them, whatever connection 1 still had in flight."""
    import random
    size = a.count * a.length
    c.hello()
    c.burst = b""
    send_file(c, argparse.Namespace(chunk=a.length, deflate=False, disk_id=a.disk_id),
              random.Random(a.seed).randbytes(size), 0, 1)
    c.end_burst()
    c2 = Client(a)
    c2.hello()
    new = random.Random(a.seed + 1).randbytes(size)
    last = send_file(c2, argparse.Namespace(chunk=a.length, deflate=False, disk_id=a.disk_id),
                     new, 0, 1) + 1
    c2.send(seq_frame(FLUSH, last))
    c2.wait_ack(last)
    out(f"NEW {hashlib.sha256(new).hexdigest()}")
    c2.bye()
    c2.close()


def cmd_loop(c, a):
    """A well-behaved agent: rounds of writes, each acknowledged and read back
    by hash, until --rounds are done or --until-file exists."""
    c.hello()
    seq = 0
    rounds = 0
    data = b""
    args_quiet = a.quiet_hashes
    a.quiet_hashes = True
    while True:
        data = os.urandom(a.length)
        seq += 1
        c.send(data_frame(seq, a.disk_id, a.offset, data,
                          codec=CODEC_DEFLATE if a.deflate else CODEC_NONE))
        c.send(seq_frame(FLUSH, seq))
        c.wait_ack(seq)
        bs = 4096
        c.send(hash_req_frame(rounds, a.disk_id, a.offset, bs, a.length // bs))
        got = c.expect(HASH_RESP)["hashes"]
        want = [blockhash(data[i:i + bs]).hex() for i in range(0, a.length, bs)]
        if got != want:
            raise SystemExit(f"frames.py: round {rounds}: hashes differ from what was written")
        rounds += 1
        if a.rounds and rounds >= a.rounds:
            break
        if a.until_file and os.path.exists(a.until_file) and rounds >= 2:
            break
        time.sleep(a.interval)
    a.quiet_hashes = args_quiet
    if a.record:
        with open(a.record, "wb") as f:
            f.write(data)
    out(f"LOOP ok {rounds} rounds")
    c.bye()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--server-name", default="localhost")
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--machine", help="machine name claimed in HELLO")
    p.add_argument("--disk", action="append", default=[], help="ID:NAME:SIZE (repeatable)")
    p.add_argument("--codecs", type=int, default=1 << CODEC_DEFLATE)
    p.add_argument("--block-size", type=int, default=65536)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--quiet-hashes", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("hello")
    w = sub.add_parser("write")
    w.add_argument("--file", required=True)
    w.add_argument("--offset", type=parse_size, default=0)
    w.add_argument("--seq", type=int, default=1)
    w.add_argument("--chunk", type=parse_size, default=1 << 20)
    w.add_argument("--deflate", action="store_true")
    w.add_argument("--no-flush", action="store_true", help="rely on group commit for the ACK")
    w.add_argument("--no-bye", action="store_true", help="exit abruptly after the ACK")
    w.add_argument("--pipeline", action="store_true", help="send DATA before WELCOME arrives")
    z = sub.add_parser("zero")
    z.add_argument("--offset", type=parse_size, required=True)
    z.add_argument("--length", type=parse_size, required=True)
    z.add_argument("--seq", type=int, default=1)
    h = sub.add_parser("hashes")
    h.add_argument("--offset", type=parse_size, default=0)
    h.add_argument("--hash-block-size", type=parse_size, default=65536)
    h.add_argument("--count", type=int, required=True)
    m = sub.add_parser("mark")
    m.add_argument("--time", type=int, required=True)
    m.add_argument("--seq", type=int, default=1)
    m.add_argument("--origin", type=int)
    m.add_argument("--consistency", type=int)
    sc = sub.add_parser("script")
    sc.add_argument("--steps", required=True)
    sc.add_argument("--no-model", action="store_true")
    b = sub.add_parser("bad")
    b.add_argument("kind")
    tk = sub.add_parser("takeover")
    lp = sub.add_parser("loop")
    lp.add_argument("--offset", type=parse_size, default=0)
    lp.add_argument("--length", type=parse_size, default=256 << 10)
    lp.add_argument("--rounds", type=int, default=0)
    lp.add_argument("--until-file")
    lp.add_argument("--interval", type=float, default=0.05)
    lp.add_argument("--deflate", action="store_true")
    lp.add_argument("--record", help="write the last round's data here")
    ak = sub.add_parser("acked")
    ak.add_argument("--at", required=True, help="OFFSET[,OFFSET...]")
    ak.add_argument("--length", type=parse_size, default=64 << 10)
    ak.add_argument("--seed", type=int, default=1)
    ot = sub.add_parser("overtake")
    ot.add_argument("--count", type=int, default=64)
    ot.add_argument("--length", type=parse_size, default=64 << 10)
    ot.add_argument("--seed", type=int, default=1)
    for sp in (w, z, h, b, lp, tk, ak, ot):
        sp.add_argument("--disk-id", type=int, default=1)
    a = p.parse_args()

    a.disks = []
    for spec in a.disk or ["1:vda:64M"]:
        disk_id, name, size = spec.split(":")
        a.disks.append((int(disk_id), name, parse_size(size)))
    if not a.machine:
        a.machine = os.path.basename(a.cert or "anonymous").split(".")[0]

    try:
        c = Client(a)
    except ssl.SSLError as e:
        out(f"TLS_ERROR {e}")
        return 3
    except OSError as e:
        out(f"CONNECT_ERROR {e}")
        return 4
    try:
        globals()["cmd_" + a.cmd](c, a)
    except Closed:
        out("EOF")
        return 1
    except ssl.SSLError as e:
        out(f"TLS_ERROR {e}")
        return 3
    except (ConnectionResetError, BrokenPipeError) as e:
        out(f"EOF {e}")
        return 1
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
