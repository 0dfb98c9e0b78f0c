"""The integration suite runs on both stacks: the embedded defaults and production's engines.

Every test that talks to a broker runs twice: on SQLite with the in-memory hub (what `make run`
uses) and on PostgreSQL with the Redis hub (what production uses). Tests that name a database
or a Redis of their own keep it; the others get a new database and a Redis channel per app.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import EMBEDDED_STACK, RedisServer, Stack, use_stack

PRODUCTION_STACK = "postgresql+redis"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "broker" in metafunc.fixturenames:
        stacks = [EMBEDDED_STACK.name, PRODUCTION_STACK]
        metafunc.parametrize("stack", stacks, indirect=True, scope="session")


@pytest.fixture(scope="session", autouse=True)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    chosen = EMBEDDED_STACK
    if getattr(request, "param", EMBEDDED_STACK.name) == PRODUCTION_STACK:
        server: RedisServer = request.getfixturevalue("shared_redis")
        chosen = Stack(PRODUCTION_STACK, request.getfixturevalue("postgres"), server.url)
    use_stack(chosen)
    yield chosen
    use_stack(EMBEDDED_STACK)
