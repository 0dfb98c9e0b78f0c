"""Responses a second through 1 and through 2 standalone ingest workers sharing one group.

Starts Apache Kafka (deploy/kafka.sh), Redis and PostgreSQL on loopback. For each worker count
it makes a fresh database (migrated, demo org tree loaded) and a fresh topic with --partitions
partitions, starts that many `voc worker` processes in one consumer group, waits until the
group is stable with every worker in it and a warm-up batch is stored, then for each run
produces N responses keyed by org unit and times the span from the first send to the last row
in the database; then the same with SQLite. Prints each run's rate, how the run's responses
fell on the workers' partitions, and the CPU time each process spent, to show the bottleneck.

    python bench/scale_out.py [--n 5000] [--runs 3] [--partitions 4] [--databases postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broker.embedded import free_port  # noqa: E402
from app.broker.topics import ensure_topics  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.db import directory, store  # noqa: E402
from app.demo import DEMO_TREE, generate  # noqa: E402
from app.orgfile import read_units  # noqa: E402
from tests.harness import RedisServer  # noqa: E402
from tests.pg import create_database, start_postgres  # noqa: E402

WORKER_COUNTS = (1, 2)
WARM_UP = 200
JOIN_TIMEOUT_S = 60
STORE_TIMEOUT_S = 120
POLL_S = 0.02
CPU_COLUMNS = ("workers", "kafka", "postgres", "redis", "bench")


@dataclass(frozen=True)
class Services:
    bootstrap: str
    redis_url: str
    new_database: Callable[[str], str]
    pids: Callable[[], dict[str, list[int]]]
    """The processes of each service now, by name, for the CPU each one spends in a run."""


@dataclass(frozen=True)
class Run:
    backend: str
    workers: int
    run: int
    produced_s: float
    stored_s: float
    busy: float
    """The machine's share of CPU time not idle during the run, all cores."""
    top_share: float
    """The share of the run's responses on the partitions of the busiest worker."""
    cpu_s: dict[str, float]


@contextmanager
def apache_kafka(tmp: Path) -> Iterator[tuple[str, int]]:
    """Its bootstrap address and the JVM's pid."""
    home = tmp / "kafka"
    port, controller_port = free_port(), free_port()
    script = str(ROOT / "deploy/kafka.sh")
    try:
        started = subprocess.run(
            ["bash", script, "start", str(home), str(port), str(controller_port)],
            capture_output=True,
            text=True,
            timeout=150,
            stdin=subprocess.DEVNULL,
        )
        if started.returncode != 0:
            raise SystemExit(f"Apache Kafka did not start: {started.stderr[-2000:]}")
        yield started.stdout.strip().splitlines()[-1], int((home / "kafka.pid").read_text())
    finally:
        subprocess.run(["bash", script, "stop", str(home)], timeout=60, check=False)


@contextmanager
def services(tmp: Path) -> Iterator[Services]:
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("redis-server is not installed (deploy/install-services.sh installs it)")
    with ExitStack() as stack:
        bootstrap, kafka_pid = stack.enter_context(apache_kafka(tmp))
        redis = RedisServer(redis_binary, free_port(), tmp)
        redis.start()
        stack.callback(redis.stop)
        assert redis.process is not None
        redis_pid = redis.process.pid
        pg_url, stop_pg = start_postgres()
        stack.callback(stop_pg)
        postmaster = _postmaster_pid(pg_url)

        def new_database(backend: str) -> str:
            if backend == "sqlite":
                return f"sqlite:///{tmp / f'voc-{uuid.uuid4().hex[:8]}.db'}"
            return create_database(pg_url)

        def pids() -> dict[str, list[int]]:
            return {
                "kafka": [kafka_pid],
                "postgres": [postmaster, *_children(postmaster)],
                "redis": [redis_pid],
                "bench": [os.getpid()],
            }

        yield Services(bootstrap, redis.url, new_database, pids)


def _postmaster_pid(server_url: str) -> int:
    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    return int((Path(row[0]) / "postmaster.pid").read_text().split()[0])


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have spent; a process gone since counts nothing."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """Busy and total jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def prepare_database(url: str) -> None:
    """The newest schema and the demo org tree: workers dead-letter responses of unknown units."""
    engine = store.make_engine(url)
    try:
        store.migrate(engine)
        directory.save_units(engine, read_units(DEMO_TREE))
    finally:
        engine.dispose()


