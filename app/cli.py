"""The `voc` command: run the API, a worker, the whole embedded stack, demo traffic, migrations."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx
from pydantic import TypeAdapter, ValidationError

from app import demo, directory_cli, logs
from app.core.events import HubEvent, SurveyResponse
from app.core.languages import NAMES
from app.core.settings import Settings

log = logging.getLogger("voc")
# `voc company` says how far it got on a long load.
PROGRESS_EVERY = 100_000


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  VOC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        ]
        sys.exit("invalid settings:\n" + "\n".join(lines))


def _check_port_free(host: str, port: int, variable: str = "VOC_PORT (or VOC_HOST)") -> None:
    with socket.socket() as s:
        # As uvicorn binds: connections of a previous run in TIME_WAIT do not block the port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            sys.exit(f"{host}:{port} is already in use; set {variable} to another one")


def _check_themes(settings: Settings) -> None:
    """A taxonomy that cannot be read stops the start with what is wrong, before any socket."""
    from app.db.taxonomy import from_file
    from sentiment.themes import DEFAULT_FILE, TaxonomyError

    try:
        from_file(settings.themes_file or DEFAULT_FILE)
    except TaxonomyError as exc:
        sys.exit(f"VOC_THEMES_FILE: {exc}")


def cmd_api(settings: Settings, _: argparse.Namespace) -> None:
    import uvicorn

    from app.main import create_app

    _check_themes(settings)

    if not settings.integrator_keys:
        log.warning("VOC_INTEGRATOR_KEYS is empty: every REST ingest will be refused (401)")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # Compressing every frame for every socket would cost more CPU than the rest of a write,
        # and a zlib context of memory per socket; our frames are small JSON.
        ws_per_message_deflate=False,
    )


def cmd_worker(settings: Settings, _: argparse.Namespace) -> None:
    from alerts.rules import DEFAULT_RULES, load_rules
    from app.broker.topics import ensure_topics
    from app.db import directory, store
    from app.db.taxonomy import TaxonomyCache, from_file
    from app.hub import make_hub
    from app.notifications import AlertNotifier
    from ingest.assembly import build_worker
    from ingest.worker import run_worker
    from sentiment import CommentScorer
    from sentiment.themes import DEFAULT_FILE as DEFAULT_THEMES

    if settings.redis_url is None:
        sys.exit(
            "a standalone worker publishes through Redis: set VOC_REDIS_URL "
            "(without Redis, the API runs its own workers: VOC_EMBEDDED_WORKERS)"
        )
    _check_themes(settings)
    engine = store.make_engine(settings.database_url)
    if settings.migrate_on_start:
        store.migrate(engine)
    ensure_topics(settings)
    if settings.worker_metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr=settings.host)
    hub = make_hub(settings)
    asyncio.run(hub.start())
    notifier = AlertNotifier(settings, engine, directory.TreeCache(engine))
    worker = build_worker(
        settings,
        engine=engine,
        scorer=CommentScorer(
            settings.sentiment_negative_from,
            TaxonomyCache(engine, from_file(settings.themes_file or DEFAULT_THEMES)).themes,
        ),
        sink=hub.sink(),
        rules=load_rules(settings.alert_rules_file or DEFAULT_RULES),
        alert_sink=notifier,
        name=f"{socket.gethostname()}-{os.getpid()}",
    )

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        run_worker(worker)
    finally:
        notifier.close()
        asyncio.run(hub.stop())


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    from app.db import store

    store.migrate(store.make_engine(settings.database_url))
    print("database is at the newest schema")


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    url = args.url or f"http://{settings.host}:{settings.port}"
    key = args.key or (
        settings.integrator_keys[0].get_secret_value() if settings.integrator_keys else ""
    )
    if not key:
        sys.exit("the demo posts like an integrator: give --key or set VOC_INTEGRATOR_KEYS")
    # SIGTERM ends it as Ctrl-C does: a handler calling Event.set could deadlock on a second
    # signal arriving while the first one holds the event's lock.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        demo.run(url, key, args.rate, threading.Event())


def cmd_schema(_: Settings, __: argparse.Namespace) -> None:
    from app.api.live import BarometerFrame

    schemas = {
        "SurveyResponse": SurveyResponse.model_json_schema(),
        "HubEvent": TypeAdapter(HubEvent).json_schema(),
        "BarometerFrame": BarometerFrame.model_json_schema(),
    }
    print(json.dumps(schemas, indent=2))


class _StopRequest:
    """The SIGINT and SIGTERM handler of `voc run`; the main loop polls `asked`.

    It only sets an attribute: a handler that takes a lock (threading.Event.set does) deadlocks
    when a second signal interrupts it while it holds that lock, and then nothing is stopped.
    """

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.asked = True


def _wait_ready(
    url: str, api: subprocess.Popen[bytes], stopping: Callable[[], bool], timeout_s: float
) -> bool:
    """True once the API is ready; False if a stop was asked for first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stopping():
            return False
        if api.poll() is not None:
            raise SystemExit(f"the API exited with code {api.returncode}; see the log above")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the API was not ready within {timeout_s:.0f}s; see {url}/readyz")


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    """Broker, API (with its embedded worker) and demo traffic on loopback; Ctrl-C stops all."""
    from app.broker.embedded import free_port, start_broker

    _check_port_free(settings.host, settings.port)
    broker_port = settings.embedded_kafka_port
    if broker_port is None:
        broker_port = free_port()
    else:
        _check_port_free("127.0.0.1", broker_port, "VOC_EMBEDDED_KAFKA_PORT")
    state = Path(".voc")
    state.mkdir(exist_ok=True)
    stop = _StopRequest()
    # Explicit, because a shell starting us in the background leaves SIGINT ignored; before the
    # broker starts, so that no signal can end this process with the broker left running.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    broker = start_broker("127.0.0.1", broker_port, log=state / "broker.log")
    key = (
        settings.integrator_keys[0].get_secret_value()
        if settings.integrator_keys
        else "demo-" + secrets.token_urlsafe(18)
    )
    env = {
        # The embedded broker answers a JoinGroup after half the session timeout; 3 s halves the
        # wait for the first comment. It is below Apache Kafka's default minimum (6 s), so it
        # applies only to the broker started here, unless the environment says otherwise.
        "VOC_KAFKA_SESSION_TIMEOUT_MS": "3000",
        # A request log line per demo post would bury the lines people need in the terminal.
        "VOC_LOG_LEVEL": "WARNING",
        "VOC_ORG_TREE_FILE": str(demo.DEMO_TREE),
        # The demo shows hot listening whole: frontline staff take callbacks too.
        "VOC_FRONTLINE_CALLBACKS": "true",
        **os.environ,
        "VOC_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}",
        "VOC_INTEGRATOR_KEYS": ",".join(
            [key] + [k.get_secret_value() for k in settings.integrator_keys[1:]]
        ),
    }
    # Own session: a terminal's Ctrl-C reaches only this supervisor, which then stops the API
    # before the broker, so the worker can leave its group instead of waiting on a dead broker.
    api = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "api"], env=env, start_new_session=True
    )
    demo_stop = threading.Event()
    url = f"http://{settings.host}:{settings.port}"
    # Hashing the demo passwords (and loading the database code) while the API starts.
    pool = ThreadPoolExecutor(max_workers=1)
    demo_users = pool.submit(directory_cli.demo_users)
    pool.shutdown(wait=False)
    try:
        if not _wait_ready(url, api, lambda: stop.asked, timeout_s=60):
            return
        from app.db import store

        engine = store.make_engine(settings.database_url)
        users = demo_users.result()
        try:
            directory_cli.save_demo_users(engine, users)
        finally:
            engine.dispose()
        print(f"Cockpit: {url}/", flush=True)
        print(f"Integrator key: {key}", flush=True)
        print(f"Kafka: 127.0.0.1:{broker_port}", flush=True)
        for user in users:
            print(
                f"Demo user: {user.role.value} {user.username} {user.password} "
                f"({NAMES[user.language]})",
                flush=True,
            )
        if args.rate > 0:
            demo_args = (url, key, args.rate, demo_stop)
            threading.Thread(target=demo.run, args=demo_args, daemon=True).start()
        while not stop.asked and api.poll() is None:
            time.sleep(0.1)
    finally:
        demo_stop.set()
        for child in (api, broker):
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        print("stopped: API, worker, broker", flush=True)


