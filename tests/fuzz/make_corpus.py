#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus for tests/fuzz/fuzz_frame.c.

Seeds are byte streams of wire frames (src/lib/frame.h): one valid frame of
every type, DATA frames with real zlib payloads, whole sessions of several
frames, and near misses that each break one rule, so the fuzzer starts from
inputs that reach deep into every parser branch.

Usage: tests/fuzz/make_corpus.py [OUTDIR]   (default tests/fuzz/corpus/frame)
Files are named seed-*; existing seed-* files in OUTDIR are replaced, other
files (inputs merged in from fuzzing runs) are left alone. Output is
deterministic, so re-running it changes nothing.
"""

import os
import random
import struct
import sys
import zlib

MAGIC = 0x4C4D4947
VERSION = 1
FT = dict(HELLO=1, WELCOME=2, DATA=3, ZERO=4, FLUSH=5, ACK=6, HASH_REQ=7,
          HASH_RESP=8, MARK=9, ERROR=10, BYE=11, POINT=12)
CODEC_NONE, CODEC_DEFLATE = 0, 1
MARK_CONSISTENT = 1
ORIGIN_FINAL_SYNC, ORIGIN_PERIODIC, ORIGIN_REQUESTED = 1, 2, 3
CONS_CRASH, CONS_FILESYSTEM, CONS_APPLICATION = 1, 2, 3
CAP_POINT = 1 << 15
HASH_LEN = 16


def frame(ftype, body, version=VERSION, flags=0, length=None):
    if length is None:
        length = len(body)
    return struct.pack(">IBBHI", MAGIC, version, ftype, flags, length) + body


def name(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">B", len(b)) + b


def hello(machine="db-01", version="0.1.0", codecs=2, block_size=65536,
          disks=((1, 10 << 30, "vda"),), ndisks=None):
    body = name(machine) + name(version)
    body += struct.pack(">HIH", codecs, block_size,
                        len(disks) if ndisks is None else ndisks)
    for did, size, dname in disks:
        body += struct.pack(">IQ", did, size) + name(dname)
    return frame(FT["HELLO"], body)


def welcome(codecs=2, store_id=bytes(range(16)), new=1, consistent_ns=0):
    return frame(FT["WELCOME"],
                 struct.pack(">H", codecs) + store_id + struct.pack(">BQ", new, consistent_ns))


def data(payload, raw_len, codec=CODEC_NONE, seq=1, disk=1, offset=0, pad=b"\0\0\0"):
    body = struct.pack(">QIB", seq, disk, codec) + pad
    body += struct.pack(">QI", offset, raw_len) + payload
    return frame(FT["DATA"], body)


def data_raw(raw, **kw):
    return data(raw, len(raw), CODEC_NONE, **kw)


def data_deflate(raw, level=6, raw_len=None, **kw):
    z = zlib.compress(raw, level)
    return data(z, len(raw) if raw_len is None else raw_len, CODEC_DEFLATE, **kw)


def zero(seq=2, disk=1, offset=1 << 20, length=1 << 16, reserved=0):
    return frame(FT["ZERO"], struct.pack(">QIIQQ", seq, disk, reserved, offset, length))


def seqf(ftype, seq):
    return frame(FT[ftype], struct.pack(">Q", seq))


def hash_req(req_id=1, disk=1, offset=0, block_size=65536, count=16):
    return frame(FT["HASH_REQ"], struct.pack(">IIQII", req_id, disk, offset, block_size, count))


def hash_resp(req_id=1, hashes=(b"\x11" * HASH_LEN, b"\x22" * HASH_LEN), count=None):
    n = len(hashes) if count is None else count
    return frame(FT["HASH_RESP"], struct.pack(">II", req_id, n) + b"".join(hashes))


def mark(seq=3, kind=MARK_CONSISTENT, time_ns=1712345678000000000,
         origin=ORIGIN_PERIODIC, consistency=CONS_FILESYSTEM, v1=False):
    body = struct.pack(">QBQ", seq, kind, time_ns)
    if not v1:
        body += struct.pack(">BB", origin, consistency)
    return frame(FT["MARK"], body)


def point(mark_seq=3, point_id=1):
    return frame(FT["POINT"], struct.pack(">QQ", mark_seq, point_id))


def error(code=5, msg="staging store is full"):
    b = msg.encode() if isinstance(msg, str) else msg
    return frame(FT["ERROR"], struct.pack(">IB", code, len(b)) + b)


def bye():
    return frame(FT["BYE"], b"")


def seeds():
    rnd = random.Random(20240601)
    text = b"".join(rnd.choice([b"the ", b"replica ", b"block ", b"disk ", b"staging ",
                                b"dirty ", b"extent\n", b"4096 "]) for _ in range(1500))[:8192]
    noise = bytes(rnd.getrandbits(8) for _ in range(512))
    zeros = bytes(65536)
    three = ((1, 10 << 30, "vda"), (2, 1 << 40, "vdb.qcow2"), (7, 4096, "swap_1"))
    hashes = tuple(bytes([i]) * HASH_LEN for i in range(1, 9))

    s = {}
    # one valid frame of every type
    s["hello"] = hello()
    s["hello-3disks"] = hello(disks=three, block_size=4096, version="")
    s["welcome"] = welcome()
    s["data-raw"] = data_raw(noise, offset=4096, seq=9)
    s["data-deflate-text"] = data_deflate(text, offset=1 << 20)
    s["data-deflate-zeros"] = data_deflate(zeros, level=9)
    s["data-deflate-stored"] = data_deflate(noise[:300], level=0)
    s["data-deflate-1byte"] = data_deflate(b"x", level=1)
    s["zero"] = zero()
    s["flush"] = seqf("FLUSH", 42)
    s["ack"] = seqf("ACK", 42)
    s["hash-req"] = hash_req()
    s["hash-resp"] = hash_resp(hashes=hashes)
    s["mark"] = mark()
    s["mark-v1"] = mark(v1=True)
    s["mark-application"] = mark(origin=ORIGIN_REQUESTED, consistency=CONS_APPLICATION)
    s["point"] = point(mark_seq=3, point_id=12)
    s["hello-cap-point"] = hello(codecs=2 | CAP_POINT)
    s["error"] = error()
    s["bye"] = bye()

    # whole conversations, each side's stream
    s["stream-agent"] = b"".join([
        hello(disks=three, codecs=2 | CAP_POINT), data_deflate(text[:4096], seq=1), data_raw(noise[:256], seq=2, disk=2),
        zero(seq=3, disk=7, offset=0, length=4096), seqf("FLUSH", 3),
        hash_req(req_id=5, disk=2, offset=1 << 20, block_size=4096, count=8),
        mark(seq=3), bye()])
    s["stream-staging"] = b"".join([
        welcome(new=0, consistent_ns=1712000000000000000), point(3, 1), seqf("ACK", 3),
        hash_resp(req_id=5, hashes=hashes), error(7, "replaced by a newer connection")])
    s["stream-data-burst"] = b"".join(
        data_deflate(text[i:i + 2048] + bytes(2048), seq=10 + i, offset=i * 4096)
        for i in range(0, 8192, 2048))
    s["stream-then-garbage"] = seqf("FLUSH", 1) + seqf("ACK", 1) + b"LMIG\x01\x03\x00"

    # near misses: each breaks one rule
    s["bad-magic"] = b"LMIH" + bye()[4:]
    s["bad-version"] = frame(FT["BYE"], b"", version=2)
    s["bad-type"] = frame(13, b"")
    s["bad-flags"] = frame(FT["BYE"], b"", flags=1)
    s["bad-length"] = frame(FT["DATA"], b"", length=(4 << 20) + 4097)
    s["short-header"] = bye()[:11]
    s["trailing-bytes"] = frame(FT["FLUSH"], struct.pack(">Q", 1) + b"\0")
    s["truncated-hello"] = frame(FT["HELLO"], hello()[12:-2])  # len says what is there
    s["truncated-zero"] = frame(FT["ZERO"], zero()[12:-1])
    s["truncated-frame"] = data_raw(noise)[:-100]
    s["hello-dotdot"] = hello(machine="../x")
    s["hello-slash-disk"] = hello(disks=((1, 1 << 30, "a/b"),))
    s["hello-nul-name"] = hello(machine=b"ab\0c")
    s["hello-64char"] = hello(machine="m" * 64)
    s["hello-0disks"] = hello(disks=())
    s["hello-dup-disk"] = hello(disks=((1, 1 << 30, "a"), (1, 1 << 30, "b")))
    s["hello-block-size"] = hello(block_size=12288)
    s["hello-bad-version"] = hello(version="1.0/beta")
    s["hello-disk-size0"] = hello(disks=((1, 0, "vda"),))
    s["hello-disk-huge"] = hello(disks=((1, (1 << 56) + 1, "vda"),))
    s["hello-short-fixed"] = frame(FT["HELLO"], name("m") + name("v") + b"\0\2\0")
    s["welcome-flag"] = welcome(new=2)
    s["data-zero-len"] = data(b"\x78\x9c\x03\x00\x00\x00\x00\x01", 0, CODEC_DEFLATE)
    s["data-too-long"] = data(b"\x78\x9c", (4 << 20) + 1, CODEC_DEFLATE)
    s["data-offset-wrap"] = data_raw(noise[:16], offset=(1 << 64) - 8)
    s["data-raw-mismatch"] = data(noise[:100], 101, CODEC_NONE)
    s["data-codec-2"] = data(noise[:100], 100, 2)
    s["data-reserved"] = data_raw(noise[:64], pad=b"\0\1\0")
    s["data-empty-payload"] = data(b"", 100, CODEC_DEFLATE)
    s["deflate-bomb"] = data_deflate(bytes(1 << 20), raw_len=4096)
    s["deflate-short"] = data_deflate(text[:1000], raw_len=1001)
    s["deflate-trailing"] = data(zlib.compress(text[:2000]) + b"\0\0\0", 2000, CODEC_DEFLATE)
    z = bytearray(zlib.compress(text[:3000]))
    z[len(z) // 2] ^= 0x10
    s["deflate-corrupt"] = data(bytes(z), 3000, CODEC_DEFLATE)
    z = bytearray(zlib.compress(text[:3000]))
    z[-1] ^= 1
    s["deflate-bad-adler"] = data(bytes(z), 3000, CODEC_DEFLATE)
    s["deflate-raw-no-header"] = data(zlib.compress(text[:2000])[2:-4], 2000, CODEC_DEFLATE)
    s["zero-len0"] = zero(length=0)
    s["zero-wrap"] = zero(offset=(1 << 64) - 4096, length=8192)
    s["zero-reserved"] = zero(reserved=1)
    s["hash-req-unaligned"] = hash_req(offset=512)
    s["hash-req-bs"] = hash_req(block_size=3 * 4096)
    s["hash-req-count0"] = hash_req(count=0)
    s["hash-req-count-max"] = hash_req(count=4097)
    s["hash-resp-short"] = hash_resp(count=3)
    s["hash-resp-count0"] = hash_resp(hashes=(), count=0)
    s["hash-req-wrap"] = hash_req(offset=(1 << 64) - 4096, block_size=4096, count=2)
    s["hash-req-short"] = frame(FT["HASH_REQ"], hash_req()[12:-3])
    s["data-short-fixed"] = frame(FT["DATA"], data_raw(noise[:8])[12:30])
    s["mark-kind"] = mark(kind=2)
    s["mark-origin0"] = mark(origin=0)
    s["mark-origin4"] = mark(origin=4)
    s["mark-consistency0"] = mark(consistency=0)
    s["mark-consistency4"] = mark(consistency=4)
    s["mark-18"] = frame(FT["MARK"], mark(v1=True)[12:] + b"\1")
    s["mark-20"] = frame(FT["MARK"], mark()[12:] + b"\0")
    s["point-id0"] = point(point_id=0)
    s["point-short"] = frame(FT["POINT"], point()[12:-1])
    s["error-control-chars"] = error(1, b"bad\n\x1b[31m\xff\0end")
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "frame")
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.startswith("seed-"):
            os.unlink(os.path.join(out, old))
    total = 0
    for key, blob in sorted(seeds().items()):
        assert len(blob) <= 70000, key  # the fuzzing runs use -max_len=70000
        with open(os.path.join(out, "seed-" + key), "wb") as f:
            f.write(blob)
        total += len(blob)
    print(f"make_corpus: wrote {len(seeds())} seeds, {total} bytes, into {out}")


if __name__ == "__main__":
    main()
