#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed a fleet of machines in a running console through its real API.

  seed_fleet.py --port P --ca CA.pem --token T --count N --dir DIR --out FILE

Each machine registers with the installation token (POST /api/v1/register,
its own key and CSR, as `livemig install` does) and, except every eighth
which stays REGISTERED, reports one heartbeat (POST
/api/v1/machines/ID/status with its agent secret) in a state taken in turn
from STATES, with figures that differ per machine. FILE gets a JSON list of
{"name", "machine_id", "secret", "state"} for the browser test, which sends
further heartbeats itself.
"""
import argparse
import concurrent.futures
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import console_client  # noqa: E402  (the integration tests' client of the same API)

STATES = ["CHANGE_COPY", "INITIAL_MIRROR", "BACKLOG", "RESCAN", "PAUSED", "STALLED", "NOT_READY", None]
REASONS = {
    "RESCAN": "not resuming from the checkpoint because the checkpoint belongs to another epoch",
    "STALLED": "staging 127.0.0.1:7450: connection refused (retrying)",
    "NOT_READY": "this machine's identity changed: livemig uninstall && livemig install",
}


def status_doc(i, state):
    """A heartbeat's status document (docs/control.md) for machine i."""
    size = (8 + i % 24) << 30
    done = size if state in ("CHANGE_COPY", "BACKLOG") else size * ((i * 37) % 100) // 100
    busy = state not in ("PAUSED", "STALLED", "NOT_READY")
    rate = float((i * 7919) % 200 + 1) * 1e6 if busy else 0.0
    return {
        "version": "0.1.0", "agent_version": "0.1.0", "state": state, "reason": REASONS.get(state, ""), "tracker": "scan",
        "paused": state == "PAUSED",
        "staging": {"address": "127.0.0.1:7450", "connected": busy, "last_error": ""},
        "throughput_bps": rate, "lag_seconds": float((i * 13) % 3000) / 10 if state == "CHANGE_COPY" else None,
        "disks": [{"name": "vda", "size": size, "state": state, "bytes_done": done, "bytes_total": size,
                   "backlog_bytes": (i % 5) << 20, "throughput_bps": rate,
                   "eta_seconds": (size - done) / rate if rate and size > done else None}],
    }


def seed_one(args, i):
    name = "fleet-%03d" % i
    reg = argparse.Namespace(identity=None, hostname=None, machine_id=None, agent_secret=None,
                             token=args.token, ca=args.ca, port=args.port)
    csr = console_client.make_csr(args.dir, name)
    status, text = console_client.request(reg, "POST", "/api/v1/register",
                                          console_client.registration(reg, name, csr))
    if status != 201:
        raise RuntimeError("register %s: %s %s" % (name, status, text))
    ans = json.loads(text)
    state = STATES[i % len(STATES)]
    if state:
        doc = status_doc(i, state)
        status, text = console_client.request(reg, "POST", "/api/v1/machines/%s/status" % ans["machine_id"],
                                              doc, bearer=ans["agent_secret"])
        if status != 200:
            raise RuntimeError("heartbeat %s: %s %s" % (name, status, text))
    return {"name": name, "machine_id": ans["machine_id"], "secret": ans["agent_secret"],
            "state": state or "REGISTERED"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        machines = list(pool.map(lambda i: seed_one(args, i), range(args.count)))
    with open(args.out, "w") as f:
        json.dump(machines, f)
    print("seeded %d machines" % len(machines))


if __name__ == "__main__":
    main()
