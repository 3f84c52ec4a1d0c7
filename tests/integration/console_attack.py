#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What an attacker does to the console, and what a legitimate client sees
meanwhile (tests/integration/t_console_security.sh, docs/security.md).

  console_attack.py --port P --ca CA guess --login USER@ACCOUNT --password RIGHT
      wrong passwords by basic auth until the console holds the user back;
      prints one JSON verdict line
  console_attack.py --port P --ca CA slow --from 127.0.0.2 --count 500 --legit 5
      COUNT connections from FROM that send a header line every 2 s and
      never finish (opened again when the console closes them); meanwhile LEGIT requests from 127.0.0.1 in a process of their
      own; prints one JSON line with each legitimate request's time and
      status, with the attack ("legit") and before it ("baseline")
  console_attack.py --port P --ca CA flood --machine M --bearer SECRET --count N
      N heartbeats of 200 KiB back to back; prints the count of each status
  --port2 P2 (guess, flood): every other request to a second console
      sharing the first one's database (t_console_instances.sh)
"""
import argparse
import asyncio
import base64
import http.client
import json
import socket
import ssl
import sys
import time


def ctx_for(args):
    return ssl.create_default_context(cafile=args.ca)


def get(args, path, basic=None, source=None, timeout=30, port=None):
    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    conn = http.client.HTTPSConnection("127.0.0.1", port or args.port, context=ctx_for(args),
                                       timeout=timeout,
                                       source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Retry-After"), resp.read().decode()
    finally:
        conn.close()


def cmd_guess(args):
    """Wrong guesses until a 429: it must come right after the free ones
    unless the hold-back had already run out (the machine was slow); then
    the right password, at once, must be held back too."""
    user = args.login
    statuses = []
    first_429 = None
    last_fail_t = None
    retry_after = None
    for i in range(1, 40):
        t0 = time.monotonic()
        # with --port2, every other guess goes to the second console
        port = args.port2 if args.port2 and i % 2 == 0 else args.port
        status, ra, body = get(args, "/api/v1/machines", basic=user + ":wrong-guess-%d" % i,
                               port=port)
        statuses.append(status)
        if status == 429:
            first_429 = i
            retry_after = int(ra) if ra else None
            break
        if status != 401:
            print(json.dumps({"error": "unexpected %d: %s" % (status, body)}))
            return 1
        if i > args.free and last_fail_t is not None and t0 - last_fail_t < args.base:
            # the console was asked within the hold-back and still checked
            print(json.dumps({"error": "guess %d answered 401 within %.1f s of a failure" %
                              (i, t0 - last_fail_t), "statuses": statuses}))
            return 1
        last_fail_t = time.monotonic()
    right = get(args, "/api/v1/machines", basic=user + ":" + args.password)
    print(json.dumps({"statuses": statuses, "first_429": first_429, "retry_after": retry_after,
                      "right_password_status": right[0], "right_password_body": right[2]}))
    return 0


def cmd_flood(args):
    """COUNT heartbeats of PAD KiB (200) as fast as one connection sends them
    (with --port2, two connections, one to each console, taking turns);
    the answers counted per status and per port, and the seconds it took."""
    doc = json.dumps({"version": "0.1.0", "machine": args.machine, "state": "CHANGE_COPY",
                      "pad": "x" * (args.pad * 1024)})
    ports = [args.port] + ([args.port2] if args.port2 else [])
    conns = [http.client.HTTPSConnection("127.0.0.1", p, context=ctx_for(args), timeout=60)
             for p in ports]
    counts = {}
    per_port = {str(p): {} for p in ports}
    retry_after = None
    t0 = time.monotonic()
    for i in range(args.count):
        conn = conns[i % len(conns)]
        conn.request("POST", "/api/v1/machines/%s/status" % args.machine, body=doc,
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer " + args.bearer})
        resp = conn.getresponse()
        resp.read()
        counts[resp.status] = counts.get(resp.status, 0) + 1
        pp = per_port[str(ports[i % len(ports)])]
        pp[resp.status] = pp.get(resp.status, 0) + 1
        if resp.status == 429:
            retry_after = resp.getheader("Retry-After")
    elapsed = time.monotonic() - t0
    for conn in conns:
        conn.close()
    print(json.dumps({"statuses": counts, "retry_after": retry_after, "per_port": per_port,
                      "seconds": elapsed}))
    return 0


async def slow_client(args, ctx, stop, counts, delay):
    """One attacker's connection: opened, then a header line every 2 s,
    never finished. Opened again at once when the console closes it after
    holding it; after 10 s when refused or closed at once."""
    await asyncio.sleep(delay)
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", args.port, ssl=ctx, local_addr=(args.source, 0),
                server_hostname="localhost"), timeout=30)
        except Exception:
            counts["refused"] += 1
            await pause(stop, 10)
            continue
        counts["open"] += 1
        counts["opened"] += 1
        t0 = time.monotonic()
        try:
            writer.write(b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n")
            n = 0
            while not stop.is_set() and not reader.at_eof():
                await writer.drain()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=2)
                except asyncio.TimeoutError:
                    pass
                n += 1
                writer.write(b"X-Slow-%d: x\r\n" % n)
        except Exception:
            pass
        finally:
            counts["open"] -= 1
            writer.close()
        if time.monotonic() - t0 < 1:
            await pause(stop, 10)


async def pause(stop, seconds):
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def cmd_legit(args):
    """COUNT requests from 127.0.0.1, one after another, each timed."""
    legit = []
    for _ in range(args.count):
        t0 = time.monotonic()
        try:
            status, _, _ = get(args, "/api/v1/health", source="127.0.0.1", timeout=30)
        except Exception as e:
            status = "error: %s" % e
        legit.append({"status": status, "seconds": round(time.monotonic() - t0, 3)})
    print(json.dumps(legit))
    return 0


async def legit_requests(args):
    """cmd_legit in a process of its own: the attacker's event loop must
    not slow the legitimate client down."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--port", str(args.port), "--ca", args.ca, "legit",
        "--count", str(args.legit), stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return json.loads(out)


