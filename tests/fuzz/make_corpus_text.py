#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpora of the text parsers' fuzz harnesses:
tests/fuzz/corpus/agent_config (livemigd's configuration),
tests/fuzz/corpus/checkpoint (livemigd's checkpoint file) and
tests/fuzz/corpus/console_json (the console's JSON request bodies).

Usage: tests/fuzz/make_corpus_text.py [CORPUS_DIR]  (default tests/fuzz/corpus)
Files are named seed-*; existing seed-* files are replaced, others (inputs
merged in from fuzzing runs) are left alone. Deterministic.
"""
import hashlib
import json
import os
import sys

CONFIG = """[agent]
machine = web-01
state_dir = /var/lib/livemig
socket = /run/livemig/livemigd.sock
scan_interval = 300ms
nice = 10
bandwidth_limit = 4M
queue_depth = 4
[staging]
address = 127.0.0.1:7450
ca = /etc/livemig/staging-ca.pem
cert = /etc/livemig/agent.pem
key = /etc/livemig/agent.key
[console]
url = https://console.example:8443
ca = /etc/livemig/console-ca.pem
machine_id = web-01
secret_file = /etc/livemig/agent-secret
heartbeat_interval = 3s
[disk]
name = vda
path = /dev/vda
[disk]
name = vdb
path = /dev/vdb
"""

CONFIGS = [
    CONFIG,
    CONFIG.replace("127.0.0.1:7450", "[::1]:7450"),
    CONFIG.replace("[console]", "[bogus]"),
    CONFIG.replace("name = vdb", "name = vda"),
    CONFIG.split("[disk]")[0],
    CONFIG.replace("bandwidth_limit = 4M", "bandwidth_limit = 99999999999999999999T"),
    CONFIG.replace("scan_interval = 300ms", "scan_interval = -1"),
    "; comment\n# comment\n\n" + CONFIG,
    CONFIG.replace("\n", "\r\n"),
    "[agent\nmachine = x\n",
    "key without section\n",
    "[agent]\nmachine = " + "a" * 300 + "\n",
    "",
]

CHECKPOINT = {
    "format": 1, "machine": "web-01", "tracker": "kmod", "store_id": "00112233445566778899aabbccddeeff",
    "rounds": 3, "last_consistent_ns": 1796527216000000000, "written_ns": 1796527216000000000,
    "disks": [{"name": "vda", "size": 10737418240, "epoch": "ffeeddccbbaa99887766554433221100",
               "mirror_watermark": 1048576, "mirror_complete": False},
              {"name": "vdb", "size": 1048576, "epoch": "0f" * 16,
               "mirror_watermark": 1048576, "mirror_complete": True}],
}


def variants_checkpoint():
    yield json.dumps(CHECKPOINT, indent=2, sort_keys=True)
    c = json.loads(json.dumps(CHECKPOINT))
    c["format"] = 2
    yield json.dumps(c)
    c = json.loads(json.dumps(CHECKPOINT))
    c["disks"][0]["mirror_watermark"] = c["disks"][0]["size"] + 1
    yield json.dumps(c)
    c = json.loads(json.dumps(CHECKPOINT))
    c["store_id"] = "zz"
    yield json.dumps(c)
    c = json.loads(json.dumps(CHECKPOINT))
    c["disks"] = [c["disks"][0]] * 40
    yield json.dumps(c)
    c = json.loads(json.dumps(CHECKPOINT))
    c["rounds"] = -1
    yield json.dumps(c)
    yield json.dumps(CHECKPOINT)[:100]
    yield "[]"
    yield ""


REGISTER = {
    "token": "lmt_" + "ab" * 32, "machine_id": "web-01", "hostname": "web-01.example",
    "identity": {"source": "mac", "value": "52:54:00:00:00:01"},
    "inventory": {"hostname": "web-01", "cores": 2, "disks": [{"name": "vda", "size": 1 << 30}]},
    "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
}


def variants_json():
    yield json.dumps(REGISTER)
    r = dict(REGISTER)
    del r["token"]
    r.update(user="alice", password="correct horse", account="acme")
    yield json.dumps(r)
    r = dict(REGISTER, agent_secret="lma_" + "00" * 32)
    yield json.dumps(r)
    yield json.dumps(dict(REGISTER, machine_id=".hidden"))
    yield json.dumps(dict(REGISTER, machine_id="a" * 64))
    yield json.dumps(dict(REGISTER, identity="mac"))
    yield json.dumps(dict(REGISTER, inventory=[1, 2]))
    # the console derives the machine id: none given, and identities it
    # derives from or refuses
    r = dict(REGISTER)
    del r["machine_id"]
    yield json.dumps(r)
    yield json.dumps(dict(r, identity={"source": "metadata", "value": "i-0123456789abcdef0"}))
    yield json.dumps(dict(r, identity={"source": "metadata", "value": "i 0"}))
    yield json.dumps(dict(r, identity={"source": "mac", "value": "52:54:00:AB:00:01"}))
    yield json.dumps(dict(r, identity={"source": "mac", "value": "01:00:5e:00:00:01"}))
    yield json.dumps(dict(r, identity={"source": "mac", "value": "00:00:00:00:00:00"}))
    yield json.dumps(dict(r, identity={"source": "serial", "value": "52:54:00:00:00:01"}))
    yield json.dumps(dict(REGISTER, user="alice"))
    yield json.dumps(dict(REGISTER, hostname="a\u0000b"))
    yield '{"token": "a", "token": "b"}'
    yield '{"account": "acme", "user": "alice", "password": "pw"}'
    yield '{"version": "0.1.0", "machine": "web-01", "state": "CHANGE_COPY", "disks": []}'
    yield '[1, 2, 3]'
    yield '{"a": ' * 50 + '1' + '}' * 50
    yield '"\\ud800"'
    yield ''


def write(outdir, seeds):
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):
        if name.startswith("seed-"):
            os.unlink(os.path.join(outdir, name))
    for text in seeds:
        data = text.encode()
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    write(os.path.join(base, "agent_config"), CONFIGS)
    write(os.path.join(base, "checkpoint"), variants_checkpoint())
    write(os.path.join(base, "console_json"), variants_json())


if __name__ == "__main__":
    main()
