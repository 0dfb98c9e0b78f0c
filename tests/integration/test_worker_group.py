"""Standalone workers in one consumer group: the load is split, a killed worker is replaced,
one org unit's responses keep their order, and two workers writing one unit keep its live
barometer whole; on the embedded broker and on Apache Kafka."""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from websockets.asyncio.client import connect

from app.db import store
from tests.harness import (
    App,
    Cockpit,
    RedisServer,
    Worker,
    consume_all,
    make_app,
    response,
    wait_until,
)

pytestmark = pytest.mark.integration

PARTITIONS = 4
INGESTED = "voc_responses_ingested"
# Units of tests/org_tree.yaml; keyed by unit they fill partitions 0, 1 and 3 of 4, so with
# two members each worker owns at least one unit, whichever assignor the group uses.
UNITS = [f"store-{i}" for i in range(8)] + [
    "store-12",
    "store-12-field",
    "store-40",
    "store-41",
    "store-99",
]


@pytest.fixture(scope="module")
def broker(both_brokers: str) -> str:
    """Every test here runs on the embedded broker and on Apache Kafka (tests/conftest.py)."""
    return both_brokers


def member_prefix(worker: Worker) -> str:
    # The worker's client id is voc-<host>-<pid>; both brokers prefix member ids with it.
    return f"voc-{socket.gethostname()}-{worker.process.pid}-"


@dataclass
class Group:
    """An API without embedded workers (it migrates, loads the org tree, creates the topic and
    takes REST posts) and two standalone workers in one consumer group."""

    app: App
    workers: list[Worker]
    broker: str

    def tails(self) -> str:
        logs = [self.app.log] + [w.log for w in self.workers]
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in logs)

    def members(self) -> tuple[str, list[str]]:
        """The group's state and member ids, as the broker's group coordinator describes them."""
        admin = KafkaAdminClient(bootstrap_servers=self.broker)
        # kafka-python decodes the group's authorized-operations bit set into ACLOperation
        # enums and fails on the embedded broker's (bit 15); the members are all we read.
        admin._process_acl_operations = lambda result: result
        try:
            group = admin.describe_groups([self.app.env["VOC_CONSUMER_GROUP"]])
        except KafkaError:
            # Apache Kafka has no coordinator for a group until its offsets topic exists.
            return "", []
        finally:
            admin.close()
        described = group[self.app.env["VOC_CONSUMER_GROUP"]]
        return described["group_state"], [m["member_id"] for m in described["members"]]

    def has_exactly(self, *workers: Worker) -> bool:
        state, members = self.members()
        owners = [w for w in workers for m in members if m.startswith(member_prefix(w))]
        return state == "Stable" and len(members) == len(workers) == len(owners)

    def post(self, bodies: list[dict[str, Any]]) -> None:
        with self.app.client() as client:
            answer = client.post("/api/v1/responses:batch", json={"responses": bodies})
        assert answer.status_code == 202, answer.text

    def rows(self) -> list[dict[str, Any]]:
        return self.app.rows()

    def repeated_ids(self) -> list[tuple[str, int]]:
        engine = store.make_engine(self.app.database_url)
        try:
            with engine.connect() as connection:
                query = (
                    "SELECT response_id, count(*) FROM responses "
                    "GROUP BY response_id HAVING count(*) > 1"
                )
                return [(r[0], r[1]) for r in connection.execute(sa.text(query))]
        finally:
            engine.dispose()


def _partitions(broker: str, topic: str) -> set[int]:
    consumer = KafkaConsumer(bootstrap_servers=broker)
    try:
        return set(consumer.partitions_for_topic(topic) or ())
    finally:
        consumer.close()


@pytest.fixture
def group(broker: str, tmp_path: Path, redis_server: RedisServer) -> Iterator[Group]:
    app = make_app(
        broker,
        tmp_path,
        redis_url=redis_server.url,
        embedded_workers="0",
        topic_partitions=str(PARTITIONS),
        # Small batches: more commits, so a kill may fall between a batch's store and its commit.
        poll_max_records="10",
    )
    workers: list[Worker] = []
    # The API first: the workers reject responses for units the database does not list yet.
    app.start()
    try:
        assert _partitions(broker, app.topic) == set(range(PARTITIONS)), app.log.read_text()
        workers = [Worker.start(app, tmp_path / f"worker-{n}.log") for n in ("a", "b")]
        cluster = Group(app, workers, broker)

        def both_in_group() -> bool:
            for worker in workers:
                assert worker.process.poll() is None, cluster.tails()
            return cluster.has_exactly(*workers)

        # Produce only once the group is stable, so each partition has one owner from the start.
        wait_until(both_in_group, timeout_s=60, message="both workers in a stable group")
        yield cluster
    finally:
        for worker in workers:
            worker.stop()
        app.stop()


