#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hold COUNT plain TCP connections to PORT from address FROM that never
say anything (never start a TLS handshake), until a line arrives on stdin
or stdin closes. A connection the server held and then closed (its
handshake deadline) is opened again at once, to take the place back; one
refused or closed at once is tried again after 10 s (a flood of new
connections is another attack, for a firewall). Prints "holding" once every connection has been tried, then, at
the end, one JSON line: {"opened": N, "open_at_end": N}.

  hold_connections.py --port P --from 127.0.0.2 --count 500
"""
import argparse
import asyncio
import json
import sys
import time


async def holder(args, stop, counts, delay):
    await asyncio.sleep(delay)
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", args.port, local_addr=(args.source, 0)), timeout=30)
        except Exception:
            await pause(stop, 10)
            continue
        counts["opened"] += 1
        counts["open"] += 1
        t0 = time.monotonic()
        try:
            read = asyncio.ensure_future(reader.read(1))
            done, _ = await asyncio.wait([read, asyncio.ensure_future(stop.wait())],
                                         return_when=asyncio.FIRST_COMPLETED)
            read.cancel()
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


async def main_async(args):
    stop = asyncio.Event()
    counts = {"opened": 0, "open": 0}
    tasks = [asyncio.create_task(holder(args, stop, counts, i * 0.005))
             for i in range(args.count)]
    await asyncio.sleep(args.count * 0.005 + 1)
    print("holding", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    open_now = counts["open"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"opened": counts["opened"], "open_at_end": open_now}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--from", dest="source", default="127.0.0.2")
    p.add_argument("--count", type=int, default=500)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
