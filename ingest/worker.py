"""The ingest worker: a loop that polls a batch, runs the pipeline, commits, and its error policy.

Commit semantics: offsets are committed only after the dead letters were acknowledged and the
batch was written to the database, so a crash at any point redelivers the batch (at-least-once)
and the unique `response_id` turns redelivery into no new rows (exactly-once rows).

Error policy, by what failed:
- a message (undecodable, invalid, an unknown unit, a row the database refuses): dead-lettered
  with its reason; the rest of the batch is stored and the batch committed. A message is never
  retried for what it holds.
- the database or the broker (unreachable, timing out): nothing is committed; the step is
  retried with backoff until it succeeds or the worker stops, and a worker stuck on one batch
  says so (`degraded`, the stall gauge).
- the org tree changed under the batch: counted again for the new tree, then written.
- the hub (Redis): the batch stays stored and committed; the live push is missed and counted.
- anything else (a bug): the batch stays uncommitted and is tried again after a reconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from alerts.rules import RuleBook
from app import metrics
from app.core.errors import (
    BrokerUnavailable,
    HubUnavailable,
    RecordsTooLarge,
    StoreUnavailable,
    TreeChanged,
)
from app.core.ports import AlertSink, EventSink, IngestStore, Scorer
from app.core.settings import Settings
from app.core.writes import Committed
from ingest import deadletter
from ingest.decode import Rejected
from ingest.pipeline import Message, Plan, Prepared, plan, prepare, publication
from ingest.stall import Stall

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BACKOFF_S = 10.0
PRUNE_EVERY_S = 300.0
# Joining a group takes well under a second, and a rebalance waits at most for the slowest
# member's batch or a dead member's session (6 s); a member still joining after this is stuck
# (seen with kafka-python on a loaded Apache Kafka: joined, then no heartbeat, dropped after
# its session): it starts over with a new consumer. Every second of it is ingest standing still.
JOIN_STUCK_S = 15.0
UNAVAILABLE = (StoreUnavailable, BrokerUnavailable)


class Source(Protocol):
    """A consumer group member's batches (ingest/kafka.py)."""

    def poll(self) -> Sequence[Message]: ...

    def commit(self) -> None:
        """Commit the offsets of everything polled so far."""

    def lag(self, uncommitted: Sequence[Message]) -> int | None:
        """Messages behind, counted from the first uncommitted one; None when unknown."""

    def joined(self) -> bool:
        """Whether it holds a stable place in its consumer group."""

    def close(self) -> None: ...