def count(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT count(*) FROM responses")).scalar_one())


@dataclass
class Workers:
    """`voc worker` processes, each logging to its own file."""

    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    @classmethod
    def start(cls, n: int, env: dict[str, str], logs_as: Path) -> Workers:
        workers = cls([], [logs_as.with_name(f"{logs_as.name}-{i}.log") for i in range(n)])
        for log in workers.logs:
            with log.open("ab") as out:
                workers.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "app.cli", "worker"],
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        return workers

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def check_alive(self) -> None:
        for worker, log in zip(self.processes, self.logs, strict=True):
            if worker.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"worker {worker.pid} exited with {worker.returncode}:\n{tail}")

    def stop(self) -> None:
        for worker in self.processes:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.processes:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)


def wait_count(engine: sa.Engine, n: int, workers: Workers) -> float:
    """When the database holds `n` responses; polled, so up to one interval late."""
    deadline = time.monotonic() + STORE_TIMEOUT_S
    while time.monotonic() < deadline:
        if count(engine) >= n:
            return time.monotonic()
        workers.check_alive()
        time.sleep(POLL_S)
    raise SystemExit(f"only {count(engine)} of {n} rows after {STORE_TIMEOUT_S}s")


def wait_joined(bootstrap: str, group: str, partitions: int, workers: Workers) -> list[set[int]]:
    """Until the group is stable with every worker in it and every partition assigned.

    A member can join before it has the new topic's metadata, get no partitions and rejoin
    later, so a stable group of the right size is not enough. Returns each member's partitions.
    """
    n = len(workers.processes)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="voc-bench-admin")
    try:
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while time.monotonic() < deadline:
            workers.check_alive()
            try:
                info = admin.describe_groups([group])[group]
            except KafkaError:
                # The coordinator is not known until the broker has made its offsets topic.
                info = {"group_state": "", "members": []}
            assigned = [_partitions(m) for m in info["members"]]
            stable = info["group_state"] == "Stable" and len(assigned) == n
            if stable and set().union(*assigned) == set(range(partitions)):
                return assigned
            time.sleep(0.2)
    finally:
        admin.close()
    raise SystemExit(f"{n} worker(s) did not all get partitions in {JOIN_TIMEOUT_S}s")


def _partitions(member: dict[str, Any]) -> set[int]:
    assignment = member["member_assignment"]
    if not isinstance(assignment, dict):  # not decoded: nothing assigned yet
        return set()
    return {p for topic in assignment["assigned_partitions"] for p in topic["partitions"]}


