"""The ingest worker's error policy (ingest/worker.py), with fakes for its ports: what is stored,
dead-lettered, published and committed when a message, the database, the broker or the hub fails."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest
from prometheus_client import REGISTRY

import ingest.pipeline
import ingest.stall
import ingest.worker
from app.core.errors import (
    BrokerUnavailable,
    HubUnavailable,
    RecordsTooLarge,
    StoreUnavailable,
    TreeChanged,
)
from app.core.events import AlertView, SurveyResponse
from app.core.org import OrgTree, OrgUnit, UnitKind
from app.core.writes import Committed, Facts, FactsQuery, Scored, Writes
from ingest import deadletter
from ingest.decode import Rejected
from ingest.decode import decode as decode_for_real
from ingest.pipeline import Message
from ingest.worker import IngestWorker, run_worker
from tests.unit.test_pipeline import NOW, RULES, SETTINGS, TREE, Scorer, answer

DLQ = "voc.responses.dlq"
DB_DOWN = "connection refused"
# Store 1 moved from the north region to a new south one.
MOVED = OrgTree(
    [
        *(u for u in TREE if u.id != "store-1"),
        OrgUnit(id="south", name="South", kind=UnitKind.REGION, parent="acme"),
        OrgUnit(id="store-1", name="Store 1", parent="south"),
    ],
    version=TREE.version + 1,
)


class Source:
    """One partition's batches; redelivers from the last commit after a reconnect, and stops
    the worker once every batch was polled."""

    def __init__(self, batches: Sequence[list[Message]], journal: list[str]) -> None:
        self.batches = list(batches)
        self.journal = journal
        self.commits: list[int] = []
        self.connects = 0
        self.poll_outages = 0
        # How many consumers, from the first, never get a place in their group.
        self.stuck_joins = 0
        self._stuck = False
        self.worker: IngestWorker | None = None
        self._next = 0

    def connect(self) -> Source:
        self.connects += 1
        self._stuck = self.connects <= self.stuck_joins
        self._next = self.commits[-1] if self.commits else 0
        return self

    def joined(self) -> bool:
        return not self._stuck

    def poll(self) -> Sequence[Message]:
        if self._stuck:
            return []
        if self.poll_outages:
            self.poll_outages -= 1
            raise BrokerUnavailable("NoBrokersAvailable")
        if self._next == len(self.batches):
            if self.worker is not None:
                self.worker.stop()
            return []
        self._next += 1
        return self.batches[self._next - 1]

    def commit(self) -> None:
        self.journal.append("source.commit")
        self.commits.append(self._next)

    def lag(self, uncommitted: Sequence[Message]) -> int | None:
        return 0

    def close(self) -> None:
        pass


class Store:
    """Rows by response id and alerts by dedup key, in memory; fails as told."""

    def __init__(self, journal: list[str], tree: OrgTree = TREE) -> None:
        self.journal = journal
        self.cached = tree
        self.latest = tree
        self.rows: dict[str, Scored] = {}
        self.alerts: dict[str, int] = {}
        self.written: list[Writes] = []
        self.queries: list[FactsQuery] = []
        self.pruned: list[datetime] = []
        self.fresh_reads = 0
        # Calls by name (tree, facts, commit) that fail with StoreUnavailable, so many times.
        self.outages: Counter[str] = Counter()
        self.bugs = 0
        self.refuse: dict[str, str] = {}
        self.on_call: Callable[[str], None] = lambda name: None
        self._tree_change: OrgTree | None = None

    def change_tree(self, tree: OrgTree) -> None:
        """The tree becomes `tree` while the next commit is under way."""
        self._tree_change = tree

    def _call(self, name: str) -> None:
        self.on_call(name)
        if self.outages[name] > 0:
            self.outages[name] -= 1
            raise StoreUnavailable(DB_DOWN)

    def tree(self, *, fresh: bool = False) -> OrgTree:
        self._call("tree")
        if fresh:
            self.fresh_reads += 1
            self.cached = self.latest
        return self.cached

    def facts(self, query: FactsQuery) -> Facts:
        self._call("facts")
        self.queries.append(query)
        return Facts()

    def commit(self, writes: Writes) -> Committed:
        self.journal.append("store.commit")
        self._call("commit")
        if self.bugs:
            self.bugs -= 1
            raise RuntimeError("a bug in the store")
        if self._tree_change is not None:
            self.latest, self._tree_change = self._tree_change, None
        if writes.tree_version != self.latest.version:
            raise TreeChanged
        refused = {}
        new = set()
        for item in writes.responses:
            key = item.response.response_id
            if key in self.refuse:
                refused[key] = self.refuse[key]
            elif key not in self.rows:
                self.rows[key] = item
                new.add(key)
        raised = {}
        for alert in writes.alerts:
            if alert.response_id in (None, *new) and alert.dedup_key not in self.alerts:
                raised[alert.dedup_key] = self.alerts[alert.dedup_key] = len(self.alerts) + 1
        self.written.append(writes)
        return Committed(frozenset(new), raised, refused)

    def prune(self, now: datetime) -> None:
        self.pruned.append(now)


class Letters:
    """The dead-letter producer: records what the broker acknowledged. A broker `limit` refuses
    larger records, as a broker with a lower message.max.bytes does."""

    max_request_bytes = 1024 * 1024

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.sent: list[deadletter.Record] = []
        self.topics: set[str] = set()
        self.outages = 0
        self.limit: int | None = None
        self.closed = False

    def send(self, topic: str, records: Sequence[deadletter.Record]) -> None:
        if self.closed:
            # As the real producer: closed is closed, and reads as an outage.
            raise BrokerUnavailable("the producer is closed")
        if self.outages:
            self.outages -= 1
            self.journal.append("letters.send failed")
            raise BrokerUnavailable("broker did not acknowledge")
        self.journal.append("letters.send")
        limit = self.limit
        refused = [
            i for i, r in enumerate(records) if limit is not None and deadletter.size(*r) > limit
        ]
        self.topics.add(topic)
        self.sent += [r for i, r in enumerate(records) if i not in refused]
        if refused:
            raise RecordsTooLarge(refused)

    def close(self) -> None:
        self.closed = True


class Hub:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.calls = 0
        self.down = False

    def publish(self, payloads: Sequence[bytes]) -> None:
        self.calls += 1
        if self.down:
            raise HubUnavailable("redis: connection refused")
        self.payloads += payloads

    def events(self) -> list[tuple[str, str]]:
        found = [json.loads(p) for p in self.payloads]
        return [(e["type"], e["data"]["response_id"]) for e in found]


class AlertSink:
    def __init__(self) -> None:
        self.views: list[AlertView] = []

    def raised(self, alerts: Sequence[AlertView]) -> None:
        self.views += alerts


@dataclass
class Rig:
    journal: list[str]
    source: Source
    store: Store
    letters: Letters
    hub: Hub
    alerts: AlertSink
    worker: IngestWorker


def rig(*batches: list[Message]) -> Rig:
    journal: list[str] = []
    source = Source(batches, journal)
    store, letters, hub, alerts = Store(journal), Letters(journal), Hub(), AlertSink()
    worker = IngestWorker(
        settings=SETTINGS,
        connect=source.connect,
        store=store,
        letters=letters,
        scorer=Scorer(),
        rules=RULES,
        sink=hub,
        alert_sink=alerts,
        clock=lambda: NOW,
    )
    source.worker = worker
    return Rig(journal, source, store, letters, hub, alerts, worker)


def batch(*values: bytes | None, first: int = 0) -> list[Message]:
    return [
        Message("voc.responses", 0, first + i, b"store-1", value) for i, value in enumerate(values)
    ]


def run(r: Rig) -> None:
    """Run the worker until its source ran out of batches, or fail."""
    thread = threading.Thread(target=run_worker, args=(r.worker,), daemon=True)
    thread.start()
    thread.join(timeout=5)
    if thread.is_alive():
        r.worker.stop()
        thread.join(timeout=5)
        pytest.fail("the worker did not get through its batches")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def headers(record: deadletter.Record) -> dict[str, bytes]:
    return dict(record[2])


def test_poison_messages_are_dead_lettered_and_the_rest_stored_then_the_batch_committed() -> None:
    unknown = answer("r-3", org_unit="store-99")
    r = rig(batch(answer("r-1"), b"{not json", unknown, answer("r-4", score_kind="csat", score=1)))
    before = sample("voc_responses_dlq_total", reason="unknown_org_unit")
    run(r)
    assert [headers(letter)["voc.error.reason"] for letter in r.letters.sent] == [
        b"not_json",
        b"unknown_org_unit",
    ]
    assert [headers(letter)["voc.source"] for letter in r.letters.sent] == [
        b"voc.responses/0/1",
        b"voc.responses/0/2",
    ]
    assert [letter[1] for letter in r.letters.sent] == [b"{not json", unknown]
    assert r.letters.topics == {DLQ}
    assert sample("voc_responses_dlq_total", reason="unknown_org_unit") == before + 1
    assert set(r.store.rows) == {"r-1", "r-4"}
    assert r.hub.events() == [
        ("comment", "r-1"),
        ("comment", "r-4"),
        ("flag", "r-4"),
        ("alert", "r-4"),
    ]
    assert r.journal == ["letters.send", "store.commit", "source.commit"]
    assert r.source.commits == [1]


def test_a_redelivered_batch_is_neither_stored_nor_published_again() -> None:
    r = rig(batch(answer("r-1", score_kind="csat", score=1)))
    duplicates = sample("voc_responses_duplicate_total")
    r.worker.handle(r.source.batches[0])
    r.worker.handle(r.source.batches[0])
    assert list(r.store.rows) == ["r-1"] and len(r.store.alerts) == 1
    assert r.hub.calls == 1 and len(r.alerts.views) == 1
    assert sample("voc_responses_duplicate_total") == duplicates + 1


def test_while_the_database_is_down_nothing_is_committed_and_then_the_batch_is_stored_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest.stall, "DEGRADED_AFTER_S", 0.01)
    r = rig(batch(answer("r-1")))
    r.store.outages.update(facts=1, commit=1)
    seen: list[tuple[str, str | None, list[int]]] = []
    r.store.on_call = lambda name: seen.append((name, r.worker.degraded(), list(r.source.commits)))
    run(r)
    stuck = f"worker-1 stuck for 0 s on one batch: {DB_DOWN}"
    assert seen == [
        ("tree", None, []),
        ("facts", None, []),
        ("facts", stuck, []),
        ("commit", stuck, []),
        ("commit", stuck, []),
    ]
    assert r.journal == ["store.commit", "store.commit", "source.commit"]
    assert list(r.store.rows) == ["r-1"] and len(r.store.written) == 1
    assert r.hub.events() == [("comment", "r-1")]
    assert r.worker.degraded() is None


def test_a_stop_during_a_database_outage_leaves_the_batch_uncommitted() -> None:
    r = rig(batch(answer("r-1")))
    r.store.outages.update(commit=1_000_000)

    def stop_on_commit(name: str) -> None:
        if name == "commit":
            r.worker.stop()

    r.store.on_call = stop_on_commit
    run(r)
    assert r.source.commits == []
    assert r.store.rows == {} and r.hub.payloads == []
    assert r.letters.closed


def test_dead_letters_wait_for_the_broker_and_the_batch_is_committed_once_they_are_sent() -> None:
    r = rig(batch(b"{not json", answer("r-2")))
    r.letters.outages = 1
    run(r)
    assert r.journal == ["letters.send failed", "letters.send", "store.commit", "source.commit"]
    assert [letter[1] for letter in r.letters.sent] == [b"{not json"]
    assert list(r.store.rows) == ["r-2"]


def test_dead_letters_too_large_for_the_broker_are_sent_again_cut_down() -> None:
    big = b"{" + b"x" * 40_000
    r = rig(batch(big, b"[1]", answer("r-3")))
    r.letters.limit = 20 * 1024
    before = sample("voc_responses_dlq_total", reason="not_json")
    run(r)
    small, cut = r.letters.sent
    assert small[1] == b"[1]" and "voc.original.size" not in headers(small)
    assert big.startswith(cut[1]) and len(cut[1]) < 16 * 1024
    assert headers(cut)["voc.original.size"] == b"40001"
    assert headers(cut)["voc.error.reason"] == b"not_json"
    assert headers(cut)["voc.source"] == b"voc.responses/0/0"
    assert sample("voc_responses_dlq_total", reason="not_json") == before + 1
    assert r.journal == ["letters.send", "letters.send", "store.commit", "source.commit"]


def test_a_dead_letter_refused_even_as_headers_alone_is_dropped_and_the_batch_committed() -> None:
    r = rig(batch(b"{not json"))
    r.letters.limit = 100
    run(r)
    assert r.letters.sent == []
    # Whole, cut to 16 KiB, headers alone; no database write for a batch of poison.
    assert r.journal == ["letters.send"] * 3 + ["source.commit"]


def test_a_row_the_database_refuses_is_dead_lettered_as_unstorable_the_others_published() -> None:
    why = "value too long for type character varying(35)"
    refused = answer("r-2")
    r = rig(batch(answer("r-1"), refused, answer("r-3")))
    r.store.refuse = {"r-2": why}
    duplicates = sample("voc_responses_duplicate_total")
    r.worker.handle(r.source.batches[0])
    [letter] = r.letters.sent
    assert letter[1] == refused
    assert headers(letter)["voc.error.reason"] == b"unstorable"
    assert headers(letter)["voc.error.detail"] == why.encode()
    assert headers(letter)["voc.source"] == b"voc.responses/0/1"
    assert r.hub.events() == [("comment", "r-1"), ("comment", "r-3")]
    assert sample("voc_responses_duplicate_total") == duplicates


def test_a_batch_counted_for_an_older_tree_is_counted_again_for_the_new_one() -> None:
    r = rig(batch(answer("r-1"), answer("r-2", org_unit="north")))
    r.store.change_tree(MOVED)
    r.worker.handle(r.source.batches[0])
    [writes] = r.store.written
    assert writes.tree_version == MOVED.version
    assert {c.response_id: c.rolled_into for c in writes.counted} == {
        "r-1": ("south", "acme"),
        "r-2": ("north", "acme"),
    }
    assert r.journal == ["store.commit", "store.commit"]
    assert sorted(r.store.rows) == ["r-1", "r-2"]
    assert r.hub.events() == [("comment", "r-1"), ("comment", "r-2")]


def test_a_unit_removed_under_a_batch_is_dead_lettered_and_the_rest_stored() -> None:
    without_store_2 = OrgTree([u for u in TREE if u.id != "store-2"], version=TREE.version + 1)
    r = rig(batch(answer("r-1"), answer("r-2", org_unit="store-2")))
    r.store.change_tree(without_store_2)
    r.worker.handle(r.source.batches[0])
    [letter] = r.letters.sent
    assert headers(letter)["voc.error.reason"] == b"unknown_org_unit"
    assert headers(letter)["voc.source"] == b"voc.responses/0/1"
    assert list(r.store.rows) == ["r-1"]
    assert [w.tree_version for w in r.store.written] == [without_store_2.version]


def test_a_batch_whose_units_were_all_removed_under_it_is_dead_lettered_not_stored() -> None:
    without_store_2 = OrgTree([u for u in TREE if u.id != "store-2"], version=TREE.version + 1)
    r = rig(batch(answer("r-1", org_unit="store-2")))
    r.store.change_tree(without_store_2)
    r.worker.handle(r.source.batches[0])
    [letter] = r.letters.sent
    assert headers(letter)["voc.error.reason"] == b"unknown_org_unit"
    assert r.store.rows == {} and r.journal == ["store.commit", "letters.send"]
    assert r.hub.calls == 0


def test_a_message_rejected_before_the_tree_changed_is_dead_lettered_once() -> None:
    r = rig(batch(answer("r-1"), b"{not json", answer("r-3", org_unit="store-99")))
    r.store.change_tree(MOVED)
    r.worker.handle(r.source.batches[0])
    assert [headers(letter)["voc.source"] for letter in r.letters.sent] == [
        b"voc.responses/0/1",
        b"voc.responses/0/2",
    ]
    assert list(r.store.rows) == ["r-1"]


def test_a_unit_added_since_the_tree_was_cached_is_stored_not_dead_lettered() -> None:
    r = rig(batch(answer("r-1", org_unit="store-3")))
    r.store.latest = OrgTree(
        [*TREE, OrgUnit(id="store-3", name="Store 3", parent="north")], version=TREE.version + 1
    )
    r.worker.handle(r.source.batches[0])
    assert r.letters.sent == []
    assert list(r.store.rows) == ["r-1"] and r.store.fresh_reads == 1
    assert r.store.written[0].tree_version == TREE.version + 1
    assert r.store.written[0].counted[0].rolled_into == ("north", "acme")


def test_with_the_hub_down_the_batch_is_committed_and_its_alerts_still_raised() -> None:
    r = rig(batch(answer("r-1", score_kind="csat", score=1)))
    r.hub.down = True
    failures = sample("voc_hub_publish_failures_total")
    run(r)
    assert r.source.commits == [1] and list(r.store.rows) == ["r-1"]
    assert sample("voc_hub_publish_failures_total") == failures + 1
    [view] = r.alerts.views
    assert (view.id, view.response_id) == (r.store.alerts["response:r-1"], "r-1")


def test_an_unexpected_error_leaves_the_batch_uncommitted_to_be_stored_after_a_reconnect() -> None:
    r = rig(batch(answer("r-1")), batch(answer("r-2"), first=1))
    r.store.bugs = 1
    errors = sample("voc_worker_errors_total")
    run(r)
    assert r.source.connects == 2
    assert sample("voc_worker_errors_total") == errors + 1
    assert r.journal == [
        "store.commit",
        "store.commit",
        "source.commit",
        "store.commit",
        "source.commit",
    ]
    assert sorted(r.store.rows) == ["r-1", "r-2"]
    assert r.hub.events() == [("comment", "r-1"), ("comment", "r-2")]


def test_a_consumer_stuck_joining_its_group_starts_over_and_then_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest.worker, "JOIN_STUCK_S", 0.0)
    r = rig(batch(answer("r-1")))
    r.source.stuck_joins = 1
    run(r)
    assert r.source.connects == 2
    assert sorted(r.store.rows) == ["r-1"]
    assert r.source.commits == [1]


def test_after_a_broker_outage_while_polling_dead_letters_still_go_out() -> None:
    r = rig(batch(b"{not json", answer("r-2")))
    r.source.poll_outages = 1
    run(r)
    assert r.source.connects == 2
    assert [letter[1] for letter in r.letters.sent] == [b"{not json"]
    assert r.source.commits == [1]
    assert r.letters.closed


def test_a_message_that_crashes_decoding_is_dead_lettered_and_counted_as_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def decode(value: bytes | None, *, max_bytes: int) -> SurveyResponse | Rejected:
        if value is not None and b"r-boom" in value:
            raise ValueError("a bug in decode")
        return decode_for_real(value, max_bytes=max_bytes)

    monkeypatch.setattr(ingest.pipeline, "decode", decode)
    r = rig(batch(answer("r-boom"), answer("r-2")))
    errors = sample("voc_worker_errors_total")
    r.worker.handle(r.source.batches[0])
    [letter] = r.letters.sent
    assert headers(letter)["voc.error.reason"] == b"undecodable"
    assert headers(letter)["voc.error.detail"] == b"ValueError: a bug in decode"
    assert sample("voc_worker_errors_total") == errors + 1
    assert list(r.store.rows) == ["r-2"]


@pytest.mark.parametrize(("every_s", "prunes"), [(3600.0, 1), (0.0, 4)])
def test_minute_aggregates_are_pruned_at_most_every_prune_interval(
    monkeypatch: pytest.MonkeyPatch, every_s: float, prunes: int
) -> None:
    monkeypatch.setattr(ingest.worker, "PRUNE_EVERY_S", every_s)
    r = rig(*(batch(answer(f"r-{i}"), first=i) for i in range(3)))
    run(r)
    # One poll per batch, then the empty one that stops the worker.
    assert r.store.pruned == [NOW] * prunes
    assert len(r.store.rows) == 3
