"""REST ingest and /readyz while Apache Kafka stops and starts again under the running API.

Each test stops the broker, so the module starts an Apache Kafka of its own, on fixed ports and
one data directory: restarted, it comes back at the same address with the same topics. The
tests take no `broker`, so they run on one stack only: a broker's restart is the point, and the
database does not change what the producer does.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.broker.embedded import free_port
from tests.conftest import KAFKA_SCRIPT
from tests.harness import App, make_app, missing_service, response, wait_until

pytestmark = pytest.mark.integration

PRODUCE_TIMEOUT_S = 5.0
# What the issue asks of ingest once the broker is back.
RESUME_WITHIN_S = 15.0


@dataclass
class RestartableKafka:
    """An Apache Kafka that keeps its directory and ports across stop and start."""

    directory: Path
    port: int = field(default_factory=free_port)
    controller: int = field(default_factory=free_port)
    running: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = ["bash", str(KAFKA_SCRIPT), "start", str(self.directory)]
        started = subprocess.run(
            [*command, str(self.port), str(self.controller)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if started.returncode != 0:
            missing_service(f"Apache Kafka did not start: {started.stderr.strip()[-500:]}")
        self.running = True

    def stop(self) -> None:
        command = ["bash", str(KAFKA_SCRIPT), "stop", str(self.directory)]
        subprocess.run(command, timeout=60, check=True)
        self.running = False


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableKafka]:
    if shutil.which("java") is None:
        missing_service("Java 17 is not installed: Apache Kafka needs it")
    instance = RestartableKafka(tmp_path_factory.mktemp("restartable-kafka"))
    yield instance
    instance.stop()


@pytest.fixture
def running_kafka(kafka: RestartableKafka) -> RestartableKafka:
    """The module's broker, started again if a test before this one left it stopped."""
    if not kafka.running:
        kafka.start()
    return kafka


@pytest.fixture
def app(running_kafka: RestartableKafka, tmp_path: Path) -> Iterator[App]:
    instance = make_app(
        running_kafka.address, tmp_path, kafka_produce_timeout_s=str(PRODUCE_TIMEOUT_S)
    )
    instance.start()
    yield instance
    instance.stop()


@dataclass
class Answer:
    response_id: str
    status: int
    sent: float
    answered: float


class Traffic:
    """Integrators posting responses from several threads, as the REST ingest sees in production."""

    def __init__(self, app: App, threads: int = 4, max_posts: int = 2000) -> None:
        self._app = app
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._max_posts = max_posts
        self.answers: list[Answer] = []
        self._threads = [threading.Thread(target=self._post) for _ in range(threads)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=PRODUCE_TIMEOUT_S + 20)

    def _post(self) -> None:
        with self._app.client() as client:
            for _ in range(self._max_posts):
                if self._stop.is_set():
                    return
                body = response()
                sent = time.monotonic()
                try:
                    status = client.post("/api/v1/responses", json=body).status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.answers.append(Answer(body["response_id"], status, sent, time.monotonic()))
                self._stop.wait(0.05)

    def accepted_since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.status == 202 and a.sent >= moment]

    def statuses(self) -> dict[int, int]:
        with self._lock:
            counts: dict[int, int] = {}
            for answer in self.answers:
                counts[answer.status] = counts.get(answer.status, 0) + 1
            return counts


def test_ingest_resumes_after_a_broker_restart_and_every_accepted_response_is_stored(
    app: App, running_kafka: RestartableKafka
) -> None:
    app.auth("admin")
    with Traffic(app) as traffic:
        started = time.monotonic()
        wait_until(lambda: len(traffic.accepted_since(started)) >= 10, message="first 202s")
        running_kafka.stop()
        time.sleep(10)  # the outage itself: ~10 s, as in the report
        running_kafka.start()
        back = time.monotonic()
        wait_until(
            lambda: len(traffic.accepted_since(back)) >= 5,
            timeout_s=RESUME_WITHIN_S,
            message=f"202s after the broker came back; so far {traffic.statuses()}",
        )
        # Traffic keeps flowing on the new connection, not just its first few posts.
        wait_until(
            lambda: len(traffic.accepted_since(back)) >= 25,
            message=f"sustained 202s; so far {traffic.statuses()}",
        )
    assert set(traffic.statuses()) <= {202, 503}, traffic.statuses()

    accepted = {a.response_id for a in traffic.accepted_since(started)}

    def missing() -> set[str]:
        return accepted - {row["response_id"] for row in app.rows()}

    wait_until(lambda: not missing(), timeout_s=60, message="every accepted response stored")


def test_readyz_says_the_broker_is_down_once_it_stopped(
    app: App, running_kafka: RestartableKafka
) -> None:
    with app.client() as client:
        # The producer now holds metadata it could answer from without asking the broker.
        assert client.post("/api/v1/responses", json=response()).status_code == 202
        running_kafka.stop()
        # A readiness probe's own timeout: the answer must come within it.
        ready = client.get("/readyz", timeout=PRODUCE_TIMEOUT_S)
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"].startswith("failed"), ready.json()

        running_kafka.start()
        wait_until(
            lambda: client.get("/readyz").status_code == 200,
            timeout_s=RESUME_WITHIN_S,
            message="ready again after the broker came back",
        )


def test_ingest_refuses_at_once_while_the_broker_is_known_down(
    app: App, running_kafka: RestartableKafka
) -> None:
    with app.client() as client:
        assert client.post("/api/v1/responses", json=response()).status_code == 202
        running_kafka.stop()
        # The producer learns of the outage from this one, which waits for the broker.
        assert client.post("/api/v1/responses", json=response()).status_code == 503

        # Several: one may share the expiring batch of the one above and be answered early.
        for _ in range(3):
            sent = time.monotonic()
            refused = client.post("/api/v1/responses", json=response())
            took = time.monotonic() - sent
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) > 0
            assert took < PRODUCE_TIMEOUT_S, f"answered after {took:.1f} s"
