"""Kafka ingest: responses produced straight to the topic, poison messages, worker restarts."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from ingest.decode import MAX_DEPTH
from tests.harness import App, Cockpit, consume_all, make_app, produce, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(both_brokers: str) -> str:
    """Every test here runs on the embedded broker and on Apache Kafka (tests/conftest.py)."""
    return both_brokers


async def test_produced_response_reaches_cockpit(app: App, cockpit: Cockpit, broker: str) -> None:
    await cockpit.subscribe(touchpoints=["billing"])
    body = response(touchpoint="billing", score=10, comment="Billing was clear and quick.")
    await asyncio.to_thread(produce, broker, app.topic, [json.dumps(body).encode()])
    comment = await cockpit.next(lambda e: e["type"] == "comment")
    assert comment["data"]["response_id"] == body["response_id"]
    assert comment["data"]["dissatisfied"] is False
    assert len(app.rows()) == 1


async def test_poison_messages_go_to_the_dlq_and_the_next_good_message_arrives(
    app: App, cockpit: Cockpit, broker: str
) -> None:
    await cockpit.subscribe()
    too_large = json.dumps(response(comment="x" * 70_000)).encode()
    invalid = json.dumps(response(score=99)).encode()
    poison = [b"\xff\xfe not json", b"[1, 2, 3]", invalid, too_large]
    good = response()
    await asyncio.to_thread(produce, broker, app.topic, [*poison, json.dumps(good).encode()])

    comment = await cockpit.next(lambda e: e["type"] == "comment")
    assert comment["data"]["response_id"] == good["response_id"]
    assert [r["response_id"] for r in app.rows()] == [good["response_id"]]

    dead = await asyncio.to_thread(consume_all, broker, f"{app.topic}.dlq", len(poison))
    assert sorted(r.value for r in dead) == sorted(poison)
    reasons = {r.value: dict(r.headers)["voc.error.reason"].decode() for r in dead}
    assert reasons[b"\xff\xfe not json"] == "not_json"
    assert reasons[b"[1, 2, 3]"] == "invalid"
    assert reasons[invalid] == "invalid"
    assert reasons[too_large] == "too_large"
    detail = next(dict(r.headers)["voc.error.detail"].decode() for r in dead if r.value == invalid)
    assert detail.startswith("score:")
    assert all(dict(r.headers)["voc.source"].startswith(app.topic.encode()) for r in dead)


def with_metadata_nested(levels: int) -> bytes:
    """A valid response whose metadata nests `levels` objects (too deep for json.dumps itself)."""
    hole = json.dumps(response(metadata="HOLE")).encode()
    return hole.replace(b'"HOLE"', b'{"a":' * levels + b"1" + b"}" * levels)


async def test_hostile_payloads_are_dead_lettered_whole_and_the_next_good_message_arrives(
    app: App, cockpit: Cockpit, broker: str
) -> None:
    await cockpit.subscribe()
    hostile = {
        b'{"comment": "\xff\xfe"}': "not_json",
        json.dumps(response(comment="x" * 70_000)).encode(): "too_large",
        b"[" * 30_000 + b"]" * 30_000: "too_deep",
        with_metadata_nested(9_000): "too_deep",
        with_metadata_nested(900): "too_deep",
        with_metadata_nested(MAX_DEPTH): "too_deep",
    }
    good = response(org_unit="store-12")
    values = [*hostile, json.dumps(good).encode()]
    await asyncio.to_thread(produce, broker, app.topic, values)

    # Long: a worker stuck joining its group starts over after ingest.worker.JOIN_STUCK_S.
    comment = await cockpit.next(lambda e: e["type"] == "comment", timeout=90)
    assert comment["data"]["response_id"] == good["response_id"]
    assert [r["response_id"] for r in app.rows()] == [good["response_id"]]

    dead = await asyncio.to_thread(consume_all, broker, f"{app.topic}.dlq", len(hostile))
    assert sorted(r.value for r in dead) == sorted(hostile)
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["voc.error.reason"] == hostile[record.value], headers
        assert headers["voc.source"].startswith(f"{app.topic}/")
        if headers["voc.error.reason"] == "too_deep":
            assert headers["voc.error.detail"] == f"JSON nested deeper than {MAX_DEPTH} levels"


def test_worker_killed_mid_stream_loses_nothing(broker: str, tmp_path: Path) -> None:
    app = make_app(broker, tmp_path, poll_max_records="10")
    app.start()
    bodies = [response(org_unit=f"store-{i % 7}") for i in range(1000)]
    try:
        produce(broker, app.topic, [json.dumps(b).encode() for b in bodies])
        # Long: a worker stuck joining its group (seen on a loaded Apache Kafka) starts over
        # after ingest.worker.JOIN_STUCK_S.
        wait_until(lambda: len(app.rows()) >= 20, timeout_s=90, message="the first rows")
        app.stop(signal.SIGKILL)
        stored_before_restart = len(app.rows())
        app.start()
        wait_until(lambda: len(app.rows()) >= 1000, timeout_s=90, message="all 1000 rows")
        ids = [r["response_id"] for r in app.rows()]
    finally:
        app.stop()
    assert stored_before_restart < 1000, "the worker finished before it was killed"
    assert sorted(ids) == sorted(b["response_id"] for b in bodies)
