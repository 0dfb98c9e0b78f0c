"""Produce → comment on a store phone's screen, with the ingest worker in its own process.

Each run starts redis-server, an embedded broker, one `voc api` without embedded workers
(VOC_EMBEDDED_WORKERS=0) and one `voc worker` process, both on that Redis (VOC_REDIS_URL), on a
new database holding a generated company of --stores stores (app/company.py). It signs in a few
frontline users, connects the clients with bench/wsload (Go: Python clients would take the
server's share of the machine's two cores) and, once every client is subscribed, a producer
thread sends valid survey responses to the topic on a fixed schedule, each with `submitted_at`
taken right before its send. wsload times every `comment` event at every client from its
`data.submitted_at` and counts the distinct `data.response_id`s each client got; a client should
get every response produced for its store.

  one-unit (target A): --one-unit-clients phones on one store; --one-unit-rate responses a
    second, all for that store.
  spread (target B): --spread-clients phones round-robin over the stores, each subscribed to
    its own store; --spread-rate responses a second, spread uniformly over the stores.

Before each run's load, the floor: the same responses at the same rate to another topic of the
same broker, read by a kafka-python consumer in a thread, no app (produce → consume).

    python bench/ws_e2e.py [--scenarios one-unit,spread] [--runs 3] [--seconds 30]
                           [--stores 250] [--databases sqlite]

Needs Go and redis-server. Prints markdown tables: each run, the medians, where the time went,
and CPU by process. The defaults take about 5 minutes on two cores. Run it on an otherwise idle
machine: the "machine busy" column shows both cores over the window, every process counted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import company  # noqa: E402
from app.broker.embedded import free_port  # noqa: E402
from app.broker.topics import ensure_topics  # noqa: E402
from app.core.access import Role  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from bench.stack import (  # noqa: E402
    Stack,
    api,
    backends,
    databases,
    embedded_broker,
    percentile,
    scratch,
)
from bench.wsclients import (  # noqa: E402
    Wsload,
    build_wsload,
    cpu_seconds,
    machine_ticks,
    parser_of,
)
from tests.harness import RedisServer  # noqa: E402

WARM_UP = 30
"""Responses ingested before the clients connect: the worker has joined its group and loaded."""
BODIES = 2000
"""Response bodies generated once; each send takes one and gives it its id, store and time."""
USERS_ON_ONE_UNIT = 4
READY_TIMEOUT_S = 30
SAMPLE_S = 0.25
SETTLE_S = 1.0
"""After the worker has stored the last response and the API has written every event."""


@dataclass(frozen=True)
class Scenario:
    name: str
    clients: int
    rate: float
    spread: bool
    """Clients and responses over every store; otherwise all on the first one."""


@dataclass(frozen=True)
class Worker:
    pid: int
    metrics_url: str


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind: stop every process
    started = time.monotonic()
    built = company.build(args.stores)
    rows: list[dict[str, Any]] = []
    with scratch("voc-ws-e2e-") as tmp, databases(tmp, args.databases) as new_database:
        wsload = build_wsload(args.go, tmp)
        tree = company.write_tree(built, tmp / "company.yaml")
        bodies = [json.loads(b) for _, b in company.responses(built, BODIES, end=datetime.now(UTC))]
        for scenario in args.scenarios:
            for backend in args.databases:
                for n in range(1, args.runs + 1):
                    new = one_run(
                        scenario, new_database(backend), tree, built, bodies, wsload, tmp, args
                    )
                    for row in new:
                        rows.append(row | {"database": backend, "run": n})
                    ours = new[0]
                    print(
                        f"{scenario.name} {backend} run {n}: p99 {ours['p99']:.0f} ms, "
                        f"{ours['delivered']:.2%} delivered; floor p99 {new[1]['p99']:.0f} ms",
                        file=sys.stderr,
                    )
    print_report(rows, args)
    print(f"\nwall time: {time.monotonic() - started:.0f}s on {os.cpu_count()} cores")


def one_run(
    scenario: Scenario,
    database_url: str,
    tree: Path,
    built: company.Company,
    bodies: list[dict[str, Any]],
    wsload: Path,
    tmp: Path,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """A new stack; the floor, then the load; our row, the floor's row."""
    stores = [s.id for s in built.stores] if scenario.spread else [built.stores[0].id]
    with ExitStack() as stack:
        server = RedisServer(shutil.which("redis-server") or "redis-server", free_port(), tmp)
        server.start()
        stack.callback(server.stop)
        bootstrap = stack.enter_context(embedded_broker(tmp))
        env = args.env | {"VOC_REDIS_URL": server.url, "VOC_EMBEDDED_WORKERS": "0"}
        app = stack.enter_context(api(bootstrap, database_url, tmp, org_tree=tree, env=env))
        worker = stack.enter_context(worker_process(app, server.url, tmp, args.env))
        tokens = sign_in(app, built, stores)
        topic = Settings().responses_topic  # as the worker reads it, from the environment
        Producer(bootstrap, topic, 100, WARM_UP, stores, bodies, "warm-").run()
        wait_for(lambda: ingested(worker) >= WARM_UP, 90, "the warm-up responses to be stored")
        floor = floor_run(bootstrap, scenario.rate, args.floor_seconds, stores, bodies)
        prefix = f"e2e-{uuid.uuid4().hex[:8]}-"
        command = [str(wsload), "-mode", "voc", "-url", app.url.replace("http", "ws", 1) + "/ws"]
        command += ["-tokens", ",".join(tokens), "-units", ",".join(stores)]
        command += ["-clients", str(scenario.clients), "-rate", str(args.connect_rate)]
        command += ["-ready-timeout", f"{READY_TIMEOUT_S}s", "-id-prefix", prefix]
        ramp_s = scenario.clients / args.connect_rate + 60
        load = stack.enter_context(Wsload(command, tmp, ramp_s))
        ready = load.ready()
        if ready["failed"]:
            print(f"  {ready['failed']} clients failed to subscribe", file=sys.stderr)
        count = round(scenario.rate * args.seconds)
        producer = Producer(bootstrap, topic, scenario.rate, count, stores, bodies, prefix)
        sampler, tap = Sampler(app.url, worker), HubTap(server.url, prefix)
        for thread in (sampler, tap, producer):
            stack.callback(thread.stop)  # before the services they use, on an interruption
        before = Snapshot.take(app, worker, load.process.pid)
        sampler.start()
        tap.start()
        producer.start()
        producer.join()
        after = Snapshot.take(app, worker, load.process.pid)
        if producer.error is not None:
            raise producer.error
        total = WARM_UP + producer.sent
        drained = wait_until(lambda: ingested(worker) >= total and sampler.lag_s == 0, args.drain)
        time.sleep(SETTLE_S)
        sampler.stop()
        tap.stop()
        summary = load.finish()
    if not drained:
        print(f"  not drained within {args.drain:.0f}s: delivery cut short", file=sys.stderr)
    ours = {"scenario": scenario.name, "kind": "ours", "clients": scenario.clients}
    ours |= delivery(summary, producer, stores) | tap.figures()
    ours |= {"lag": sampler.max_lag_s, "ingest_lag": sampler.max_ingest_lag}
    ours |= diagnostics(before, after)
    return [ours, floor | {"scenario": scenario.name}]