def measure(
    backend: str, n_workers: int, svc: Services, tmp: Path, args: argparse.Namespace
) -> list[Run]:
    """Runs of N responses through `n_workers` workers on a fresh database and topic."""
    tag = f"{backend}-{n_workers}w-{uuid.uuid4().hex[:6]}"
    database_url = svc.new_database(backend)
    prepare_database(database_url)
    settings = Settings(
        kafka_bootstrap=svc.bootstrap,
        responses_topic=f"voc.bench.{tag}",
        consumer_group=f"voc-bench-{tag}",
        topic_partitions=args.partitions,
    )
    # Topics are not created on first use; made here so the first send has a topic to go to.
    ensure_topics(settings)
    env = os.environ | {
        "VOC_KAFKA_BOOTSTRAP": svc.bootstrap,
        "VOC_DATABASE_URL": database_url,
        "VOC_REDIS_URL": svc.redis_url,
        "VOC_RESPONSES_TOPIC": settings.responses_topic,
        "VOC_CONSUMER_GROUP": settings.consumer_group,
        "VOC_TOPIC_PARTITIONS": str(args.partitions),
        "VOC_MIGRATE_ON_START": "false",
        "VOC_LOG_LEVEL": "WARNING",
    }
    rng = random.Random(42)
    engine = store.make_engine(database_url)
    producer = KafkaProducer(
        bootstrap_servers=svc.bootstrap,
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        request_timeout_ms=30_000,
    )
    workers = Workers.start(n_workers, env, tmp / f"worker-{tag}")
    runs: list[Run] = []

    def produce(how_many: int) -> tuple[float, float, list[FutureRecordMetadata]]:
        payloads = [
            (r.org_unit.encode(), r.model_dump_json().encode())
            for r in (generate(rng, datetime.now(UTC)) for _ in range(how_many))
        ]
        t0 = time.monotonic()
        sent = [producer.send(settings.responses_topic, key=k, value=v) for k, v in payloads]
        producer.flush(timeout=60)
        return t0, time.monotonic(), sent

    try:
        assigned = wait_joined(svc.bootstrap, settings.consumer_group, args.partitions, workers)
        # Every unit at least once, so each worker has read its units' history before timing.
        produce(WARM_UP)
        total = WARM_UP
        wait_count(engine, total, workers)
        for run in range(1, args.runs + 1):
            pids = {"workers": workers.pids, **svc.pids()}
            cpu0 = {name: cpu_seconds(p) for name, p in pids.items()}
            busy0, all0 = machine_ticks()
            t0, t_produced, sent = produce(args.n)
            total += args.n
            t1 = wait_count(engine, total, workers)
            busy1, all1 = machine_ticks()
            cpu = {name: cpu_seconds(p) - cpu0[name] for name, p in pids.items()}
            busy = (busy1 - busy0) / max(all1 - all0, 1)
            on = Counter(f.get(timeout=0).partition for f in sent)
            top = max(sum(on[p] for p in partitions) for partitions in assigned) / args.n
            runs.append(Run(backend, n_workers, run, t_produced - t0, t1 - t0, busy, top, cpu))
    finally:
        workers.stop()
        producer.close(timeout=10)
        engine.dispose()
    return runs


def report(runs: list[Run], n: int, partitions: int) -> None:
    print(f"\nStandalone workers, one group, Apache Kafka, {partitions} partitions, {n} a run")
    print(f"{'':70}{'CPU seconds during the run':^45}")
    header = f"{'database':>10} {'workers':>7} {'run':>3} {'produce s':>9} {'stored s':>8} "
    header += f"{'responses/s':>11} {'top worker':>10} {'busy':>5}"
    header += "".join(f"{c:>9}" for c in CPU_COLUMNS)
    print(header)
    for r in runs:
        line = f"{r.backend:>10} {r.workers:>7} {r.run:>3} {r.produced_s:>9.2f} {r.stored_s:>8.2f} "
        line += f"{n / r.stored_s:>11.0f} {r.top_share:>10.0%} {r.busy:>5.0%}"
        print(line + "".join(f"{r.cpu_s[c]:>9.2f}" for c in CPU_COLUMNS))
    for backend in dict.fromkeys(r.backend for r in runs):
        medians = {
            w: statistics.median(
                n / r.stored_s for r in runs if (r.backend, r.workers) == (backend, w)
            )
            for w in WORKER_COUNTS
        }
        line = ", ".join(f"{w} worker(s) {m:.0f}" for w, m in medians.items())
        ratio = medians[WORKER_COUNTS[-1]] / medians[WORKER_COUNTS[0]]
        print(f"{backend}: median responses/s: {line}; ratio {ratio:.2f}")
    print(
        "top worker: the run's share on the busiest worker's partitions (2 workers can be at "
        "most 1/share times as fast as 1); busy: the whole machine's, other processes included"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="responses a run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--databases", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite"
    )
    args = parser.parse_args()
    # Unwind as on Ctrl-C, so every process started here is stopped (`timeout` sends SIGTERM).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    backends = [b.strip() for b in args.databases.split(",") if b.strip()]
    if not backends or set(backends) - {"postgresql", "sqlite"}:
        parser.error("--databases: postgresql, sqlite or both")
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="voc-scale-"))
    runs: list[Run] = []
    try:
        with services(tmp) as svc:
            for backend in backends:
                for n_workers in WORKER_COUNTS:
                    runs += measure(backend, n_workers, svc, tmp, args)
    except KeyboardInterrupt:
        sys.exit(f"interrupted; logs kept in {tmp}")
    except BaseException:
        print(f"logs kept in {tmp}", file=sys.stderr)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    report(runs, args.n, args.partitions)
    print(f"wall time: {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
