#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A minimal HTTP CONNECT proxy on loopback, for the install tests.

    connect_proxy.py --log FILE

Binds 127.0.0.1 on a free port and prints "listening on PORT" (flushed).
Each CONNECT HOST:PORT is logged as "CONNECT HOST:PORT" and tunnelled; any
other request gets 405. TLS passes through untouched: the proxy never sees
what the client sends inside the tunnel.
"""
import argparse
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, log):
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(4096)
        if not data:
            conn.close()
            return
        head += data
    line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    method, target = (line.split(" ") + ["", ""])[:2]
    if method != "CONNECT":
        conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        conn.close()
        return
    with open(log, "a") as f:
        f.write("CONNECT %s\n" % target)
    host, port = target.rsplit(":", 1)
    try:
        up = socket.create_connection((host, int(port)), timeout=10)
    except OSError:
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        conn.close()
        return
    up.settimeout(None)
    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pump, args=(up, conn), daemon=True).start()
    pump(conn, up)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("listening on %d" % srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args.log), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
