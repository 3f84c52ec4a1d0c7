#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small client of livemig-console's HTTPS API for the integration tests.

  Every command takes --source ADDR before it: the connection's own address
  (127.0.0.2: another loopback address, for the console's "from where").

  console_client.py --port P --ca CA.pem call METHOD PATH [--json BODY|@FILE]
        [--basic USER@ACCOUNT:PASSWORD] [--bearer SECRET]
      prints the HTTP status on the first line and the body after it.

  console_client.py --port P --ca CA.pem register --machine M --dir DIR
        (--token T | --user U --password PW --account A) [--csr FILE]
        [--identity SOURCE=VALUE] [--hostname H] [--machine-id ID]
      makes a key and CSR in DIR (unless --csr), registers, prints the status
      and body like `call`, and on success writes DIR/M.pem (certificate),
      DIR/M.secret (agent secret), DIR/M.id (the machine id the console
      derived) and DIR/M.json (the whole answer). M is the test's name for
      the machine; its identity is metadata=i-M unless --identity says
      otherwise. The request names no machine id (the console derives it)
      unless --machine-id ID is given, as older agents did.

  console_client.py --port P --ca CA.pem race --token T --count N --dir DIR
        [--prefix NAME]
      N registrations of distinct machines, released at the same instant
      from N threads; prints one line per status code: "CODE COUNT".
      With --port2 P2 every other one goes to a second console on port P2
      (two instances sharing one PostgreSQL database).

  Imported by the tests' own Python checks: page_call() is a call as the web
  page makes it (a session cookie, the CSRF header), answering with the
  Set-Cookie header as well.
"""
import argparse
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import threading


def connection(args, port=None):
    ctx = ssl.create_default_context(cafile=args.ca)
    source = (args.source, 0) if getattr(args, "source", None) else None
    return http.client.HTTPSConnection("127.0.0.1", port or args.port, context=ctx, timeout=60,
                                       source_address=source)


def request(args, method, path, body=None, basic=None, bearer=None):
    headers = {}
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers["Content-Type"] = "application/json"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    conn = connection(args)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def page_call(port, ca, method, path, body=None, headers=None):
    """(status, Set-Cookie header, decoded JSON body) of one call made the page's way."""
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    h = {"Content-Type": "application/json", "X-Requested-With": "fetch"}
    h.update(headers or {})
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = conn.getresponse()
        return r.status, r.getheader("Set-Cookie"), json.loads(r.read() or b"null")
    finally:
        conn.close()


def make_csr(directory, name):
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    if not os.path.exists(csr):
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", "/CN=" + name], check=True, capture_output=True)
    with open(csr) as f:
        return f.read()


def inventory(hostname):
    # the shape `livemig inventory --json` prints (src/host/inventory*.c)
    return {"hostname": hostname, "cores": 2, "memory_bytes": 2 << 30,
            "kernel": {"release": "6.1.0-test", "version": "#1 SMP", "machine": "x86_64"},
            "os": {"pretty_name": "Debian GNU/Linux 12 (bookworm)", "id": "debian"},
            "disks": [{"name": "vda", "size": 10 << 30, "model": "QEMU", "root": True},
                      {"name": "vdb", "size": 1 << 30}]}


def registration(args, machine, csr, token=None):
    # one identity per test machine: the console derives the id from it
    source, _, value = (args.identity or "metadata=i-" + machine).partition("=")
    body = {"hostname": args.hostname or machine + ".example",
            "identity": {"source": source, "value": value},
            "inventory": inventory(args.hostname or machine), "csr": csr}
    if getattr(args, "machine_id", None):
        body["machine_id"] = args.machine_id
    secret = getattr(args, "agent_secret", None)
    if secret:
        if secret.startswith("@"):
            with open(secret[1:]) as f:
                secret = f.read().strip()
        body["agent_secret"] = secret
    if token or args.token:
        body["token"] = token or args.token
    else:
        body.update(user=args.user, password=args.password, account=args.account)
    return body


def cmd_call(args):
    body = args.json
    if body is not None and body.startswith("@"):
        with open(body[1:], "rb") as f:
            body = f.read()
    status, text = request(args, args.method, args.path, body, args.basic, args.bearer)
    print(status)
    print(text, end="")


def cmd_register(args):
    os.makedirs(args.dir, exist_ok=True)
    if args.csr:
        with open(args.csr) as f:
            csr = f.read()
    else:
        csr = make_csr(args.dir, args.machine)
    status, text = request(args, "POST", "/api/v1/register", registration(args, args.machine, csr))
    print(status)
    print(text, end="")
    if status in (200, 201):
        answer = json.loads(text)
        base = os.path.join(args.dir, args.machine)
        with open(base + ".pem", "w") as f:
            f.write(answer["certificate"])
        with open(base + ".secret", "w") as f:
            f.write(answer["agent_secret"])
        with open(base + ".id", "w") as f:
            f.write(answer["machine_id"])
        with open(base + ".json", "w") as f:
            json.dump(answer, f)


def cmd_race(args):
    os.makedirs(args.dir, exist_ok=True)
    names = ["%s-%02d" % (args.prefix, i) for i in range(args.count)]
    bodies = [json.dumps(registration(args, n, make_csr(args.dir, n))) for n in names]
    barrier = threading.Barrier(args.count)
    results = [None] * args.count

    def one(i):
        # Connect and shake hands first, so that the requests themselves
        # leave together when the barrier opens.
        conn = connection(args, args.port2 if args.port2 and i % 2 else None)
        try:
            conn.connect()
            barrier.wait()
            conn.request("POST", "/api/v1/register", body=bodies[i],
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            results[i] = (resp.status, resp.read().decode())
        except Exception as e:  # reported as a status of 0
            results[i] = (0, str(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = {}
    for status, text in results:
        counts[status] = counts.get(status, 0) + 1
        if status not in (201, 409):
            print("unexpected answer %s: %s" % (status, text), file=sys.stderr)
    for status in sorted(counts):
        print(status, counts[status])
    with open(os.path.join(args.dir, "race-answers.json"), "w") as f:
        json.dump(results, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--source", help="the client's address (another loopback one, 127.0.0.2)")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("path")
    c.add_argument("--json")
    c.add_argument("--basic")
    c.add_argument("--bearer")

    for name in ("register", "race"):
        r = sub.add_parser(name)
        r.add_argument("--dir", required=True)
        r.add_argument("--token")
        r.add_argument("--user")
        r.add_argument("--password")
        r.add_argument("--account")
        r.add_argument("--identity")
        r.add_argument("--hostname")
        if name == "register":
            r.add_argument("--machine", required=True)
            r.add_argument("--csr")
            # proof for re-registering an active machine: SECRET or @FILE
            r.add_argument("--agent-secret")
            r.add_argument("--machine-id")
        else:
            r.add_argument("--count", type=int, default=20)
            r.add_argument("--prefix", default="race")
            r.add_argument("--port2", type=int)
    args = p.parse_args()
    {"call": cmd_call, "register": cmd_register, "race": cmd_race}[args.cmd](args)


if __name__ == "__main__":
    main()
