"""Several app instances sharing one event stream through Redis, fed by a standalone worker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from app.broker.embedded import free_port
from tests.harness import ROOT, App, Cockpit, RedisServer, make_app, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(broker: str, tmp_path: Path, redis_server: RedisServer) -> Iterator[list[App]]:
    """Two API instances without embedded workers, and one `voc worker`, all on one Redis."""
    metrics_port = free_port()
    first = make_app(
        broker,
        tmp_path,
        redis_url=redis_server.url,
        embedded_workers="0",
        worker_metrics_port=str(metrics_port),
    )
    port = free_port()
    second = replace(
        first,
        url=f"http://127.0.0.1:{port}",
        env={**first.env, "VOC_PORT": str(port)},
        log=tmp_path / "app-2.log",
    )
    with (tmp_path / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=first.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    first.start()
    second.start()
    first.extra["worker_metrics"] = f"http://127.0.0.1:{metrics_port}/metrics"
    yield [first, second]
    worker.terminate()
    assert worker.wait(timeout=20) == 0, (tmp_path / "worker.log").read_text()[-2000:]
    first.stop()
    second.stop()


async def test_both_instances_push_the_same_numbered_events(cluster: list[App]) -> None:
    first, second = cluster
    async with (
        connect(first.ws_url, additional_headers=first.auth("admin")) as a,
        connect(second.ws_url, additional_headers=second.auth("admin")) as b,
    ):
        on_first, on_second = Cockpit(a), Cockpit(b)
        await on_first.subscribe()
        await on_second.subscribe()
        body = response(score=1, comment="Nobody came, awful.")
        with first.client() as client:
            assert client.post("/api/v1/responses", json=body).status_code == 202

        def is_it(e: dict[str, object]) -> bool:
            return e["type"] == "comment" and json.dumps(e).find(body["response_id"]) > 0

        seen_first = await on_first.next(is_it, timeout=30)
        seen_second = await on_second.next(is_it, timeout=30)
        assert seen_first == seen_second
        flag_second = await on_second.next(lambda e: e["type"] == "flag")
        assert flag_second["id"] > seen_second["id"]
    wait_until(lambda: len(first.rows()) == 1, message="one row")
    worker_metrics = httpx.get(first.extra["worker_metrics"]).text
    assert "voc_responses_ingested_total 1.0" in worker_metrics
    assert "voc_responses_flagged_total 1.0" in worker_metrics


async def test_client_resumes_on_the_other_instance_without_missing_events(
    cluster: list[App],
) -> None:
    first, second = cluster
    async with connect(first.ws_url, additional_headers=first.auth("admin")) as a:
        cockpit = Cockpit(a)
        await cockpit.subscribe()
        with first.client() as client:
            client.post("/api/v1/responses", json=response())
        last_id = (await cockpit.next(lambda e: e["type"] == "comment"))["id"]
    missed = [response(org_unit="store-99") for _ in range(3)]
    with first.client() as client:
        assert client.post("/api/v1/responses:batch", json={"responses": missed}).status_code == 202
    wait_until(lambda: len(first.rows()) == 4, message="4 rows")
    async with connect(second.ws_url, additional_headers=second.auth("admin")) as b:
        cockpit = Cockpit(b)
        answer = await cockpit.subscribe(org_units=["store-99"], last_id=last_id)
        assert answer["replayed"] >= 3
        ids = set()
        while len(ids) < 3:
            event = await cockpit.next(lambda e: e["type"] == "comment")
            ids.add(event["data"]["response_id"])
    assert ids == {m["response_id"] for m in missed}