def cmd_score(settings: Settings, _: argparse.Namespace) -> None:
    from sentiment import CommentReader
    from sentiment.lines import score_lines

    reader = CommentReader(settings.sentiment_negative_from)
    errors = 0
    for out in score_lines(sys.stdin, reader):
        errors += out.startswith('{"line"')
        sys.stdout.write(out + "\n")
    sys.stdout.flush()
    if errors:
        sys.exit(f"voc score: {errors} line(s) could not be scored; see their error objects")


def cmd_company(settings: Settings, args: argparse.Namespace) -> None:
    """Write a made-up company's org tree, then its responses: to the broker, or to a file."""
    from app import company

    if args.responses < 0 or args.days <= 0:
        sys.exit("--responses: 0 or more; --days: more than 0")
    if args.bootstrap is not None and args.compression == "lz4":
        from kafka.codec import has_lz4

        if not has_lz4():
            sys.exit("--compression lz4 needs the lz4 package, which is not installed")
    try:
        firm = company.build(args.units, regions=args.regions, seed=args.seed)
    except ValueError as exc:
        sys.exit(f"voc company: {exc}")
    end = args.end or datetime.now(UTC)
    if end.tzinfo is None:
        sys.exit("--end: give a timezone, e.g. 2026-12-07T12:00:00+00:00")
    args.out.mkdir(parents=True, exist_ok=True)
    tree = company.write_tree(firm, args.out / "org_tree.yaml")
    print(f"org tree: {tree} (regions: {len(firm.regions)}, stores: {len(firm.stores)})")
    if args.responses == 0:
        return
    records = company.responses(firm, args.responses, end=end, days=args.days, seed=args.seed)
    started = time.monotonic()
    if args.bootstrap is None:
        path = args.out / "responses.jsonl"
        with path.open("wb") as out:
            out.writelines(value + b"\n" for _, value in records)
        where = str(path)
    else:
        topic = args.topic or settings.responses_topic
        _produce_company(settings, args.bootstrap, topic, args.compression, records)
        where = f"{topic} at {args.bootstrap}"
    took = time.monotonic() - started
    print(f"{args.responses} responses to {where} in {took:.1f}s ({args.responses / took:.0f}/s)")


