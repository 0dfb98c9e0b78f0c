"""Hostile traffic on Kafka: every bad message dead-lettered once, no good one lost or stalled."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from app.db import store
from tests.harness import App, consume_all, make_app, response, wait_until

pytestmark = pytest.mark.integration

# A message a little under what each broker takes. Apache Kafka's message.max.bytes (1048588
# by default) counts the record batch, ~100 bytes more than the value; the embedded broker
# took 2 MB. Either is too large to dead-letter whole through the worker's 1 MiB producer.
NEAR_BROKER_LIMIT = {"embedded": 2 * 1024 * 1024, "apache-kafka": 1_048_400}

# Half past midnight of year 1 at UTC+1: before year 1 in UTC, which no datetime holds.
YEAR_ONE = "0001-01-01T00:30:00+01:00"
SQLITE_POISON = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON responses WHEN NEW.survey_id = 'poison'
BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END
"""
POSTGRES_POISON = [
    """
    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.survey_id = 'poison' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER refuse_poison BEFORE INSERT ON responses
    FOR EACH ROW EXECUTE FUNCTION refuse_poison()
    """,
]


@pytest.fixture(scope="module")
def broker(both_brokers: str) -> str:
    """Every test here runs on the embedded broker and on Apache Kafka (tests/conftest.py)."""
    return both_brokers


