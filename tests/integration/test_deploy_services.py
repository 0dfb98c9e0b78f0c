"""deploy/services.sh: Redis and PostgreSQL on loopback for production's engines on one machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from app.broker.embedded import free_port
from app.db import store
from tests.harness import ROOT, require

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "deploy" / "services.sh"


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: it is private to root, and the server runs as `postgres`.
    path = Path(tempfile.mkdtemp(prefix="voc-services-"))
    path.chmod(0o755)
    yield path
    subprocess.run(["bash", str(SCRIPT), "stop", str(path)], timeout=60, check=False)
    shutil.rmtree(path, ignore_errors=True)


def services(*args: str) -> str:
    done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def exported(output: str) -> dict[str, str]:
    lines = [line.removeprefix("export ") for line in output.splitlines()]
    return dict(line.split("=", 1) for line in lines if line.startswith("VOC_"))


def test_started_services_take_the_schema_keep_data_across_a_restart_and_stop(
    workdir: Path,
) -> None:
    require("redis-server")
    redis_port, pg_port = free_port(), free_port()
    env = exported(services("start", str(workdir), str(redis_port), str(pg_port)))
    assert env == {
        "VOC_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{pg_port}/voc",
        "VOC_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    migrated = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert redis.Redis.from_url(env["VOC_REDIS_URL"]).ping()

    services("stop", str(workdir))
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(env["VOC_REDIS_URL"], socket_connect_timeout=1).ping()
    assert exported(services("start", str(workdir), str(redis_port), str(pg_port))) == env
    engine = store.make_engine(env["VOC_DATABASE_URL"])
    try:
        assert "responses" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
