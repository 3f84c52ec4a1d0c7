#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A staging server's sync with the console, as docs/staging-console.md
describes it, that ends `launch` and `destroy` jobs the way a staging
server with a launcher reports them: the console's side of a test launch,
a cutover and a revert needs a launch that comes up, which this branch's
livemig-staging cannot run (its launcher kinds are built separately).
Everything else in the test is real.

    staging_launcher_standin.py --port P --ca CA --secret FILE --machine M
        --points FILE --jobs-log FILE [--hold FILE] [--interval S]

Every --interval seconds (default 0.5) it POSTs /api/v1/staging/sync
reporting MACHINE with the points listed in FILE (a JSON array of point
objects, re-read each time, so the test adds points while it runs), and
reports each job the previous answer gave it: a launch ends succeeded
{"state": "up", "address": "192.0.2.<job id % 250 + 1>", ...} with a log
line, a destroy succeeded {"destroyed": true}. While the --hold file exists,
launches are reported running instead (a launch in the middle). Each job
received is appended to --jobs-log as one JSON line. It runs until killed.
"""

import argparse
import hashlib
import http.client
import json
import os
import ssl
import sys
import time


def sync(args, body):
    ctx = ssl.create_default_context(cafile=args.ca)
    conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=60)
    try:
        conn.request("POST", "/api/v1/staging/sync", body=json.dumps(body),
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer " + args.secret})
        resp = conn.getresponse()
        text = resp.read().decode()
        if resp.status != 200:
            raise RuntimeError("sync answered %d: %s" % (resp.status, text))
        return json.loads(text)
    finally:
        conn.close()


def end_of(job, hold):
    p = job.get("params", {})
    first = {"seq": 1, "at": int(time.time()),
             "line": "%s %s from point %s" % (job["kind"], p.get("name"), p.get("point"))}
    if job["kind"] == "launch" and hold:
        return {"state": "running", "log": [first]}
    if job["kind"] == "launch":
        addr = "192.0.2.%d" % (job["id"] % 250 + 1)
        return {"state": "succeeded",
                "result": {"name": p.get("name"), "purpose": p.get("purpose"),
                           "point": p.get("point"), "driver": "libvirt", "state": "up",
                           "address": addr, "marker_line": "livemig-first-boot: up",
                           "seconds": 1},
                "log": [first, {"seq": 2, "at": int(time.time()),
                                "line": "launched %s from point %s: up at %s" %
                                        (p.get("name"), p.get("point"), addr)}]}
    if job["kind"] == "destroy":
        return {"state": "succeeded", "result": {"name": p.get("name"), "destroyed": True},
                "log": [first, {"seq": 2, "at": int(time.time()),
                                "line": "destroyed %s" % p.get("name")}]}
    return {"state": "failed", "error": "the stand-in runs launch and destroy only"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--points", required=True)
    ap.add_argument("--jobs-log", required=True)
    ap.add_argument("--hold")
    ap.add_argument("--interval", type=float, default=0.5)
    args = ap.parse_args()
    args.secret = open(args.secret).read().strip()
    pending = []
    seen = set()
    while True:
        try:
            points = json.load(open(args.points))
        except (OSError, ValueError):
            points = []
        digest = hashlib.sha256(json.dumps(points, sort_keys=True).encode()).hexdigest()
        hold = bool(args.hold) and os.path.exists(args.hold)
        reports = [dict(end_of(j, hold), id=j["id"]) for j in pending]
        body = {"version": "standin", "store": {"free_bytes": 1 << 30, "total_bytes": 2 << 30},
                "machines": [{"machine": args.machine, "points": points,
                              "points_digest": digest}],
                "jobs": reports}
        try:
            ans = sync(args, body)
        except (OSError, RuntimeError) as e:  # the console restarting: try again
            print("sync failed: %s" % e, file=sys.stderr, flush=True)
            time.sleep(args.interval)
            continue
        pending = []
        for j in ans.get("jobs", []):
            if j["id"] not in seen:
                seen.add(j["id"])
                with open(args.jobs_log, "a") as f:
                    f.write(json.dumps(j) + "\n")
            pending.append(j)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
