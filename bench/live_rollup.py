"""Produce → a region manager's screen: how long until a response moves the region's barometer.

Starts an embedded broker and one `voc api` (one embedded worker, the in-memory hub) on SQLite
and/or PostgreSQL, signs in the manager of the demo tree's `south` region and subscribes a
websocket to it, like the cockpit page. Then produces responses for every store of the demo tree
at a steady rate, straight to the topic, and times each response of the region from its send to
the first pushed barometer of the region that counts it (`today.responses` reaching its rank).
A warm-up of a few responses, waited for on the screen, comes first: the worker's group join is
not counted.

    python bench/live_rollup.py [--rate 1000] [--seconds 20] [--runs 3] [--databases sqlite]

Prints, per database, the rate reached and the latency percentiles of each run, and their medians.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.access import Role  # noqa: E402
from app.core.org import OrgTree  # noqa: E402
from app.demo import DEMO_TREE, generate  # noqa: E402
from app.orgfile import read_units  # noqa: E402
from bench.stack import (  # noqa: E402
    api,
    backends,
    databases,
    embedded_broker,
    messages,
    percentile,
    scratch,
)

REGION = "south"
WARM_UP = 20
FIGURES = ("p50", "p95", "p99", "max")
COLUMNS = " {:>7} {:>7} {:>7} {:>7}"
TOPIC = "voc.responses"


def warm_up(bootstrap: str, region: set[str], seen: list[tuple[float, int]]) -> int:
    """Send WARM_UP responses of the region and wait until the screen counts them: the worker
    has joined its group and the page is live. How many there were."""
    rng = random.Random(5)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1)
    sent = 0
    try:
        while sent < WARM_UP:
            response = generate(rng, datetime.now(UTC))
            if response.org_unit in region:
                value = response.model_dump_json().encode()
                producer.send(TOPIC, key=response.org_unit.encode(), value=value)
                sent += 1
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)
    deadline = time.monotonic() + 90
    while not seen or seen[-1][1] < sent:
        if time.monotonic() > deadline:
            raise SystemExit("the warm-up responses never reached the screen")
        time.sleep(0.05)
    return sent


def produce(bootstrap: str, rate: int, seconds: float, region: set[str], sent: list[float]) -> int:
    """Send `rate` responses a second for `seconds`; append each region response's send time to
    `sent`, in order. Returns how many were sent in all."""
    rng = random.Random(11)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=2, acks=1)
    start = time.monotonic()
    total = 0
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate) + 1
            while total < due:
                response = generate(rng, datetime.now(UTC))
                value = response.model_dump_json().encode()
                producer.send(TOPIC, key=response.org_unit.encode(), value=value)
                if response.org_unit in region:
                    sent.append(time.monotonic())
                total += 1
            time.sleep(0.001)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)
    return total


async def watch(
    ws_url: str, auth: dict[str, str], seen: list[tuple[float, int]], done: threading.Event
) -> None:
    """Record (arrival, count) of every pushed barometer of the region until `done`."""
    async with connect(ws_url, additional_headers=auth, max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "org_units": [REGION]}))
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            for frame in messages(raw):
                if frame.get("type") == "barometer" and frame["scope"]["org_units"] == [REGION]:
                    seen.append((time.monotonic(), frame["data"]["windows"]["today"]["responses"]))


def latencies(sent: list[float], seen: list[tuple[float, int]], before: int) -> list[float]:
    """Each region response's wait: from its send to the first frame counting it (`before`
    responses were counted before the first one was sent)."""
    out = []
    counts = [count for _, count in seen]
    for rank, sent_at in enumerate(sent, start=before + 1):
        first = bisect.bisect_left(counts, rank)
        if first < len(seen):
            out.append(seen[first][0] - sent_at)
    return out


def one_run(
    database_url: str, tmp: Path, rate: int, seconds: float, region: set[str]
) -> dict[str, float]:
    with embedded_broker(tmp) as bootstrap, api(bootstrap, database_url, tmp) as stack:
        auth = stack.sign_in(f"manager-{time.monotonic_ns()}", Role.MANAGER, [REGION])
        sent: list[float] = []
        seen: list[tuple[float, int]] = []
        done = threading.Event()
        ws_url = stack.url.replace("http", "ws") + "/ws"
        watcher = threading.Thread(target=lambda: asyncio.run(watch(ws_url, auth, seen, done)))
        watcher.start()
        before = warm_up(bootstrap, region, seen)
        started = time.monotonic()
        total = produce(bootstrap, rate, seconds, region, sent)
        produced_s = time.monotonic() - started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and seen[-1][1] < before + len(sent):
            time.sleep(0.05)
        done.set()
        watcher.join(timeout=10)
        waits = sorted(latencies(sent, seen, before))
    if len(waits) < len(sent):
        print(f"  only {len(waits)} of {len(sent)} region responses were shown", file=sys.stderr)
    return {
        "rate": total / produced_s,
        "p50": percentile(waits, 0.50) * 1000,
        "p95": percentile(waits, 0.95) * 1000,
        "p99": percentile(waits, 0.99) * 1000,
        "max": waits[-1] * 1000,
        "frames": len(seen),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--databases", type=backends, default=["sqlite", "postgresql"])
    args = parser.parse_args()
    tree = OrgTree(read_units(DEMO_TREE))
    region = set(tree.subtree(REGION))
    print(f"{args.rate}/s for {args.seconds:.0f} s, {REGION!r} watched: ms from send to screen")
    print(f"{'database':<11} {'run':>3} {'sent/s':>7} {'frames':>6}" + COLUMNS.format(*FIGURES))
    with scratch("voc-live-") as tmp, databases(tmp, args.databases) as new_database:
        for backend in args.databases:
            runs = []
            for run in range(1, args.runs + 1):
                result = one_run(new_database(backend), tmp, args.rate, args.seconds, region)
                runs.append(result)
                print(
                    f"{backend:<11} {run:>3} {result['rate']:>7.0f} {result['frames']:>6.0f}"
                    + COLUMNS.format(*(f"{result[k]:.0f}" for k in FIGURES))
                )
            med = {k: statistics.median(r[k] for r in runs) for k in ("rate", *FIGURES)}
            print(
                f"{backend:<11} {'med':>3} {med['rate']:>7.0f} {'':>6}"
                + COLUMNS.format(*(f"{med[k]:.0f}" for k in FIGURES))
            )


if __name__ == "__main__":
    main()
