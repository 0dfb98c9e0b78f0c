"""Fixtures for the suites that need real services; each starts only when a test asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from app.broker.embedded import free_port, start_broker
from tests.harness import App, Cockpit, RedisServer, make_app, require
from tests.servers import endpoint, smtp_server  # noqa: F401  (fixtures for every suite)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    process = start_broker("127.0.0.1", port, log=log)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def app(broker: str, tmp_path: Path) -> Iterator[App]:
    instance = make_app(broker, tmp_path)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def module_app(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app for a whole test module, for tests that do not disturb each other."""
    instance = make_app(broker, tmp_path_factory.mktemp("app"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
async def cockpit(app: App) -> AsyncIterator[Cockpit]:
    async with connect(app.ws_url, additional_headers=app.auth("admin")) as connection:
        yield Cockpit(connection)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(require("redis-server"), free_port(), tmp_path)
    server.start()
    yield server
    server.stop()
