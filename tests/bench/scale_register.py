#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Register N simulated machines with a console for tests/bench/scale.sh.

  scale_register.py --port P --ca CA.pem --token T --count N --dir DIR --out FILE
        [--threads 8] [--prefix scale]

Each registration is the one an agent makes (POST /api/v1/register with the
installation token, an identity, the inventory `livemig inventory --json`
prints and a CSR), from --threads threads on kept connections. The machines
share one key (made once in DIR): the console signs a certificate per
machine with the machine id as its name, whatever the key, and the bench
never connects to staging. Writes "MACHINE_ID AGENT_SECRET" lines to FILE
and prints the count and the time taken; exits 1 unless all N registered.
"""
import argparse
import http.client
import json
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import console_client  # noqa: E402  (the tests' client: CSR, registration body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--prefix", default="scale")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    csr = console_client.make_csr(args.dir, args.prefix)
    form = argparse.Namespace(identity=None, hostname=None, token=args.token)
    ctx = ssl.create_default_context(cafile=args.ca)
    names = ["%s-%05d" % (args.prefix, i) for i in range(args.count)]
    done, failures = [], []
    lock = threading.Lock()

    def worker(part):
        conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=120)
        for name in part:
            body = json.dumps(console_client.registration(form, name, csr))
            for attempt in range(5):
                try:
                    conn.request("POST", "/api/v1/register", body=body,
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    text = r.read().decode()
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    status, text = 0, str(e)
                else:
                    status = r.status
                if status != 503 and status != 0:
                    break
                time.sleep(0.5 * (attempt + 1))  # busy database or dropped connection
            with lock:
                if status == 201:
                    a = json.loads(text)
                    done.append((a["machine_id"], a["agent_secret"]))
                else:
                    failures.append("%s: %s %s" % (name, status, text[:200]))
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(names[i::args.threads],))
               for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out, "w") as f:
        for mid, secret in done:
            f.write("%s %s\n" % (mid, secret))
    print("registered %d of %d machines in %.1f s" % (len(done), args.count, time.monotonic() - t0))
    for line in failures[:5]:
        print("  failed: " + line, file=sys.stderr)
    sys.exit(0 if len(done) == args.count else 1)


if __name__ == "__main__":
    main()
