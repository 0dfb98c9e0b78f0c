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
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from kafka import KafkaProducer
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broker.embedded import free_port, start_broker  # noqa: E402
from app.core.access import Role  # noqa: E402
from app.db import directory, store  # noqa: E402
from app.demo import DEMO_TREE, generate  # noqa: E402

PASSWORD = "bench password"
MANAGER_UNITS = ["south"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_run(
    url: str, bootstrap: str, auth: dict[str, str], rate: float, seconds: float
) -> list[float]:
    rng = random.Random()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    ws_url = url.replace("http", "ws") + "/ws"
    async with connect(ws_url, additional_headers=auth, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "subscribe"}))

        async def receive() -> None:
            async for frame in ws:
                event = json.loads(frame)
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
    tmp = Path(tempfile.mkdtemp(prefix="voc-alert-bench-"))
    broker_port, port = free_port(), free_port()
    broker = start_broker("127.0.0.1", broker_port, log=tmp / "broker.log")
    bootstrap = f"127.0.0.1:{broker_port}"
    db_url = f"sqlite:///{tmp / 'voc.db'}"
    env = os.environ | {
        "VOC_PORT": str(port),
        "VOC_KAFKA_BOOTSTRAP": bootstrap,
        "VOC_DATABASE_URL": db_url,
        "VOC_INTEGRATOR_KEYS": "bench",
        "VOC_LOG_LEVEL": "WARNING",
        "VOC_ORG_TREE_FILE": str(DEMO_TREE),
    }
    url = f"http://127.0.0.1:{port}"
    with (tmp / "app.log").open("ab") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"], env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("API not ready")
            time.sleep(0.1)
        engine = store.make_engine(db_url)
        directory.create_user(
            engine, username="bench.manager", password=PASSWORD, role=Role.MANAGER,
            units=MANAGER_UNITS,
        )  # fmt: skip
        engine.dispose()
        login = {"username": "bench.manager", "password": PASSWORD}
        token = httpx.post(url + "/api/v1/auth/login", json=login).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        asyncio.run(one_run(url, bootstrap, auth, args.rate, 3))  # warm-up: the worker joins
        for run in range(args.runs):
            latencies = asyncio.run(one_run(url, bootstrap, auth, args.rate, args.seconds))
            rows.append(
                (run + 1, len(latencies), percentile(latencies, 0.5), percentile(latencies, 0.99))
            )
    finally:
        api.terminate()
        api.wait(timeout=20)
        broker.terminate()
        broker.wait(timeout=10)

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
