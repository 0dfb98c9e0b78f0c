"""The Kafka clients integrators use, against the product's topics on both brokers.

kafka-python (the product's own client) is exercised by test_kafka_ingest.py on both brokers;
here confluent-kafka (librdkafka) produces responses and reads the dead-letter topic, and
Debian's kcat produces to Apache Kafka. kcat (librdkafka 2.0) cannot talk to the embedded
broker at all (its ApiVersion request fails), so the README sends kcat users to Apache Kafka.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from tests.harness import App, make_app, require, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(both_brokers: str) -> str:
    """Every test here runs on the embedded broker and on Apache Kafka (tests/conftest.py)."""
    return both_brokers


def _stored(app: App, response_id: str) -> None:
    # Long: a worker stuck joining its group (seen on a loaded Apache Kafka) starts over after
    # ingest.worker.JOIN_STUCK_S.
    wait_until(
        lambda: bool(app.rows(f"response_id = '{response_id}'")), timeout_s=90, message=response_id
    )


def test_confluent_kafka_producer_responses_are_stored_in_order(
    module_app: App, broker: str
) -> None:
    producer = Producer({"bootstrap.servers": broker, "acks": "all", "enable.idempotence": True})
    bodies = [response(org_unit="store-7", score=s, comment=f"answer {s}") for s in range(5)]
    for body in bodies:
        # Keyed by unit, as the README asks integrators to do: one unit's order is kept.
        producer.produce(module_app.topic, json.dumps(body).encode(), key=b"store-7")
    assert producer.flush(15) == 0
    _stored(module_app, bodies[-1]["response_id"])
    ids = [
        r["response_id"]
        for r in sorted(module_app.rows("org_unit = 'store-7'"), key=lambda r: r["id"])
    ]
    assert ids == [b["response_id"] for b in bodies]


def test_confluent_kafka_consumer_reads_dead_letters_with_their_reason(
    module_app: App, broker: str
) -> None:
    producer = Producer({"bootstrap.servers": broker})
    poison = f"not json {uuid.uuid4().hex}".encode()
    producer.produce(module_app.topic, poison)
    assert producer.flush(15) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": broker,
            "group.id": f"dlq-reader-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{module_app.topic}.dlq"])
    found = None
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            if message.value() == poison:
                found = dict(message.headers() or [])
                break
    finally:
        consumer.close()
    assert found is not None, "the poison message never reached the dead-letter topic"
    assert found["voc.error.reason"] == b"not_json"


def test_kcat_produces_to_apache_kafka(apache_kafka: str, tmp_path: Path) -> None:
    kcat = require("kcat")
    app = make_app(apache_kafka, tmp_path)
    app.start()
    try:
        body = response(org_unit="store-12", comment="Sent with kcat")
        subprocess.run(
            [kcat, "-P", "-b", apache_kafka, "-t", app.topic, "-k", "store-12"],
            input=json.dumps(body).encode() + b"\n",
            check=True,
            timeout=30,
        )
        _stored(app, body["response_id"])
    finally:
        app.stop()
