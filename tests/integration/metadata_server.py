#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A stand-in for an EC2-style instance metadata service, on loopback.

    metadata_server.py --mode MODE [--instance-id ID] [--log FILE]

Binds 127.0.0.1 on a free port and prints "listening on PORT" (flushed)
once it accepts connections. Modes:
  normal     IMDSv2 (PUT /latest/api/token, then GET with the token) and
             IMDSv1 (GET without a token) both answer
  v1-only    the token PUT gets 405 (older OpenStack and others)
  v2-only    a GET without a valid token gets 401 (EC2 with IMDSv2 required)
  slow       every request waits --delay seconds (default 5) before answering
  garbage    the instance id is binary bytes
  huge       the instance id is 8 KiB of HTML
  notfound   every request gets 404
  newline    the instance id is followed by "\r\n"
Every request is logged to --log as "METHOD PATH token=ok|bad|none ttl=N".
"""
import argparse
import http.server
import secrets
import sys
import time

TOKEN_PATH = "/latest/api/token"
ID_PATH = "/latest/meta-data/instance-id"


def make_handler(args, tokens):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: our own log only
            pass

        def record(self, token_state):
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "-")
            with open(args.log, "a") as f:
                f.write(f"{self.command} {self.path} token={token_state} ttl={ttl}\n")

        def reply(self, code, body=b"", ctype="text/plain"):
            try:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (slow mode): that is the point

        def token_state(self):
            t = self.headers.get("X-aws-ec2-metadata-token")
            if t is None:
                return "none"
            return "ok" if t in tokens else "bad"

        def do_PUT(self):
            self.record("none")
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n:
                self.rfile.read(n)
            if args.mode == "slow":
                time.sleep(args.delay)
            if args.mode in ("v1-only",):
                return self.reply(405)
            if args.mode == "notfound" or self.path != TOKEN_PATH:
                return self.reply(404)
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400)
            t = "AQAEA" + secrets.token_urlsafe(40)
            tokens.add(t)
            self.reply(200, t.encode())

        def do_GET(self):
            state = self.token_state()
            self.record(state)
            if args.mode == "slow":
                time.sleep(args.delay)
            if args.mode == "notfound" or self.path != ID_PATH:
                return self.reply(404)
            if state == "bad" or (args.mode == "v2-only" and state != "ok"):
                return self.reply(401)
            if args.mode == "garbage":
                return self.reply(200, b"\x00\x01i-\xff\xfe", "application/octet-stream")
            if args.mode == "huge":
                return self.reply(200, b"<html>" + b"x" * 8192 + b"</html>", "text/html")
            if args.mode == "newline":
                return self.reply(200, args.instance_id.encode() + b"\r\n")
            self.reply(200, args.instance_id.encode())

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", default="normal",
                   choices=["normal", "v1-only", "v2-only", "slow", "garbage", "huge",
                            "notfound", "newline"])
    p.add_argument("--instance-id", default="i-0123456789abcdef0")
    p.add_argument("--delay", type=float, default=5.0)
    p.add_argument("--log", default="/dev/null")
    args = p.parse_args()
    tokens = set()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args, tokens))
    srv.daemon_threads = True
    print(f"listening on {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