def refuse_poison(database_url: str) -> None:
    """Make the app's own database refuse responses of survey 'poison' (validation passes them)."""
    engine = store.make_engine(database_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.execute(sa.text(SQLITE_POISON))
            else:
                for statement in POSTGRES_POISON:
                    connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def produce_keyed(broker: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """Produce (key, value) messages, in order, allowing values up to the brokers' limits."""
    producer = KafkaProducer(bootstrap_servers=broker, acks="all", max_request_size=4 << 20)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def metric(app: App, sample: str) -> float:
    """A sample of the app's /metrics, e.g. `voc_responses_duplicate_total`; 0 when absent."""
    text = httpx.get(app.url + "/metrics", timeout=5).text
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def with_metadata(raw: bytes, **overrides: object) -> bytes:
    """A valid response whose metadata is `raw` JSON bytes (which json.dumps cannot write)."""
    hole = json.dumps(response(metadata="HOLE", **overrides)).encode()
    return hole.replace(b'"HOLE"', raw)


def body(**fields: object) -> bytes:
    """A response as JSON bytes: valid but for the `fields` given."""
    return json.dumps(response(**fields)).encode()


def of_size(size: int, org_unit: str) -> bytes:
    """A response padded to exactly `size` bytes."""
    empty = json.dumps(response(comment="", org_unit=org_unit)).encode()
    return empty.replace(b'"comment": ""', b'"comment": "' + b"x" * (size - len(empty)) + b'"')


def test_hostile_traffic_is_dead_lettered_and_every_good_response_stored_once(
    broker: str, broker_name: str, tmp_path: Path
) -> None:
    # Started first without a worker, to migrate the database and create the topics: the
    # messages are then produced before the worker polls, so that one poll takes them
    # together and the refused row and the repeated response share a batch with good ones.
    app = make_app(broker, tmp_path, embedded_workers="0")
    app.start()
    try:
        refuse_poison(app.database_url)
        app.stop()
        units = ["store-12", "store-7"]
        good = [response(org_unit=units[i % 2], comment=f"Good visit {i}.") for i in range(10)]
        big = of_size(NEAR_BROKER_LIMIT[broker_name], "store-12")
        long_tag = "en-" + "-".join(["abcdefgh"] * 10)
        hostile = [
            ("store-12", with_metadata(b'{"n": ' + b"9" * 5000 + b"}"), "invalid"),
            ("store-7", body(submitted_at=YEAR_ONE, org_unit="store-7"), "invalid"),
            ("store-12", body(language=long_tag), "invalid"),
            ("store-7", with_metadata(b'{"x": NaN}', org_unit="store-7"), "invalid"),
            ("store-12", big, "too_large"),
            ("store-7", body(survey_id="poison", org_unit="store-7"), "unstorable"),
        ]
        bad = {value: reason for _, value, reason in hostile}
        assert len(big) == NEAR_BROKER_LIMIT[broker_name] and len(long_tag) == 92
        # The first good response twice, then bad and good alternating, for the same units.
        first = body(**good[0])
        messages = [(b"store-12", first), (b"store-12", first)]
        for (unit, value, _), fine in zip(hostile, good[1:], strict=False):
            messages += [(unit.encode(), value), (fine["org_unit"].encode(), body(**fine))]
        messages += [(b["org_unit"].encode(), body(**b)) for b in good[len(hostile) + 1 :]]
        produce_keyed(broker, app.topic, messages)
        app.env["VOC_EMBEDDED_WORKERS"] = "1"
        app.start()

        expected = sorted(b["response_id"] for b in good)
        wait_until(lambda: len(app.rows()) >= len(good), timeout_s=60, message="the good rows")
        dead = consume_all(broker, f"{app.topic}.dlq", len(bad), timeout_s=60)
        # Alive after all that: a response produced now, behind the bad ones, is stored.
        last = response(org_unit="store-12")
        produce_keyed(broker, app.topic, [(b"store-12", body(**last))])
        wait_until(lambda: len(app.rows()) > len(good), timeout_s=30, message="the last row")

        stored = sorted(r["response_id"] for r in app.rows())
        assert stored == sorted([*expected, last["response_id"]])
        assert len(dead) == len(bad)
        assert [r.value for r in dead if "voc.original.size" in dict(r.headers)] != [big]
        assert sum("voc.original.size" in dict(r.headers) for r in dead) == 1
        for record in dead:
            headers = {k: v.decode() for k, v in record.headers}
            if "voc.original.size" in headers:
                assert record.value == big[: len(record.value)]
                assert len(record.value) < len(big)
                assert headers["voc.original.size"] == str(len(big))
                assert headers["voc.original.sha256"] == hashlib.sha256(big).hexdigest()
                assert headers["voc.error.reason"] == "too_large"
                continue
            assert record.value in bad, headers
            assert headers["voc.error.reason"] == bad[record.value], headers
            if bad[record.value] == "unstorable":
                assert "refused by test trigger" in headers["voc.error.detail"]
        assert {dict(r.headers)["voc.error.reason"].decode() for r in dead} == set(bad.values())
        assert metric(app, "voc_responses_duplicate_total") == 1
        assert metric(app, 'voc_responses_dlq_total{reason="unstorable"}') == 1
        assert metric(app, "voc_worker_errors_total") == 0
        assert metric(app, 'voc_worker_stalled_seconds{worker="embedded-1"}') == 0
    finally:
        app.stop()


def test_a_dead_letter_the_broker_refuses_for_its_size_is_sent_cut_down(
    apache_kafka: str, tmp_path: Path
) -> None:
    """Apache Kafka only: the embedded broker has no per-topic size limit to refuse with."""
    app = make_app(apache_kafka, tmp_path)
    admin = KafkaAdminClient(bootstrap_servers=apache_kafka)
    try:
        limited = {"max.message.bytes": "200000"}
        admin.create_topics([NewTopic(f"{app.topic}.dlq", 1, 1, topic_configs=limited)])
    finally:
        admin.close()
    app.start()
    try:
        # Over VOC_MAX_MESSAGE_BYTES, under the worker producer's limit, over the topic's.
        large = of_size(300_000, "store-12")
        good = response(org_unit="store-12")
        # With a small dead letter beside it: the broker refuses only the large one.
        invalid = body(score=11)
        messages = [(b"store-12", invalid), (b"store-12", large), (b"store-12", body(**good))]
        produce_keyed(apache_kafka, app.topic, messages)
        wait_until(lambda: len(app.rows()) == 1, message="the response behind the large one")
        letters = consume_all(apache_kafka, f"{app.topic}.dlq", 2)
        [small] = [d for d in letters if d.value == invalid]
        assert dict(small.headers)["voc.error.reason"] == b"invalid"
        [dead] = [d for d in letters if d.value != invalid]
        headers = {k: v.decode() for k, v in dead.headers}
        assert headers["voc.error.reason"] == "too_large"
        assert dead.value == large[: len(dead.value)]
        assert len(dead.value) < 16 * 1024
        assert headers["voc.original.size"] == str(len(large))
        assert headers["voc.original.sha256"] == hashlib.sha256(large).hexdigest()
        assert app.rows()[0]["response_id"] == good["response_id"]
    finally:
        app.stop()


def test_a_response_the_broker_refuses_for_its_size_answers_413_naming_it(
    apache_kafka: str, tmp_path: Path
) -> None:
    """A broker taking less than VOC_MAX_MESSAGE_BYTES: a deployment to fix, told as such."""
    app = make_app(apache_kafka, tmp_path, embedded_workers="0")
    admin = KafkaAdminClient(bootstrap_servers=apache_kafka)
    try:
        limited = {"max.message.bytes": "4000"}
        admin.create_topics([NewTopic(app.topic, 1, 1, topic_configs=limited)])
    finally:
        admin.close()
    app.start()
    try:
        large = response(comment="x" * 3900, metadata={"notes": "y" * 3000})
        with app.client() as client:
            answer = client.post("/api/v1/responses", json=large)
            assert answer.status_code == 413, answer.text
            message = answer.json()["message"]
            assert message.startswith("body: refused by the broker for its size")
            assert message.endswith("nothing was accepted")
            # The broker's refusal is no outage: the next response goes through.
            assert client.post("/api/v1/responses", json=response()).status_code == 202
    finally:
        app.stop()
