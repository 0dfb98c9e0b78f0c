"""Produce -> manager websocket alert latency at a steady rate of demo responses.

Starts its own embedded broker and one `voc api` process (one embedded worker, SQLite, the demo
org tree) on loopback, connects a websocket as the South region's manager, then produces demo
responses to Kafka at `--rate` a second for `--seconds`. For every response that raises an alert
in the manager's units it times the span from just before `send` to the `alert` event on the
manager's socket. Prints one row a run and the median of the runs' percentiles.

    python bench/alert_latency.py [--rate 200] [--seconds 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.access import Role  # noqa: E402
from app.demo import generate  # noqa: E402
from bench.stack import Stack, local_stack, messages  # noqa: E402

MANAGER_UNITS = ["south"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_run(stack: Stack, auth: dict[str, str], rate: float, seconds: float) -> list[float]:
    rng = random.Random()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=1)
    ws_url = stack.url.replace("http", "ws") + "/ws"
    async with connect(ws_url, additional_headers=auth, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "subscribe"}))

        async def receive() -> None:
            async for frame in ws:
                for event in messages(frame):
                    if event.get("type") != "alert" or event["data"]["state"] != "open":
                        continue
                    started = sent.get(event["data"].get("response_id") or "")
                    if started is not None:
                        latencies.append((time.monotonic() - started) * 1000)

        reader = asyncio.create_task(receive())
        start = time.monotonic()
        count = int(rate * seconds)
        for i in range(count):
            response = generate(rng, datetime.now(UTC))
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            sent[response.response_id] = time.monotonic()
            producer.send(
                "voc.responses",
                key=response.org_unit.encode(),
                value=response.model_dump_json().encode(),
            )
        producer.flush()
        await asyncio.sleep(3)  # the last alerts in flight
        reader.cancel()
    producer.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with local_stack("voc-alert-bench-") as stack:
        auth = stack.sign_in("bench.manager", Role.MANAGER, MANAGER_UNITS)
        # Warm-up: the worker joins its group and every unit's history is loaded.
        asyncio.run(one_run(stack, auth, args.rate, 3))
        for run in range(args.runs):
            latencies = asyncio.run(one_run(stack, auth, args.rate, args.seconds))
            rows.append(
                (run + 1, len(latencies), percentile(latencies, 0.5), percentile(latencies, 0.99))
            )

    print(f"\nProduce -> manager websocket alert, {args.rate:g} responses/s for {args.seconds:g} s")
    print(f"{'run':>4} {'alerts':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for run, n, p50, p99 in rows:
        print(f"{run:>4} {n:>7} {p50:>8.1f} {p99:>8.1f}")
    print(
        f"median p50 {statistics.median(r[2] for r in rows):.1f} ms, "
        f"median p99 {statistics.median(r[3] for r in rows):.1f} ms"
    )


if __name__ == "__main__":
    main()