class LetterBox(Protocol):
    """The dead-letter producer (app/broker/producer.py)."""

    @property
    def max_request_bytes(self) -> int: ...

    def send(self, topic: str, records: Sequence[deadletter.Record]) -> None:
        """Raises RecordsTooLarge naming the refused ones, BrokerUnavailable on an outage."""

    def close(self) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class IngestWorker:
    def __init__(
        self,
        *,
        settings: Settings,
        connect: Callable[[], Source],
        store: IngestStore,
        letters: LetterBox,
        scorer: Scorer,
        rules: RuleBook,
        sink: EventSink,
        alert_sink: AlertSink | None = None,
        name: str = "worker-1",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._settings = settings
        self._connect = connect
        self._store = store
        self._letters = letters
        self._scorer = scorer
        self._rules = rules
        self._sink = sink
        self._alert_sink = alert_sink
        self._name = name
        self._clock = clock
        self._stop = threading.Event()
        self._stall = Stall()
        self._pruned_at = float("-inf")
        metrics.STALLED.labels(worker=name).set_function(self._stall.seconds)

    def stop(self) -> None:
        self._stop.set()

    def degraded(self) -> str | None:
        """Why this worker is not ingesting, once it has been stuck on one batch for a while."""
        problem = self._stall.degraded()
        return None if problem is None else f"{self._name} {problem}"

    def run(self) -> None:
        """Consume until `stop()`; failures are retried with backoff, never fatal.

        An unexpected error (a bug, not bad input: bad input is dead-lettered) leaves the batch
        uncommitted and reconnects, so the batch is tried again rather than skipped.
        """
        backoff = 0.5
        try:
            while not self._stop.is_set():
                try:
                    self._consume()
                    return
                except Stopped:
                    raise
                except UNAVAILABLE as exc:
                    if self._stall.failed(str(exc)):
                        log.warning(
                            "database or broker unavailable, retrying", extra=self._stalled(exc)
                        )
                except Exception as exc:
                    metrics.WORKER_ERRORS.inc()
                    if self._stall.failed(f"{type(exc).__name__}: {exc}"):
                        log.exception("ingest batch failed; retrying it", extra=self._stalled(exc))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        finally:
            # Closed once, not on each reconnect: a closed producer never sends again.
            self._letters.close()

    def _consume(self) -> None:
        source = self._connect()
        log.info(
            "worker consuming",
            extra={"topic": self._settings.responses_topic, "worker": self._name},
        )
        joining_since = time.monotonic()
        try:
            while not self._stop.is_set():
                if source.joined():
                    joining_since = time.monotonic()
                elif time.monotonic() - joining_since > JOIN_STUCK_S:
                    raise BrokerUnavailable(f"not in the consumer group after {JOIN_STUCK_S:.0f} s")
                messages = source.poll()
                # Reported before the batch is handled: it is lag until committed, however long
                # storing it takes.
                behind = source.lag(messages)
                if messages:
                    self.handle(messages)
                    source.commit()
                if messages or behind == 0:
                    self._progressed()
                self._prune()
        finally:
            source.close()

    def handle(self, messages: Sequence[Message]) -> None:
        """Store one batch, publish what it stored; returns once its offsets may be committed."""
        now = self._clock()
        prepared = self._prepare(messages, now, fresh=False)
        if prepared.unknown_units:
            # A unit added since the tree was read is known at once, not after its cache time.
            prepared = self._prepare(messages, now, fresh=True)
        for message in prepared.crashed:
            metrics.WORKER_ERRORS.inc()
            log.error("decoding or scoring raised; dead-lettering the message", extra=_at(message))
        if prepared.rejected:
            self._dead_letter(prepared.rejected)
        if not prepared.scored:
            return
        while True:
            facts = self._retry(partial(self._store.facts, prepared.query))
            planned = plan(prepared, facts, rules=self._rules, settings=self._settings, now=now)
            try:
                committed = self._retry(partial(self._store.commit, planned.writes))
                break
            except TreeChanged:
                log.info("the org tree changed under a batch; counting it again")
                lettered = {m.source for m, _ in prepared.rejected}
                prepared = self._prepare(messages, now, fresh=True)
                # Units removed since: their messages are rejected now; the others already were.
                removed = [r for r in prepared.rejected if r[0].source not in lettered]
                if removed:
                    self._dead_letter(removed)
                if not prepared.scored:
                    return
        if committed.refused:
            self._refused(planned, committed.refused)
        self._publish(planned, committed)

    def _prepare(self, messages: Sequence[Message], now: datetime, *, fresh: bool) -> Prepared:
        tree = self._retry(lambda: self._store.tree(fresh=fresh))
        return prepare(
            messages,
            tree=tree,
            scorer=self._scorer,
            rules=self._rules,
            max_bytes=self._settings.max_message_bytes,
            now=now,
        )

    def _refused(self, planned: Plan, refused: Mapping[str, str]) -> None:
        sources = planned.prepared.sources
        why = {"error": next(iter(refused.values())), "worker": self._name}
        log.warning("the database refused rows; the others are stored", extra=why)
        self._dead_letter([(sources[rid], Rejected("unstorable", r)) for rid, r in refused.items()])

    def _publish(self, planned: Plan, committed: Committed) -> None:
        done = publication(planned, committed)
        metrics.INGESTED.inc(len(done.stored))
        metrics.DUPLICATES.inc(done.duplicates)
        metrics.FLAGGED.inc(sum(s.assessment.dissatisfied for s in done.stored))
        metrics.ALERTS.inc(len(done.alerts))
        if done.alerts and self._alert_sink is not None:
            self._alert_sink.raised(done.alerts)
        if not done.payloads:
            return
        try:
            self._sink.publish(done.payloads)
        except HubUnavailable as exc:
            # Stored rows stay readable through the REST API; only the live push is missed.
            metrics.HUB_PUBLISH_FAILURES.inc()
            log.error(
                "hub unavailable; batch stored but not pushed live", extra={"error": str(exc)}
            )

    def _dead_letter(self, rejected: Sequence[tuple[Message, Rejected]]) -> None:
        """Dead-letter each message, whole if the producer and broker take it, else cut down.

        Records the broker refuses for their size are sent again smaller: a size refusal is
        never retried as is. One refused even as headers alone is logged and dropped.
        """
        pending = list(rejected)
        topic = self._settings.dlq_topic
        for limit in (self._letters.max_request_bytes, *deadletter.FALLBACK_LIMITS):
            letters = [_letter(message, why, limit) for message, why in pending]
            refused: list[int] = []
            try:
                self._retry(partial(self._letters.send, topic, letters))
            except RecordsTooLarge as exc:
                refused = exc.indices
                log.warning("the broker refused dead letters for their size; cutting them down")
            for index, (message, why) in enumerate(pending):
                if index not in refused:
                    metrics.DLQ.labels(reason=why.reason).inc()
                    cut = len(letters[index][1]) < len(message.value or b"")
                    extra = {"reason": why.reason, "detail": why.detail, "truncated": cut}
                    log.warning("dead-lettered", extra={**extra, **_at(message)})
            pending = [pending[i] for i in refused]
            if not pending:
                return
        for message, why in pending:
            extra = {"reason": why.reason, **_at(message)}
            log.error("the broker refused even an empty dead letter; message dropped", extra=extra)

    def _prune(self) -> None:
        """Delete the minute aggregates no window reads any more, every PRUNE_EVERY_S."""
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._retry(lambda: self._store.prune(self._clock()))
            self._pruned_at = now

    def _retry(self, step: Callable[[], T]) -> T:
        """Run a step until the database and broker let it through; on stop, raise Stopped so
        nothing is committed."""
        backoff = 0.2
        while True:
            try:
                return step()
            except UNAVAILABLE as exc:
                if self._stall.failed(str(exc)):
                    log.warning("infrastructure failure, retrying", extra=self._stalled(exc))
            if self._stop.wait(backoff):
                raise Stopped
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _stalled(self, exc: BaseException) -> dict[str, Any]:
        """Log fields of a failure: logged once a minute, so each line says for how long."""
        return {"error": str(exc), "worker": self._name, "stalled_s": round(self._stall.seconds())}

    def _progressed(self) -> None:
        stalled = self._stall.progressed()
        if stalled is not None:
            log.info("worker recovered", extra={"worker": self._name, "stalled_s": round(stalled)})


class Stopped(Exception):
    """Stop requested while a batch was still unstored: leave its offsets uncommitted."""


def _letter(message: Message, why: Rejected, limit: int) -> deadletter.Record:
    return deadletter.record(
        message.key,
        message.value if message.value is not None else b"",
        reason=why.reason,
        detail=why.detail,
        source=message.source,
        limit=limit,
    )


def _at(message: Message) -> dict[str, Any]:
    return {"topic": message.topic, "partition": message.partition, "offset": message.offset}


def run_worker(worker: IngestWorker) -> None:
    try:
        worker.run()
    except Stopped:
        log.info("worker stopped mid-batch; its offsets stay uncommitted")
