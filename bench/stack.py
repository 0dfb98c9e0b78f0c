"""What the benchmarks measure against: an embedded broker and one `voc api` process (one
embedded worker, SQLite, the demo org tree) on loopback, and a signed-in user."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


@contextmanager
def local_stack(prefix: str) -> Iterator[Stack]:
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    broker_port, port = free_port(), free_port()
    broker = start_broker("127.0.0.1", broker_port, log=tmp / "broker.log")
    stack = Stack(
        url=f"http://127.0.0.1:{port}",
        bootstrap=f"127.0.0.1:{broker_port}",
        database_url=f"sqlite:///{tmp / 'voc.db'}",
    )
    env = os.environ | {
        "VOC_PORT": str(port),
        "VOC_KAFKA_BOOTSTRAP": stack.bootstrap,
        "VOC_DATABASE_URL": stack.database_url,
        "VOC_INTEGRATOR_KEYS": KEY,
        "VOC_LOG_LEVEL": "WARNING",
        "VOC_ORG_TREE_FILE": str(DEMO_TREE),
    }
    with (tmp / "app.log").open("ab") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(stack.url)
        yield stack
    finally:
        api.terminate()
        api.wait(timeout=20)
        broker.terminate()
        broker.wait(timeout=10)


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