def delivery(summary: dict[str, Any], producer: Producer, stores: list[str]) -> dict[str, Any]:
    """Rates, latency and completeness from wsload's summary: client i watched store
    i % len(stores) and should have got every response produced for it."""
    expected = [producer.per_store[stores[i % len(stores)]] for i in range(summary["clients"])]
    got = summary["client_distinct"]
    return {
        "asked": producer.rate,
        "sent": producer.sent / producer.window,
        **{k: summary["latency_ms"][k] for k in ("p50", "p90", "p99", "max")},
        "delivered": sum(got) / max(sum(expected), 1),
        "short": sum(1 for g, e in zip(got, expected, strict=True) if g < e),
        "failed": summary["failed"],
        "dropped": summary["dropped"],
        "codes": summary["close_codes"],
        "duplicates": summary["duplicates"],
    }


@contextmanager
def worker_process(
    app: Stack, redis_url: str, tmp: Path, extra: dict[str, str]
) -> Iterator[Worker]:
    """One `voc worker` on the API's broker, database and Redis; its metrics on a free port."""
    port = free_port()
    env = (
        os.environ
        | extra
        | {
            "VOC_KAFKA_BOOTSTRAP": app.bootstrap,
            "VOC_DATABASE_URL": app.database_url,
            "VOC_REDIS_URL": redis_url,
            "VOC_WORKER_METRICS_PORT": str(port),
            "VOC_MIGRATE_ON_START": "false",
            "VOC_LOG_LEVEL": "WARNING",
        }
    )
    with (tmp / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        worker = Worker(process.pid, f"http://127.0.0.1:{port}/metrics")
        wait_for(lambda: process.poll() is None and _answers(worker.metrics_url), 60, "the worker")
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def sign_in(app: Stack, built: company.Company, stores: Sequence[str]) -> list[str]:
    """A bearer token for each store, in order: frontline users of the store's region (one
    store: a few users of that store), sockets sharing their sessions."""
    if len(stores) == 1:
        users = [
            app.sign_in(f"phone-{i}", Role.FRONTLINE, stores) for i in range(USERS_ON_ONE_UNIT)
        ]
        return [h["Authorization"].removeprefix("Bearer ") for h in users]
    region_of = {s.id: s.region for s in built.stores}
    token = {}
    for region in dict.fromkeys(region_of[s] for s in stores):
        header = app.sign_in(f"phones-{region}", Role.FRONTLINE, [region])
        token[region] = header["Authorization"].removeprefix("Bearer ")
    return [token[region_of[s]] for s in stores]


class Producer(threading.Thread):
    """Sends `count` responses, `rate` a second on a fixed schedule (a late one does not move
    the next), each to a store drawn uniformly, its `submitted_at` the UTC time right before
    its send and its id `prefix` + a number."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        rate: float,
        count: int,
        stores: Sequence[str],
        bodies: Sequence[dict[str, Any]],
        prefix: str,
    ) -> None:
        super().__init__(name="produce", daemon=True)
        self._servers, self._topic, self._stores, self._bodies = bootstrap, topic, stores, bodies
        self.rate, self._count, self._prefix = rate, count, prefix
        self.per_store: Counter[str] = Counter()
        self._stopped = threading.Event()
        self.sent = 0
        self.window = 0.0
        self.error: Exception | None = None

    def run(self) -> None:
        rng = random.Random(7)
        producer = KafkaProducer(bootstrap_servers=self._servers, linger_ms=2, acks=1)
        try:
            start = time.monotonic()
            for i in range(self._count):
                if self._stopped.is_set():
                    return
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                store = rng.choice(self._stores)
                body = self._bodies[i % len(self._bodies)] | {
                    "response_id": f"{self._prefix}{i}",
                    "org_unit": store,
                    "submitted_at": datetime.now(UTC).isoformat(timespec="microseconds"),
                }
                value = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
                producer.send(self._topic, key=store.encode(), value=value)
                self.per_store[store] += 1
                self.sent += 1
            producer.flush(timeout=30)
            self.window = time.monotonic() - start
        except Exception as exc:
            self.error = exc
        finally:
            try:
                producer.close(timeout=0 if self._stopped.is_set() else 10)
            except KafkaError:
                if not self._stopped.is_set():
                    raise

    def stop(self) -> None:
        """Stop sending, without waiting for what is unsent."""
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=10)


def floor_run(
    bootstrap: str,
    rate: float,
    seconds: float,
    stores: Sequence[str],
    bodies: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Produce → consume alone: the same responses, rate and broker, another topic; a consumer
    thread fetching as the worker does times each from its `submitted_at`."""
    topic = f"floor-{uuid.uuid4().hex[:8]}"
    ensure_topics(Settings(kafka_bootstrap=bootstrap, responses_topic=topic))
    waits: list[float] = []
    ready, done = threading.Event(), threading.Event()

    def consume() -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        try:
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
            consumer.assign(partitions)
            consumer.seek_to_end()
            for tp in partitions:
                consumer.position(tp)
            ready.set()
            while not done.is_set():
                for batch in consumer.poll(timeout_ms=100).values():
                    now = time.time()
                    for record in batch:
                        stamp = json.loads(record.value)["submitted_at"]
                        waits.append(now - datetime.fromisoformat(stamp).timestamp())
        finally:
            consumer.close()

    reader = threading.Thread(target=consume, name="floor-consume", daemon=True)
    reader.start()
    if not ready.wait(30):
        raise SystemExit("the floor's consumer never got its partitions")
    producer = Producer(bootstrap, topic, rate, round(rate * seconds), stores, bodies, "floor-")
    producer.run()
    if producer.error is not None:
        raise producer.error
    wait_until(lambda: len(waits) >= producer.sent, 30)
    done.set()
    reader.join(timeout=10)
    ordered = sorted(w * 1000 for w in waits)
    if not ordered:
        raise SystemExit("the floor's consumer read nothing")
    return {
        "kind": "floor",
        "asked": producer.rate,
        "sent": producer.sent / producer.window,
        **{k: percentile(ordered, q) for k, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
        "max": ordered[-1],
        "delivered": len(waits) / producer.sent,
    }


class HubTap(threading.Thread):
    """Times each comment of the run as the worker publishes it to Redis: produce → hub, the
    part of the latency before the API."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        super().__init__(name="hub-tap", daemon=True)
        self._client = redis.Redis.from_url(redis_url)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(Settings(redis_url=redis_url).redis_channel)
        self._marker, self._done = b'"response_id":"' + prefix.encode(), threading.Event()
        self.waits: list[float] = []
        self.error: Exception | None = None

    def run(self) -> None:
        while not self._done.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.2)
            except redis.RedisError as exc:  # Redis went first (Ctrl-C reaches it too)
                self.error = exc
                return
            if message is None:
                continue
            now, data = time.time(), message["data"]
            if b'"type":"comment"' in data and self._marker in data:
                stamp = json.loads(data)["data"]["submitted_at"]
                self.waits.append(now - datetime.fromisoformat(stamp).timestamp())

    def stop(self) -> None:
        if not self._done.is_set():
            self._done.set()
            if self.is_alive():
                self.join(timeout=10)
            self._pubsub.close()
            self._client.close()

    def figures(self) -> dict[str, float]:
        """p50 and p99 ms."""
        if self.error is not None:
            raise SystemExit(f"lost the hub's Redis: {self.error}")
        ordered = sorted(w * 1000 for w in self.waits) or [0.0]
        return {"hub_p50": percentile(ordered, 0.5), "hub_p99": percentile(ordered, 0.99)}


class Sampler(threading.Thread):
    """Every SAMPLE_S: the API's /readyz delivery lag and the worker's ingest lag; the maxima."""

    def __init__(self, api_url: str, worker: Worker) -> None:
        super().__init__(name="sample", daemon=True)
        self._api_url, self._worker, self._done = api_url, worker, threading.Event()
        self.lag_s = self.max_lag_s = 0.0
        self.max_ingest_lag = 0.0

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._done.wait(SAMPLE_S):
                try:
                    self.lag_s = client.get(self._api_url + "/readyz").json()["delivery"]["lag_s"]
                    lag = metric_sums(client.get(self._worker.metrics_url).text)
                except httpx.HTTPError:
                    continue
                self.max_lag_s = max(self.max_lag_s, self.lag_s)
                self.max_ingest_lag = max(self.max_ingest_lag, lag.get("voc_ingest_lag", 0.0))

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=10)


@dataclass(frozen=True)
class Snapshot:
    """At one time: CPU seconds of this script ("bench": the producer) and of each process it
    started, by name; the machine's jiffies; the API's metrics."""

    at: float
    cpu: dict[str, float]
    waited: dict[str, float]
    busy: int
    ticks: int
    metrics: dict[str, float]

    @classmethod
    def take(cls, app: Stack, worker: Worker, wsload: int) -> Snapshot:
        at = time.monotonic()
        busy, ticks = machine_ticks()
        names = {app.pid: "api", worker.pid: "worker", wsload: "wsload"}
        cpu = {"bench": cpu_seconds(os.getpid())}
        for pid, comm in children():
            # The other children: redis-server, the embedded broker, PostgreSQL if started.
            name = names.get(pid) or next((n for n in ("redis", "postgres") if n in comm), "broker")
            cpu[name] = cpu.get(name, 0.0) + cpu_seconds(pid)
        waited = {"api": run_delay(app.pid), "worker": run_delay(worker.pid)}
        metrics = metric_sums(httpx.get(app.url + "/metrics", timeout=10).text)
        return cls(at, cpu, waited, busy, ticks, metrics)

    def cores(self, before: Snapshot) -> dict[str, float]:
        """CPU cores each process used since `before`; "rest": what else the machine ran."""
        window = self.at - before.at
        used = {k: (v - before.cpu.get(k, 0.0)) / window for k, v in self.cpu.items()}
        busy = (self.busy - before.busy) / max(self.ticks - before.ticks, 1)
        return used | {"rest": busy * (os.cpu_count() or 1) - sum(used.values())}

    def waits(self, before: Snapshot) -> dict[str, float]:
        """Seconds a second the API's and the worker's threads were ready to run but waited
        for a core since `before`."""
        window = self.at - before.at
        return {f"{k}_waited": (v - before.waited[k]) / window for k, v in self.waited.items()}


def run_delay(pid: int) -> float:
    """Seconds the process's threads have spent runnable, waiting for a core (schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e9


def children() -> Iterator[tuple[int, str]]:
    """(pid, command name) of this process's children."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1]
            if int(rest.split()[1]) == me:
                yield int(entry.name), comm


def diagnostics(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """Over the window: CPU by process, the machine, and where the API's time went."""
    window = after.at - before.at

    def delta(name: str) -> float:
        return after.metrics.get(name, 0.0) - before.metrics.get(name, 0.0)

    computed = delta("voc_live_barometer_seconds_count")
    return {
        "cores": after.cores(before),
        **after.waits(before),
        "busy": (after.busy - before.busy) / max(after.ticks - before.ticks, 1),
        "barometers": computed / window,
        "barometer_ms": delta("voc_live_barometer_seconds_sum") / max(computed, 1) * 1000,
        "barometer_s": delta("voc_live_barometer_seconds_sum") / window,
        "batches": delta("voc_ws_batch_frames_total") / window,
        "slow": delta("voc_ws_slow_disconnects_total"),
        "gaps": delta("voc_hub_gaps_total"),
    }


def metric_sums(text: str) -> dict[str, float]:
    """Prometheus text: each sample name with its values summed over the labels."""
    sums: dict[str, float] = {}
    for name, value in re.findall(r"^([a-z_:]+)(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE):
        sums[name] = sums.get(name, 0.0) + float(value)
    return sums


def ingested(worker: Worker) -> float:
    try:
        text = httpx.get(worker.metrics_url, timeout=5).text
    except httpx.HTTPError:
        return 0.0
    return metric_sums(text).get("voc_responses_ingested_total", 0.0)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    if not wait_until(condition, timeout_s):
        raise SystemExit(f"waited {timeout_s:.0f}s for {what}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _codes(codes: dict[str, int]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(codes.items())) or "-"


COLUMNS: dict[str, Callable[[dict[str, Any]], str]] = {
    "scenario": lambda r: r["scenario"] if r["kind"] == "ours" else f"{r['scenario']} floor",
    "db": lambda r: r["database"],
    "run": lambda r: str(r["run"]),
    "clients": lambda r: f"{r['clients']:,.0f}" if r["kind"] == "ours" else "-",
    "asked/s": lambda r: f"{r['asked']:,.0f}",
    "sent/s": lambda r: f"{r['sent']:,.0f}",
    "p50 ms": lambda r: f"{r['p50']:.1f}",
    "p90 ms": lambda r: f"{r['p90']:.1f}",
    "p99 ms": lambda r: f"{r['p99']:.1f}",
    "max ms": lambda r: f"{r['max']:.1f}",
    "delivered": lambda r: f"{r['delivered']:.2%}",
    "clients short": lambda r: _ours(r, "{short}"),
    "dropped (codes)": lambda r: (
        _ours(r, "{dropped}") + (f" ({_codes(r['codes'])})" if r.get("dropped") else "")
    ),
    "API cores": lambda r: f"{r['cores']['api']:.2f}" if r["kind"] == "ours" else "-",
    "worker cores": lambda r: f"{r['cores']['worker']:.2f}" if r["kind"] == "ours" else "-",
    "lag_s max": lambda r: _ours(r, "{lag:.3f}"),
    "machine busy": lambda r: _ours(r, "{busy:.0%}"),
}
WHERE = {
    "scenario": lambda r: r["scenario"],
    "db": lambda r: r["database"],
    "run": lambda r: str(r["run"]),
    "to hub p50": lambda r: f"{r['hub_p50']:.1f}",
    "to hub p99": lambda r: f"{r['hub_p99']:.1f}",
    "barometers/s": lambda r: f"{r['barometers']:,.0f}",
    "ms each": lambda r: f"{r['barometer_ms']:.1f}",
    "barometer s/s": lambda r: f"{r['barometer_s']:.2f}",
    "batch frames/s": lambda r: f"{r['batches']:,.0f}",
    "slow closes": lambda r: f"{r['slow']:.0f}",
    "gaps": lambda r: f"{r['gaps']:.0f}",
    "ingest lag max": lambda r: f"{r['ingest_lag']:,.0f}",
    "failed": lambda r: f"{r['failed']}",
    "dup": lambda r: f"{r['duplicates']}",
}


def _cores(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{r['cores'].get(name, 0.0):.2f}"


PROCESSES = ("api", "worker", "wsload", "broker", "redis", "postgres", "bench", "rest")


def cpu_columns(rows: list[dict[str, Any]]) -> dict[str, Callable[[dict[str, Any]], str]]:
    """Scenario, database, then the cores of each process that ran, and the machine's busy."""
    ran = [n for n in PROCESSES if any(n in r["cores"] for r in rows)]
    return {
        "scenario": lambda r: r["scenario"],
        "db": lambda r: r["database"],
        **{n: _cores(n) for n in ran},
        "machine busy": lambda r: f"{r['busy']:.0%}",
        "api waited": lambda r: f"{r['api_waited']:.2f}",
        "worker waited": lambda r: f"{r['worker_waited']:.2f}",
    }


def _ours(row: dict[str, Any], spec: str) -> str:
    return spec.format(**row) if row["kind"] == "ours" else "-"


def table(
    title: str, columns: dict[str, Callable[[dict[str, Any]], str]], rows: list[dict[str, Any]]
) -> None:
    """A markdown table, its columns aligned for reading in a terminal too."""
    cells = [[cell(row) for cell in columns.values()] for row in rows]
    widths = [max(map(len, c)) for c in zip(columns, *cells, strict=True)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + " |")


def medians(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario, database and kind, the median of each figure; dropped, failed, clients
    short and duplicates: the worst run; close codes: all runs."""
    out = []
    for key in dict.fromkeys((r["scenario"], r["database"], r["kind"]) for r in rows):
        group = [r for r in rows if (r["scenario"], r["database"], r["kind"]) == key]
        row = dict(group[0]) | {"run": "med"}
        for k, v in group[0].items():
            if isinstance(v, float | int) and k != "run":
                row[k] = statistics.median(g[k] for g in group)
        for k in ("dropped", "short", "failed", "duplicates"):
            if k in row:
                row[k] = max(g[k] for g in group)
        if "codes" in row:
            row["codes"] = sum((Counter(g["codes"]) for g in group), Counter())
        if "cores" in row:
            row["cores"] = {
                k: statistics.median(g["cores"].get(k, 0.0) for g in group) for k in row["cores"]
            }
        out.append(row)
    return out


def print_report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    title = f"produce → comment on screen, {args.seconds:g} s a run, {args.stores} stores"
    table(f"Each run: {title}", COLUMNS, rows)
    table(f"Medians of {args.runs} run(s): {title}", COLUMNS, medians(rows))
    ours = [r for r in rows if r["kind"] == "ours"]
    table("Where the time went (each run, over the window)", WHERE, ours)
    table("CPU cores by process over the window (medians)", cpu_columns(ours), medians(ours))
    print(NOTES)


NOTES = """
- ms: from the response's submitted_at (taken right before its send) to its comment event at
  the client; floor: to the consumer's poll; to hub: to the worker's publish on Redis, as a
  subscriber there sees it (the part before the API).
- delivered: distinct comments received / responses produced for each client's store, over all
  clients; clients short: clients missing at least one; dropped: clients the server closed
  (medians: the worst run; close codes: all runs).
- cores: CPU of the process over the producer's window (bench: this script, i.e. the producer
  and samplers; rest: whatever else the machine ran, PostgreSQL's server included); machine
  busy: both cores, every process.
- waited: seconds a second the process's threads were ready to run but had no core
  (/proc/PID/task/*/schedstat): how much the machine's two cores held it back.
- lag_s max: the API's /readyz delivery.lag_s; ingest lag max: the worker's voc_ingest_lag
  (messages); both the highest sample, every 0.25 s.
- barometers: voc_live_barometer_seconds over the window: computations a second, their mean,
  and seconds of computation a second (wall time in threads: it can exceed the API's cores)."""


def parse_args() -> argparse.Namespace:
    parser = parser_of(__doc__)
    add = parser.add_argument
    add("--scenarios", default="one-unit,spread", help="comma-separated: one-unit (A), spread (B)")
    add("--runs", type=int, default=3, help="runs of each scenario and database; medians")
    add(
        "--seconds",
        type=float,
        default=30,
        help="the producer's window, once every client is ready",
    )
    add("--stores", type=int, default=250, help="stores of the generated company")
    add("--one-unit-clients", type=int, default=200)
    add("--one-unit-rate", type=float, default=500, help="responses a second, all for one store")
    add("--spread-clients", type=int, default=1000)
    add("--spread-rate", type=float, default=1000, help="responses a second over every store")
    add("--floor-seconds", type=float, default=10, help="the produce → consume floor's window")
    add(
        "--drain",
        type=float,
        default=60,
        help="most seconds to wait for the backlog after the window",
    )
    add("--connect-rate", type=float, default=500, help="new connections a second (not measured)")
    add("--databases", type=backends, default=["sqlite"], help="sqlite, postgresql or both")
    add("--go", default=shutil.which("go") or "go", help="the go command")
    add(
        "--env",
        action="append",
        default=[],
        metavar="VOC_NAME=VALUE",
        help="a setting for the API and the worker, e.g. VOC_LIVE_BAROMETER_EVERY_MS=1000",
    )
    args = parser.parse_args()
    if any("=" not in e or not e.startswith("VOC_") for e in args.env):
        parser.error("--env: VOC_NAME=VALUE")
    args.env = dict(e.split("=", 1) for e in args.env)
    known = {
        "one-unit": Scenario("one-unit", args.one_unit_clients, args.one_unit_rate, spread=False),
        "spread": Scenario("spread", args.spread_clients, args.spread_rate, spread=True),
    }
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    if not names or set(names) - set(known):
        parser.error("--scenarios: one-unit, spread or both")
    args.scenarios = [known[n] for n in names]
    if shutil.which("redis-server") is None:
        parser.error("redis-server is not installed (deploy/install-services.sh installs it)")
    return args


if __name__ == "__main__":
    main()
