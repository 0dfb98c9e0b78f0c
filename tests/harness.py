"""Real services for the integration and browser suites: the embedded broker, the app process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import redis
import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer
from websockets.asyncio.client import ClientConnection

from app.broker.embedded import free_port
from app.core.access import Role
from app.db import directory, store
from app.db.models import ResponseRow

ROOT = Path(__file__).resolve().parents[1]
ORG_TREE = Path(__file__).resolve().parent / "org_tree.yaml"
PASSWORD = "correct horse battery"
# One user per role, created on first use: what each may see is in tests/org_tree.yaml terms.
USERS = {
    "admin": ("admin", ()),
    "manager": ("north.manager", ("north",)),
    "frontline": ("s12.staff", ("store-12",)),
}
# Debian's Chromium, headless, without the background traffic a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing_service(message: str) -> NoReturn:
    """Skip by hand without a service or data set; fail under `make test`: CI never skips."""
    if os.environ.get("VOC_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


def require(binary: str) -> str:
    """The path of a service binary on PATH."""
    path = shutil.which(binary)
    if path is None:
        missing_service(f"{binary} is not installed (deploy/install-services.sh installs it)")
    return path


@dataclass
class App:
    """One `voc api` process (with its embedded worker) on a free loopback port."""

    url: str
    key: str
    topic: str
    database_url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def start(self, wait_ready: bool = True) -> None:
        # A free port can be taken by another process before this one binds it; then another
        # app would answer for this one, so this app is ready only once its own log says it
        # listens, and it starts again on another port if the bind failed.
        for _ in range(3):
            if self._started(wait_ready):
                return
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            self.env["VOC_PORT"] = str(port)
        raise AssertionError(f"no free port held: {self.log.read_text()[-3000:]}")

    def _started(self, wait_ready: bool) -> bool:
        """Ready on its port: True; the port was taken: False."""
        with self.log.open("ab") as out:
            start = out.tell()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "api"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        path = "/readyz" if wait_ready else "/healthz"
        listening = f"Uvicorn running on {self.url} "
        while time.monotonic() < deadline:
            written = self.log.read_bytes()[start:].decode(errors="replace")
            if self.process.poll() is not None:
                if "address already in use" in written:
                    return False
                raise AssertionError(f"app exited: {self.log.read_text()[-3000:]}")
            try:
                if (
                    listening in written
                    and httpx.get(self.url + path, timeout=1).status_code == 200
                ):
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"app not ready: {self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None

    def client(self) -> httpx.Client:
        """An integrator that can also read everything (the key posts, an admin reads)."""
        headers = {"X-API-Key": self.key, **self.auth("admin")}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15)

    def as_user(self, role: str) -> httpx.Client:
        """A client signed in as the test user of `role` (see USERS)."""
        return httpx.Client(base_url=self.url, headers=self.auth(role), timeout=15)

    def auth(self, role: str) -> dict[str, str]:
        """The Authorization header of the test user of `role`, created and signed in once."""
        if role not in self.tokens:
            username, units = USERS[role]
            self.add_user(username, role, units)
            self.tokens[role] = self.sign_in(username, PASSWORD)
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def add_user(self, username: str, role: str, units: Sequence[str]) -> None:
        engine = store.make_engine(self.database_url)
        try:
            if directory.get_user(engine, username) is None:
                directory.create_user(
                    engine, username=username, password=PASSWORD, role=Role(role), units=units
                )
        finally:
            engine.dispose()

    def sign_in(self, username: str, password: str) -> str:
        answer = httpx.post(
            self.url + "/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=15,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    def rows(self, where: str = "1=1") -> list[dict[str, Any]]:
        engine = store.make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                # Through the table's columns, so JSON reads back decoded from either database.
                query = sa.select(ResponseRow.__table__).where(sa.text(where))  # type: ignore[attr-defined]
                result = connection.execute(query)
                return [dict(r._mapping) for r in result]
        finally:
            engine.dispose()


@dataclass(frozen=True)
class Stack:
    """The database and hub the apps under test use, unless a test names its own."""

    name: str
    # A PostgreSQL cluster's superuser URL (each app gets a new database in it); None: SQLite.
    postgres: str | None = None
    # A Redis every app shares, each on a channel of its own; None: the in-memory hub.
    redis: str | None = None


EMBEDDED_STACK = Stack("sqlite+memory")
_stack = [EMBEDDED_STACK]


def use_stack(stack: Stack) -> None:
    """What `make_app` builds on from now on (tests/integration/conftest.py sets it)."""
    _stack[0] = stack


@dataclass
class Worker:
    """A standalone `voc worker` process of an app's deployment, with its own /metrics."""

    process: subprocess.Popen[bytes]
    log: Path
    metrics_url: str

    @classmethod
    def start(cls, app: App, log: Path) -> Worker:
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker"],
                env={**app.env, "VOC_WORKER_METRICS_PORT": str(port)},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process, log, f"http://127.0.0.1:{port}/metrics")

    def metrics(self) -> str:
        """Its Prometheus exposition; empty until it serves one."""
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            return httpx.get(self.metrics_url, timeout=5).text
        except httpx.HTTPError:
            return ""

    def counter(self, name: str) -> float:
        """A counter's value, e.g. `voc_responses_ingested`; 0 before it counted anything."""
        found = re.search(rf"^{name}_total (\S+)$", self.metrics(), re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def make_app(broker: str, tmp_path: Path, **settings: str) -> App:
    tag = uuid.uuid4().hex[:8]
    port = free_port()
    topic = f"voc.responses.{tag}"
    stack = _stack[0]
    if "database_url" in settings:
        database_url = settings.pop("database_url")
    elif stack.postgres is not None:
        from tests.pg import create_database

        database_url = create_database(stack.postgres)
    else:
        database_url = f"sqlite:///{tmp_path / 'voc.db'}"
    if stack.redis is not None:
        settings.setdefault("redis_url", stack.redis)
    env = {
        **os.environ,
        "VOC_PORT": str(port),
        "VOC_KAFKA_BOOTSTRAP": broker,
        "VOC_RESPONSES_TOPIC": topic,
        "VOC_CONSUMER_GROUP": f"voc-ingest-{tag}",
        "VOC_DATABASE_URL": database_url,
        "VOC_INTEGRATOR_KEYS": f"key-{tag}",
        "VOC_ORG_TREE_FILE": str(ORG_TREE),
        # Apps of one test share a channel; apps of other tests on the same Redis never hear it.
        "VOC_REDIS_CHANNEL": f"voc:events:{tag}",
        **{f"VOC_{k.upper()}": v for k, v in settings.items()},
    }
    return App(
        url=f"http://127.0.0.1:{port}",
        key=f"key-{tag}",
        topic=topic,
        database_url=database_url,
        env=env,
        log=tmp_path / "app.log",
    )


def response(**overrides: Any) -> dict[str, Any]:
    """A valid survey response as an integrator would send it."""
    body: dict[str, Any] = {
        "response_id": f"r-{uuid.uuid4().hex}",
        "survey_id": "nps-delivery",
        "submitted_at": datetime.now(UTC).isoformat(),
        "score": 9,
        "score_kind": "nps",
        "comment": "Delivered on time, friendly driver.",
        "language": "en",
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-12",
        "customer_type": "person",
        "customer_ref": "cust-1",
        "metadata": {"campaign": "q4"},
    }
    body.update(overrides)
    return body


class Cockpit:
    """A websocket client subscribed like a cockpit page, collecting what it receives."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.events: list[dict[str, Any]] = []

    async def subscribe(self, **message: Any) -> dict[str, Any]:
        await self.connection.send(json.dumps({"type": "subscribe", **message}))
        return await self.next(lambda e: e["type"] == "subscribed")

    async def next(self, match: Any, timeout: float = 20) -> dict[str, Any]:
        """The first event (already received or arriving) that `match`es."""
        import asyncio

        for event in self.events:
            if match(event):
                self.events.remove(event)
                return event
        async with asyncio.timeout(timeout):
            while True:
                received = await self._receive()
                for at, message in enumerate(received):
                    if match(message):
                        self.events.extend(received[at + 1 :])
                        return message
                    self.events.append(message)

    async def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (guard for 'nothing more arrives')."""
        import asyncio

        try:
            async with asyncio.timeout(seconds):
                while True:
                    self.events.extend(await self._receive())
        except TimeoutError:
            pass
        return self.events

    async def _receive(self) -> list[dict[str, Any]]:
        """The messages of the next frame: a batch frame's, one by one, as the page reads them."""
        frame: dict[str, Any] = json.loads(await self.connection.recv())
        return frame["events"] if frame["type"] == "batch" else [frame]


def produce(broker: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    producer = KafkaProducer(bootstrap_servers=broker, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, key=key)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)


def consume_all(broker: str, topic: str, expected: int, timeout_s: float = 30) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=f"test-reader-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close(autocommit=False)
    return records


def post_batch(app: App, *bodies: dict[str, Any]) -> None:
    """Post responses as an integrator does, in one batch; they are accepted."""
    with app.client() as client:
        answer = client.post("/api/v1/responses:batch", json={"responses": list(bodies)})
    assert answer.status_code == 202, answer.text


class Clock:
    """A clock a test sets: code that asks the time is handed one instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


EVERY_STATE = ["open", "acknowledged", "in_progress", "resolved", "closed"]


def all_alerts(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every alert the caller's inbox holds for `params`, in any state unless `state` is given,
    ungrouped, newest first, page after page."""
    alerts: list[dict[str, Any]] = []
    query = {"state": EVERY_STATE, "group": "false", "order": "newest", "limit": 100, **params}
    page = 1
    while True:
        answer = client.get("/api/v1/alerts", params={**query, "page": page})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        alerts += [item["alert"] for item in body["items"]]
        if page >= body["pages"]:
            return alerts
        page += 1


def wait_until(predicate: Any, timeout_s: float = 30, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


@dataclass
class RedisServer:
    """A throwaway redis-server on a loopback port, without persistence, restartable in place."""

    binary: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        command += ["--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.workdir / "redis.log").read_text()
            client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