def test_workers_split_the_partitions_and_a_survivor_takes_over_a_killed_one(
    group: Group,
) -> None:
    first, second = group.workers
    rounds_before, rounds_during = 10, 20
    before = [response(org_unit=unit) for _ in range(rounds_before) for unit in UNITS]
    group.post(before)
    wait_until(
        lambda: len(group.rows()) >= len(before),
        timeout_s=45,
        message=f"{len(before)} rows; last logs:\n{group.tails()}",
    )
    split = (first.counter(INGESTED), second.counter(INGESTED))
    assert all(n > 0 for n in split), f"stored by each worker: {split}\n{group.tails()}"
    assert sum(split) == len(before), f"stored by each worker: {split}\n{group.tails()}"
    # Each unit has as many responses during the kill as before it, times this, so the
    # survivor's partitions alone would give it exactly this much in all:
    own_share = split[1] * (1 + rounds_during // rounds_before)

    half_posted, killed = threading.Event(), threading.Event()
    during: list[dict[str, Any]] = []

    def post_during() -> None:
        for round_number in range(rounds_during):
            if round_number == rounds_during // 2:
                half_posted.set()
                assert killed.wait(timeout=30), "the worker was not killed"
            chunk = [response(org_unit=unit) for unit in UNITS]
            during.extend(chunk)
            group.post(chunk)

    with ThreadPoolExecutor(max_workers=1) as pool:
        posting = pool.submit(post_during)
        assert half_posted.wait(timeout=30), "the first half was not posted"
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed.set()
        posting.result(timeout=60)

    produced = {b["response_id"] for b in before + during}
    assert (
        len(produced) == len(before) + len(during) == len(UNITS) * (rounds_before + rounds_during)
    )
    wait_until(
        lambda: len(group.rows()) >= len(produced),
        timeout_s=60,
        message=f"{len(produced)} rows; last logs:\n{group.tails()}",
    )
    wait_until(
        lambda: group.has_exactly(second), timeout_s=30, message="the survivor alone in the group"
    )
    rows = group.rows()
    assert len(rows) == len(produced), group.tails()
    assert {r["response_id"] for r in rows} == produced
    assert group.repeated_ids() == []
    assert second.process.poll() is None, group.tails()
    took_over = second.counter(INGESTED)
    assert took_over > own_share, (
        f"the survivor stored {took_over}, no more than its own partitions hold ({own_share}); "
        f"duplicates it skipped: {second.counter('voc_responses_duplicate')}\n{group.tails()}"
    )


def test_one_units_responses_stay_on_one_partition_in_posting_order(group: Group) -> None:
    # Keyed by unit, these two land on different partitions (3 and 1 of 4).
    units = ("store-40", "store-7")
    posted = [response(org_unit=units[i % 2], comment=f"answer {i}") for i in range(40)]
    with group.app.client() as client:
        for body in posted:
            answer = client.post("/api/v1/responses", json=body)
            assert answer.status_code == 202, answer.text

    records = consume_all(group.broker, group.app.topic, expected=len(posted))
    assert len(records) == len(posted)
    for unit in units:
        in_order = [b["response_id"] for b in posted if b["org_unit"] == unit]
        mine = [r for r in records if r.key == unit.encode()]
        assert len({r.partition for r in mine}) == 1, [(r.partition, r.offset) for r in mine]
        on_partition = sorted(mine, key=lambda r: r.offset)
        assert [json.loads(r.value)["response_id"] for r in on_partition] == in_order
    assert {r.key.decode() for r in records} == set(units)
    assert len({r.partition for r in records}) == 2, "the units share a partition; pick others"

    wait_until(
        lambda: len(group.rows()) >= len(posted),
        timeout_s=45,
        message=f"{len(posted)} rows; last logs:\n{group.tails()}",
    )
    for unit in units:
        stored = sorted((r for r in group.rows() if r["org_unit"] == unit), key=lambda r: r["id"])
        in_order = [b["response_id"] for b in posted if b["org_unit"] == unit]
        assert [r["response_id"] for r in stored] == in_order


# 5 promoters, 2 passives, 3 detractors in every 10: NPS +20.
SCORES = [10, 9, 10, 9, 10, 8, 7, 6, 3, 0]
ROUND = 20


async def test_two_workers_writing_one_unit_keep_its_live_barometer_whole(group: Group) -> None:
    # Produced without a key, round-robin over the partitions, as an integrator's own producer
    # might: both workers add to the same unit's aggregate rows.
    app, total = group.app, 10 * ROUND
    async with connect(app.ws_url, additional_headers=app.auth("frontline")) as ws:
        cockpit = Cockpit(ws)
        await cockpit.subscribe(org_units=["store-12"])
        producer = KafkaProducer(bootstrap_servers=group.broker, acks="all", linger_ms=2)
        try:
            # In rounds, each stored before the next: every worker writes to the unit again after
            # the other did, which is where counts kept per worker would fall behind.
            for start in range(0, total, ROUND):
                for n in range(start, start + ROUND):
                    body = response(score=SCORES[n % len(SCORES)], org_unit="store-12")
                    value = json.dumps(body).encode()
                    producer.send(app.topic, value=value, partition=n % PARTITIONS)
                producer.flush(timeout=15)
                stored = start + ROUND
                wait_until(lambda n=stored: len(app.rows()) == n, message=f"{stored} rows")
        finally:
            producer.close(timeout=5)

        def final(event: dict[str, Any]) -> bool:
            # The pushed barometer of the page's scope once it counts every response.
            return (
                event["type"] == "barometer"
                and event.get("scope") == {"org_units": ["store-12"], "touchpoints": []}
                and event["data"]["windows"]["today"]["responses"] == total
            )

        newest = await cockpit.next(final, timeout=30)
    seen = ("responses", "promoters", "passives", "detractors", "nps")
    expected = (total, 100, 40, 60, 20.0)
    assert tuple(newest["data"]["windows"]["today"][k] for k in seen) == expected
    # Both workers wrote to the unit, so each had to take in the other's rows.
    ingested = [w.counter(INGESTED) for w in group.workers]
    assert all(n > 0 for n in ingested), ingested

    with app.as_user("frontline") as frontline:
        read = frontline.get("/api/v1/barometers", params={"org_unit": "store-12"}).json()
    assert tuple(read["windows"]["today"][k] for k in seen) == expected