def _produce_company(
    settings: Settings,
    bootstrap: str,
    topic: str,
    compression: str,
    records: Iterator[tuple[str, bytes]],
) -> None:
    """A bulk load: large batches, keyed by unit as the product produces, every one acknowledged."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from app.broker.topics import ensure_topics
    from app.core.errors import BrokerUnavailable

    target = settings.model_copy(update={"kafka_bootstrap": bootstrap, "responses_topic": topic})
    failures: list[BaseException] = []
    try:
        ensure_topics(target)
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="voc-company",
            acks="all",
            # As the product's producer: a retry may store a record twice in Kafka, and the
            # worker stores a response id once.
            enable_idempotence=False,
            linger_ms=20,
            batch_size=512 * 1024,
            compression_type=None if compression == "none" else compression,
            max_request_size=settings.max_message_bytes * 32,
        )
        try:
            for sent, (unit, value) in enumerate(records, start=1):
                future = producer.send(topic, key=unit.encode(), value=value)
                future.add_errback(failures.append)
                if sent % PROGRESS_EVERY == 0:
                    print(f"  {sent} sent", file=sys.stderr, flush=True)
            producer.flush(timeout=120)
        finally:
            producer.close(timeout=10)
    except BrokerUnavailable as exc:
        sys.exit(f"voc company: {exc}")
    except KafkaError as exc:
        sys.exit(f"voc company: broker {bootstrap}: {exc}")
    if failures:
        sys.exit(f"voc company: {len(failures)} responses not acknowledged, e.g. {failures[0]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="voc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="the API and websocket hub (with VOC_EMBEDDED_WORKERS workers)")
    sub.add_parser("worker", help="a standalone ingest worker (needs VOC_REDIS_URL)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    run = sub.add_parser("run", help="the whole cockpit on loopback: broker, API, worker, demo")
    run.add_argument("--rate", type=float, default=2.0, help="demo responses a second (0: none)")
    demo_cmd = sub.add_parser("demo", help="post realistic demo responses to a running API")
    demo_cmd.add_argument("--url", help="API base URL (default: from VOC_HOST/VOC_PORT)")
    demo_cmd.add_argument("--key", help="integrator key (default: first of VOC_INTEGRATOR_KEYS)")
    demo_cmd.add_argument("--rate", type=float, default=2.0, help="responses a second")
    sub.add_parser("schema", help="print the JSON Schema of responses and hub events")
    sub.add_parser(
        "score",
        help="score JSON lines from stdin: "
        '{"comment": ..., "score": 3, "score_kind": "nps", "language": ..., "id": ...}',
    )
    firm = sub.add_parser(
        "company",
        help="a made-up company at scale: its org tree, then a week of responses to the broker",
    )
    firm.add_argument("--units", type=int, default=500, help="stores (default 500)")
    firm.add_argument("--regions", type=int, help="default: one per 10 stores, at most 10")
    firm.add_argument("--responses", type=int, default=1_000_000, help="0: the org tree only")
    firm.add_argument("--days", type=float, default=7.0, help="how far back they go")
    firm.add_argument("--seed", type=int, default=1, help="the same seed, the same company")
    firm.add_argument(
        "--end", type=datetime.fromisoformat, help="the newest response (default: now)"
    )
    firm.add_argument(
        "--out", type=Path, default=Path(".voc/company"), help="for org_tree.yaml (and responses)"
    )
    firm.add_argument(
        "--bootstrap", help="produce to this broker (default: write DIR/responses.jsonl)"
    )
    firm.add_argument("--topic", help="default: VOC_RESPONSES_TOPIC")
    firm.add_argument("--compression", choices=["none", "gzip", "lz4"], default="none")
    directory_cli.add_commands(sub)
    args = parser.parse_args(argv)
    settings = _settings()
    logs.configure(settings.log_level)
    commands = {
        "api": cmd_api,
        "worker": cmd_worker,
        "migrate": cmd_migrate,
        "run": cmd_run,
        "demo": cmd_demo,
        "schema": cmd_schema,
        "score": cmd_score,
        "company": cmd_company,
        "users": directory_cli.run,
        "units": directory_cli.run,
        "keys": directory_cli.run,
    }
    commands[args.command](settings, args)


if __name__ == "__main__":
    main()