async def slow_main(args):
    # the same requests without the attack: what this machine takes anyway
    baseline = await legit_requests(args)
    ctx = ctx_for(args)
    ctx.check_hostname = False
    stop = asyncio.Event()
    counts = {"open": 0, "opened": 0, "refused": 0}
    # started 10 ms apart, as a script opening them in a loop would
    tasks = [asyncio.create_task(slow_client(args, ctx, stop, counts, i * 0.01))
             for i in range(args.count)]
    # let the attack settle: every connection tried once
    await asyncio.sleep(args.settle)
    legit = await legit_requests(args)
    open_now = counts["open"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"baseline": baseline, "legit": legit, "attack_open": open_now,
                      "attack_opened": counts["opened"],
                      "attack_refused": counts["refused"]}))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--port2", type=int, help="a second console on the same database (guess, flood)")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guess")
    g.add_argument("--login", required=True)
    g.add_argument("--password", required=True)
    g.add_argument("--free", type=int, default=5)
    g.add_argument("--base", type=float, default=5)
    s = sub.add_parser("slow")
    s.add_argument("--from", dest="source", default="127.0.0.2")
    s.add_argument("--count", type=int, default=500)
    s.add_argument("--legit", type=int, default=5)
    s.add_argument("--settle", type=float, default=15)
    lg = sub.add_parser("legit")
    lg.add_argument("--count", type=int, default=5)
    f = sub.add_parser("flood")
    f.add_argument("--machine", required=True)
    f.add_argument("--bearer", required=True)
    f.add_argument("--count", type=int, default=100)
    f.add_argument("--pad", type=int, default=200, help="KiB of padding per heartbeat")
    args = p.parse_args()
    if args.cmd == "guess":
        return cmd_guess(args)
    if args.cmd == "flood":
        return cmd_flood(args)
    if args.cmd == "legit":
        return cmd_legit(args)
    return asyncio.run(slow_main(args))


if __name__ == "__main__":
    sys.exit(main())
