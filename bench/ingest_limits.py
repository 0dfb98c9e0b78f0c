"""How close one ingest worker comes to its limits: consuming alone, scoring alone, and the whole.

Produces N responses of a generated company (app/company.py, the last day, keyed by store) to a
topic of an embedded broker once, then measures on those same messages, each several runs:

  (a) a bare kafka-python consumer reading them from the start and parsing their JSON: what
      consuming alone allows;
  (b) the product's scorer, `CommentScorer(...).assess`, on them as `SurveyResponse`s: what
      sentiment alone allows (validating the JSON into `SurveyResponse`s is shown beside it);
  (c) one `voc api` process, its one embedded worker storing them on SQLite and on PostgreSQL:
      each run a new database and consumer group on the same topic. Timed from the first row
      stored (the group join and the first batch left out) to the last, as
      bench/ingest_throughput.py times it; CPU from /proc for the API process, over the same span.

and prints (c) as a share of min(a, b): what the rest of the worker (validation, alert rules,
the database, publishing) costs. Medians of the runs.

    python bench/ingest_limits.py [--n 5000] [--runs 3] [--units 50] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import company  # noqa: E402
from app.broker.topics import ensure_topics  # noqa: E402
from app.core.events import SurveyResponse  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.db import store  # noqa: E402
from bench.ingest_throughput import count  # noqa: E402
from bench.scale_out import cpu_seconds, machine_ticks  # noqa: E402
from bench.stack import api, backends, databases, embedded_broker, scratch  # noqa: E402
from sentiment import CommentScorer  # noqa: E402

# As bench/ingest_throughput.py polls the database's count.
POLL_S = 0.02
STORE_TIMEOUT_S = 180
CONSUME_TIMEOUT_S = 60
SEED = 5


@dataclass(frozen=True)
class WorkerRun:
    rate: float
    cpu_ms: float
    """CPU milliseconds of the API process per response stored."""
    busy: float
    """The whole machine's share of CPU time not idle meanwhile (the database's included)."""


def produce(bootstrap: str, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
    ensure_topics(Settings(kafka_bootstrap=bootstrap, responses_topic=topic))
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        for unit, value in records:
            producer.send(topic, key=unit.encode(), value=value)
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)


def consume(bootstrap: str, topic: str, n: int) -> float:
    """Seconds to read the topic's first `n` messages and parse each; fetches as the worker."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=1024 * 1024,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        started, read = time.perf_counter(), 0
        deadline = time.monotonic() + CONSUME_TIMEOUT_S
        while read < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"read only {read} of {n} messages in {CONSUME_TIMEOUT_S}s")
            for batch in consumer.poll(timeout_ms=500, max_records=500).values():
                for record in batch:
                    json.loads(record.value)
                read += len(batch)
        return time.perf_counter() - started
    finally:
        consumer.close()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def worker(
    bootstrap: str, topic: str, tree: Path, database_url: str, tmp: Path, n: int
) -> WorkerRun:
    """One `voc api` with a new database and consumer group storing the topic's `n` messages."""
    env = {"VOC_RESPONSES_TOPIC": topic, "VOC_CONSUMER_GROUP": f"voc-limits-{uuid.uuid4().hex}"}
    engine = store.make_engine(database_url)
    try:
        with api(bootstrap, database_url, tmp, org_tree=tree, env=env) as stack:
            deadline = time.monotonic() + STORE_TIMEOUT_S
            wait_for(lambda: count(engine) > 0, deadline)
            t0, cpu0, at_first = time.monotonic(), cpu_seconds([stack.pid]), count(engine)
            busy0, all0 = machine_ticks()
            wait_for(lambda: count(engine) >= n, deadline, f"{n} rows")
            t1, cpu1 = time.monotonic(), cpu_seconds([stack.pid])
            busy1, all1 = machine_ticks()
    finally:
        engine.dispose()
    stored = n - at_first
    if stored < n // 2:
        raise SystemExit(f"{at_first} of {n} were stored before timing began: raise --n")
    busy = (busy1 - busy0) / max(all1 - all0, 1)
    return WorkerRun(stored / (t1 - t0), (cpu1 - cpu0) * 1000 / stored, busy)


