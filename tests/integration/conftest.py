"""The integration suite runs on both stacks: the embedded defaults and production's engines.

Every test that talks to a broker runs twice: on SQLite with the in-memory hub (what `make run`
uses) and on PostgreSQL with the Redis hub (what production uses). Tests that name a database
or a Redis of their own keep it; the others get a new database and a Redis channel per app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import directory, store
from app.orgfile import read_units
from tests.conftest import broker_for
from tests.harness import EMBEDDED_STACK, ORG_TREE, RedisServer, Stack, use_stack
from tests.pg import create_database

PRODUCTION_STACK = "postgresql+redis"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "broker" in metafunc.fixturenames:
        stacks = [EMBEDDED_STACK.name, PRODUCTION_STACK]
        only = metafunc.definition.get_closest_marker("stacks")
        if only is not None:
            stacks = [s for s in stacks if s in only.args]
        ids = stacks
        if "both_brokers" in metafunc.fixturenames:
            ids = [f"{s}+{broker_for(s)}" for s in stacks]
        metafunc.parametrize("stack", stacks, ids=ids, indirect=True, scope="session")


@pytest.fixture(scope="session", autouse=True)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    chosen = EMBEDDED_STACK
    if getattr(request, "param", EMBEDDED_STACK.name) == PRODUCTION_STACK:
        server: RedisServer = request.getfixturevalue("shared_redis")
        chosen = Stack(PRODUCTION_STACK, request.getfixturevalue("postgres"), server.url)
    use_stack(chosen)
    yield chosen
    use_stack(EMBEDDED_STACK)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A new database, migrated and holding the test org tree, on SQLite and on PostgreSQL: for
    tests that drive the database layer without an app."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'voc.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres"))
    engine = store.make_engine(url)
    store.migrate(engine)
    directory.save_units(engine, read_units(ORG_TREE))
    yield engine
    engine.dispose()
