"""Responses a second through one ingest worker: produce N responses to Kafka, time until stored.

Starts its own embedded broker and one `voc api` process (one embedded worker, SQLite) on
loopback, waits until the worker has joined, then for each run produces N responses straight
to the topic and times the span from the first send to the last row in the database.
Also reports the time from a REST post to its comment on a websocket (end-to-end latency).

    python bench/ingest_throughput.py [--n 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from kafka import KafkaProducer
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.access import Role  # noqa: E402
from app.demo import generate  # noqa: E402
from bench.stack import KEY, local_stack, messages  # noqa: E402


def count(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT count(*) FROM responses")).scalar_one())


def wait_count(engine: sa.Engine, n: int, timeout_s: float = 300) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if count(engine) >= n:
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f"only {count(engine)} of {n} rows after {timeout_s}s")


async def ws_latency(url: str, key: str, auth: dict[str, str], samples: int) -> list[float]:
    import random

    rng = random.Random(7)
    out = []
    ws_url = url.replace("http", "ws") + "/ws"
    async with connect(ws_url, additional_headers=auth) as ws, httpx.AsyncClient() as client:
        await ws.send(json.dumps({"type": "subscribe"}))
        for _ in range(samples):
            body = generate(rng, datetime.now(UTC)).model_dump_json()
            rid = json.loads(body)["response_id"]
            t0 = time.monotonic()
            r = await client.post(
                url + "/api/v1/responses",
                content=body,
                headers={"X-API-Key": key, "Content-Type": "application/json"},
            )
            assert r.status_code == 202, r.text
            while not any(
                event.get("type") == "comment" and event["data"]["response_id"] == rid
                for event in messages(await ws.recv())
            ):
                pass
            out.append((time.monotonic() - t0) * 1000)
            await asyncio.sleep(0.05)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import random

    rng = random.Random(42)
    with local_stack("voc-bench-") as stack:
        engine = sa.create_engine(stack.database_url)
        producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=5)
        producer.send("voc.responses", generate(rng, datetime.now(UTC)).model_dump_json().encode())
        producer.flush()
        wait_count(engine, 1)
        rows: list[tuple[int, float, float]] = []
        total = 1
        for run in range(args.runs):
            payloads = [
                (r.org_unit.encode(), r.model_dump_json().encode())
                for r in (generate(rng, datetime.now(UTC)) for _ in range(args.n))
            ]
            t0 = time.monotonic()
            for key, value in payloads:
                producer.send("voc.responses", key=key, value=value)
            producer.flush()
            t_produced = time.monotonic()
            total += args.n
            t1 = wait_count(engine, total)
            rows.append((run + 1, t_produced - t0, t1 - t0))
        producer.close()
        auth = stack.sign_in("bench", Role.ADMIN)
        latencies = asyncio.run(ws_latency(stack.url, KEY, auth, 30))
        engine.dispose()

    print(f"\nOne worker, SQLite, embedded broker, {args.n} responses a run")
    print(f"{'run':>4} {'produce s':>10} {'stored s':>9} {'responses/s':>12}")
    for run, produced, stored in rows:
        print(f"{run:>4} {produced:>10.2f} {stored:>9.2f} {args.n / stored:>12.0f}")
    rates = [args.n / stored for _, _, stored in rows]
    print(f"median responses/s: {statistics.median(rates):.0f}")
    latencies.sort()
    print(f"\nREST post -> websocket comment, {len(latencies)} samples (ms)")
    print(f"{'p50':>8} {'p90':>8} {'max':>8}")
    p90 = latencies[int(len(latencies) * 0.9) - 1]
    print(f"{statistics.median(latencies):>8.1f} {p90:>8.1f} {latencies[-1]:>8.1f}")


if __name__ == "__main__":
    main()
