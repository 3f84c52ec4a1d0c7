#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Staging servers' side of the sync (docs/staging-console.md) against
several consoles sharing one database, for t_console_jobs_instances.sh.

  jobs_claim.py --ports A,B --ca CA queue --machines M1,M2 --login USER@ACCOUNT:PW --count N
      N refresh-points jobs, spread over the machines and the consoles
      (a web session per console); prints their ids, one a line
  jobs_claim.py --ports A,B --ca CA run --staging NAME=SECRETFILE ... --machines M1,M2
          --expect N [--die NAME] [--kill PID] [--timeout S]
      each staging server syncs in a thread of its own, every other sync
      to the other console, storing every machine; a job is "run" when a
      server first sees it and reported succeeded (result {"by": NAME}) in
      the next sync. --die NAME: that server stops syncing (without
      reporting) after its first answer with jobs. --kill PID: SIGKILL to
      the first console (PID) at its first answer with jobs, while the
      syncs go on. Ends when N jobs ended were acknowledged. Prints one
      JSON line: {"runs": {id: [NAME...]}, "per_port": {port: jobs first
      seen}, "seconds", "died": {NAME: [ids held]}, "killed_at"}
"""
import argparse
import base64
import http.client
import json
import os
import signal
import ssl
import sys
import threading
import time


def call(args, port, method, path, body=None, headers=None, timeout=60):
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                       context=ssl.create_default_context(cafile=args.ca))
    try:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = conn.getresponse()
        return r.status, r.getheader("Set-Cookie"), r.read()
    finally:
        conn.close()


def cmd_queue(args):
    machines = args.machines.split(",")
    user, _, pw = args.login.partition(":")
    user, _, account = user.rpartition("@")
    sessions = []
    for port in args.ports:
        st, cookie, body = call(args, port, "POST", "/api/v1/session",
                                {"account": account, "user": user, "password": pw},
                                {"X-Requested-With": "fetch"})
        if st != 200:
            sys.exit("sign-in on %d: %d %s" % (port, st, body))
        sessions.append((port, {"Cookie": cookie.split(";")[0], "X-Requested-With": "fetch",
                                "X-CSRF-Token": json.loads(body)["csrf_token"]}))
    for i in range(args.count):
        port, h = sessions[i % len(sessions)]
        st, _, body = call(args, port, "POST", "/api/v1/machines/%s/jobs" % machines[i % len(machines)],
                           {"kind": "refresh-points"}, h)
        if st != 201:
            sys.exit("queue on %d: %d %s" % (port, st, body))
        print(json.loads(body)["id"])


class Shared:
    def __init__(self):
        self.lock = threading.Lock()
        self.runs = {}
        self.per_port = {}
        self.ended = 0
        self.died = {}
        self.killed_at = None
        self.errors = []
        self.first_synced = threading.Event()


def staging(args, name, secret, index, sh, stop):
    machines = [{"machine": m, "points": []} for m in args.machines.split(",")]
    pending = {}  # id -> report not yet acknowledged
    ports = list(args.ports)
    n = index
    # with --die/--kill the first server syncs alone first, through the first
    # console: otherwise the second could take every queued job through the
    # second console before it, and nobody would die or be killed (a race)
    if index > 0 and (args.kill or args.die):
        sh.first_synced.wait(args.timeout)
    while not stop.is_set():
        port = ports[n % len(ports)]
        n += 1
        reports = list(pending.values())
        body = {"version": "0.1.0", "store": {"free_bytes": 1 << 30, "total_bytes": 1 << 31},
                "machines": machines, "jobs": reports}
        try:
            st, _, text = call(args, port, "POST", "/api/v1/staging/sync", body,
                               {"Authorization": "Bearer " + secret}, timeout=30)
        except OSError:
            # a console killed: a lost answer; the next sync goes to the other
            if args.kill and port == ports[0] and sh.killed_at is not None:
                ports = ports[1:]
            time.sleep(0.2)
            continue
        if st == 503:  # busy: sync again, as staging does
            time.sleep(0.2)
            continue
        if st != 200:
            with sh.lock:
                sh.errors.append("%s on %d: %d %s" % (name, port, st, text[:300]))
            stop.set()
            return
        answer = json.loads(text)
        if index == 0 and answer["jobs"]:
            sh.first_synced.set()
        with sh.lock:
            for r in reports:
                del pending[r["id"]]
                sh.ended += 1
            fresh = [j for j in answer["jobs"] if str(j["id"]) not in sh.runs or
                     name not in sh.runs[str(j["id"])]]
            for j in fresh:
                sh.runs.setdefault(str(j["id"]), []).append(name)
                sh.per_port[str(port)] = sh.per_port.get(str(port), 0) + 1
            if fresh and args.kill and port == args.ports[0] and sh.killed_at is None:
                os.kill(args.kill, signal.SIGKILL)
                sh.killed_at = time.time()
            if fresh and args.die == name:
                sh.died[name] = [j["id"] for j in fresh]
                return
            if sh.ended >= args.expect:
                stop.set()
        for j in fresh:
            pending[j["id"]] = {"id": j["id"], "state": "succeeded", "result": {"by": name}}
        time.sleep(0.1)


def cmd_run(args):
    sh = Shared()
    stop = threading.Event()
    threads = []
    t0 = time.time()
    for i, spec in enumerate(args.staging):
        name, _, path = spec.partition("=")
        secret = open(path).read().strip()
        t = threading.Thread(target=staging, args=(args, name, secret, i, sh, stop))
        t.start()
        threads.append(t)
    stop.wait(args.timeout)
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"runs": sh.runs, "per_port": sh.per_port, "seconds": time.time() - t0,
                      "died": sh.died, "killed_at": sh.killed_at, "ended": sh.ended,
                      "errors": sh.errors}))
    return 1 if sh.errors else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ports", required=True, type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--ca", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("queue")
    q.add_argument("--machines", required=True)
    q.add_argument("--login", required=True)
    q.add_argument("--count", type=int, default=100)
    r = sub.add_parser("run")
    r.add_argument("--staging", action="append", required=True)
    r.add_argument("--machines", required=True)
    r.add_argument("--expect", type=int, required=True)
    r.add_argument("--die")
    r.add_argument("--kill", type=int)
    r.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    return cmd_queue(args) if args.cmd == "queue" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