def wait_for(done: Callable[[], bool], deadline: float, what: str = "the first row") -> None:
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {what} within {STORE_TIMEOUT_S}s")
        time.sleep(POLL_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="responses (messages)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--units", type=int, default=50, help="stores of the company")
    parser.add_argument("--databases", type=backends, default="sqlite,postgresql")
    args = parser.parse_args()
    # Unwind as on Ctrl-C, so every process started here is stopped (`timeout` sends SIGTERM).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with scratch("voc-limits-") as tmp:
        seconds, workers = measure(tmp, args)
    report(args, seconds, workers)


def measure(
    tmp: Path, args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, list[WorkerRun]]]:
    firm = company.build(args.units, seed=SEED)
    tree = company.write_tree(firm, tmp / "org_tree.yaml")
    end = datetime.now(UTC)
    records = list(company.responses(firm, args.n, end=end, days=1, seed=SEED))
    responses = [SurveyResponse.model_validate_json(value) for _, value in records]
    scorer = CommentScorer(Settings().sentiment_negative_from)
    for response in responses[:50]:  # models and lexicons load on first use
        scorer.assess(response)
    topic = f"voc.limits.{uuid.uuid4().hex[:8]}"
    seconds: dict[str, list[float]] = {"consume": [], "validate": [], "score": []}
    workers: dict[str, list[WorkerRun]] = {b: [] for b in args.databases}
    with embedded_broker(tmp) as bootstrap, databases(tmp, args.databases) as new_database:
        produce(bootstrap, topic, records)
        for _ in range(args.runs):
            seconds["consume"].append(consume(bootstrap, topic, args.n))
            seconds["validate"].append(
                timed(lambda: [SurveyResponse.model_validate_json(v) for _, v in records])
            )
            seconds["score"].append(timed(lambda: [scorer.assess(r) for r in responses]))
        for backend in args.databases:
            for _ in range(args.runs):
                run = worker(bootstrap, topic, tree, new_database(backend), tmp, args.n)
                workers[backend].append(run)
    return seconds, workers


def report(
    args: argparse.Namespace, seconds: dict[str, list[float]], workers: dict[str, list[WorkerRun]]
) -> None:
    rates = {stage: args.n / statistics.median(s) for stage, s in seconds.items()}
    limit = min(rates["consume"], rates["score"])
    print(f"\n{args.n} responses of a {args.units}-store company, medians of {args.runs} runs")
    header = f"{'stage':<44}{'responses/s':>12}{'µs each':>9}{'CPU ms each':>12}{'of limit':>9}"
    print(header + f"{'busy':>6}")
    labels = {
        "consume": "(a) kafka-python consumer + json.loads",
        "score": "(b) CommentScorer.assess",
        "validate": "    (validate into SurveyResponse)",
    }
    for stage in ("consume", "score", "validate"):
        print(f"{labels[stage]:<44}{rates[stage]:>12,.0f}{1e6 / rates[stage]:>9,.0f}")
    for backend, runs in workers.items():
        rate = statistics.median(r.rate for r in runs)
        cpu = statistics.median(r.cpu_ms for r in runs)
        busy = statistics.median(r.busy for r in runs)
        label = f"(c) one worker, {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"
        line = f"{label:<44}{rate:>12,.0f}{1e6 / rate:>9,.0f}{cpu:>12.2f}{rate / limit:>9.0%}"
        print(line + f"{busy:>6.0%}")
        print(f"{'':<4}runs, responses/s: {', '.join(f'{r.rate:,.0f}' for r in runs)}")
    print("of limit: (c) as a share of min(a, b); CPU: the API process's, all its threads;")
    print(f"busy: the whole machine's CPU not idle during (c), all {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
