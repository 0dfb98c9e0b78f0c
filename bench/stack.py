"""What the benchmarks measure against: an embedded broker and one `voc api` process (one
embedded worker, SQLite, the demo org tree) on loopback, and a signed-in user."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broker.embedded import free_port, start_broker  # noqa: E402
from app.core.access import Role  # noqa: E402
from app.db import directory, store  # noqa: E402
from app.demo import DEMO_TREE  # noqa: E402

KEY = "bench"
PASSWORD = "bench password"


@dataclass(frozen=True)
class Stack:
    url: str
    bootstrap: str
    database_url: str
    pid: int = 0
    """The `voc api` process (and its embedded worker), for the CPU time it spends."""

    def sign_in(self, username: str, role: Role, units: Sequence[str] = ()) -> dict[str, str]:
        """A bearer header for a new user: the websocket serves signed-in users only."""
        engine = store.make_engine(self.database_url)
        try:
            directory.create_user(
                engine, username=username, password=PASSWORD, role=role, units=units
            )
        finally:
            engine.dispose()
        login = {"username": username, "password": PASSWORD}
        token = httpx.post(self.url + "/api/v1/auth/login", json=login).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    def counter(self, name: str) -> float:
        """A counter of the API's /metrics summed over its labels, e.g. `voc_responses_ingested`;
        0 before it counts anything."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        found = re.findall(rf"^{name}_total(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
        return sum(float(value) for value in found)


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory for a benchmark's logs: removed after it succeeds, kept (and named)
    when it fails or is interrupted."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    except BaseException as exc:
        print(f"logs kept in {tmp}", file=sys.stderr)
        if isinstance(exc, KeyboardInterrupt):
            sys.exit("interrupted")
        raise
    shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def local_stack(prefix: str) -> Iterator[Stack]:
    """An embedded broker and one `voc api` on SQLite with the demo org tree."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    with embedded_broker(tmp) as bootstrap, api(bootstrap, f"sqlite:///{tmp / 'voc.db'}", tmp) as s:
        yield s


@contextmanager
def embedded_broker(tmp: Path) -> Iterator[str]:
    """The broker `make run` uses, on a free loopback port; its bootstrap address."""
    port = free_port()
    broker = start_broker("127.0.0.1", port, log=tmp / "broker.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)


@contextmanager
def api(
    bootstrap: str,
    database_url: str,
    tmp: Path,
    *,
    org_tree: Path = DEMO_TREE,
    env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """One `voc api` process (one embedded worker) on a free port, ready; `env` adds VOC_*."""
    port = free_port()
    stack = Stack(url=f"http://127.0.0.1:{port}", bootstrap=bootstrap, database_url=database_url)
    environment = os.environ | {
        "VOC_PORT": str(port),
        "VOC_KAFKA_BOOTSTRAP": stack.bootstrap,
        "VOC_DATABASE_URL": stack.database_url,
        "VOC_INTEGRATOR_KEYS": KEY,
        "VOC_LOG_LEVEL": "WARNING",
        "VOC_ORG_TREE_FILE": str(org_tree),
        **(env or {}),
    }
    with (tmp / "app.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"],
            env=environment,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(stack.url)
        yield replace(stack, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def databases(tmp: Path, backends: Sequence[str]) -> Iterator[Callable[[str], str]]:
    """A function making a new empty database of a backend (`sqlite`, `postgresql`): a file in
    `tmp`, or a database in a throwaway PostgreSQL cluster started only if asked for."""
    stop: Callable[[], None] | None = None
    server = ""
    if "postgresql" in backends:
        from tests.pg import start_postgres

        server, stop = start_postgres()

    def new_database(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp / f'voc-{uuid.uuid4().hex[:8]}.db'}"
        from tests.pg import create_database

        return create_database(server)

    try:
        yield new_database
    finally:
        if stop is not None:
            stop()


def backends(value: str) -> list[str]:
    """The --databases argument of the benchmarks: comma-separated `sqlite`, `postgresql`."""
    chosen = [b.strip() for b in value.split(",") if b.strip()]
    if not chosen or set(chosen) - {"sqlite", "postgresql"}:
        raise argparse.ArgumentTypeError("sqlite, postgresql or both, comma-separated")
    return chosen


def messages(frame: str | bytes) -> list[dict[str, Any]]:
    """The messages of one websocket frame: a batch frame's events one by one, as the page
    reads them (docs/websocket.md, "Batch frames")."""
    decoded: dict[str, Any] = json.loads(frame)
    events: list[dict[str, Any]] = decoded["events"] if decoded["type"] == "batch" else [decoded]
    return events


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """The value below which `share` of them lie (nearest rank)."""
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def _wait_ready(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("API not ready")
