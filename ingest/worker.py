"""The Kafka consumer loop: poll a batch, dead-letter the bad, store the good once, publish, commit.

Commit semantics: offsets are committed only after the dead letters were acknowledged and the
batch was written to the database, so a crash at any point redelivers the batch (at-least-once)
and the unique `response_id` turns redelivery into no new rows (exactly-once rows).

Failure policy: a message is never retried for what it holds. One that cannot be decoded, or
whose row the database refuses, is dead-lettered (the batch's other rows are stored); one too
large to dead-letter whole is dead-lettered cut down. Only an unreachable database or broker
(or a bug) retries a batch, and a worker stuck on one says so (`degraded`, the stall gauge).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from alerts.rules import RuleBook
from app import metrics
from app.broker.producer import Producer
from app.core.barometer import BarometerBook
from app.core.errors import BrokerUnavailable, HubUnavailable, RecordsTooLarge
from app.core.events import SurveyResponse
from app.core.ports import AlertSink, EventSink, Scorer
from app.core.settings import Settings
from app.db import alerting, directory, store
from app.db.models import ResponseRow
from ingest import deadletter
from ingest.alerting import alert_payloads, repeat_window, response_alerts, unit_alerts
from ingest.batch import Scored, hub_payloads, score_all, tally
from ingest.decode import Rejected, decode
from ingest.stall import Stall

log = logging.getLogger(__name__)

T = TypeVar("T")
WEEK = timedelta(days=7)
MAX_BACKOFF_S = 10.0


class _ForgetOnRebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Barometers are kept for the partitions a worker owns; a rebalance makes them stale."""

    def __init__(self, forget: Callable[[], None]) -> None:
        self._forget = forget

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._forget()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._forget()


class IngestWorker:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: sa.Engine,
        scorer: Scorer,
        sink: EventSink,
        rules: RuleBook,
        alert_sink: AlertSink | None = None,
        name: str = "worker-1",
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._scorer = scorer
        self._sink = sink
        self._rules = rules
        self._alert_sink = alert_sink
        self._name = name
        self._book = BarometerBook(ZoneInfo(settings.timezone))
        # Each unit's revision the book's counts are exact for (see `_count`).
        self._revisions: dict[str, int] = {}
        self._units = directory.TreeCache(engine)
        self._dlq = Producer(settings, client_id=f"voc-{name}-dlq")
        self._stop = threading.Event()
        self._stall = Stall()
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
        while not self._stop.is_set():
            try:
                self._consume()
                return
            except _Stopped:
                raise
            except (KafkaError, BrokerUnavailable) as exc:
                if self._stall.failed(str(exc)):
                    log.warning("broker unavailable, retrying", extra=self._stalled(exc))
            except Exception as exc:
                metrics.WORKER_ERRORS.inc()
                if self._stall.failed(f"{type(exc).__name__}: {store.error_text(exc)}"):
                    log.exception("ingest batch failed; retrying it", extra=self._stalled(exc))
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _consume(self) -> None:
        s = self._settings
        consumer = KafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            group_id=s.consumer_group,
            client_id=f"voc-{self._name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
            # Short, so a stop() while the broker is down does not wait 30 s; run() retries.
            bootstrap_timeout_ms=5000,
            # With the default 500 ms the embedded broker held fetches: ~200 ms from post to
            # cockpit; 100 ms measured ~15 ms (bench/ingest_throughput.py).
            fetch_max_wait_ms=100,
            reconnect_backoff_max_ms=2000,
            max_partition_fetch_bytes=max(s.max_message_bytes * 2, 1024 * 1024),
        )
        consumer.subscribe([s.responses_topic], listener=_ForgetOnRebalance(self._forget_all))
        log.info("worker consuming", extra={"topic": s.responses_topic, "worker": self._name})
        try:
            while not self._stop.is_set():
                polled = consumer.poll(timeout_ms=100, max_records=s.poll_max_records)
                records = [r for batch in polled.values() for r in batch]
                # Reported before the batch is handled: it is lag until committed, however long
                # storing it takes.
                behind = self._report_lag(consumer, records)
                if records:
                    self._handle(records)
                    consumer.commit()
                if records or behind == 0:
                    self._progressed()
        finally:
            consumer.close(autocommit=False, timeout_ms=3000)
            self._dlq.close()

    def _handle(self, records: Sequence[Any]) -> None:
        decoded: list[tuple[SurveyResponse, datetime]] = []
        rejected: list[tuple[Any, Rejected]] = []
        valid: list[tuple[Any, SurveyResponse]] = []
        for record in records:
            result = self._decode(record)
            if isinstance(result, Rejected):
                rejected.append((record, result))
            else:
                valid.append((record, result))
        tree = self._retry(self._units.get)
        if any(r.org_unit not in tree for _, r in valid):
            tree = self._retry(self._units.refresh)
        sources: dict[str, Any] = {}
        for record, response in valid:
            if response.org_unit in tree:
                decoded.append((response, _received_at(record)))
                sources.setdefault(response.response_id, record)
            else:
                rejected.append((record, _unknown_unit(response.org_unit)))
        if rejected:
            self._dead_letter(rejected)
        scored = score_all(self._scorer, decoded)
        if not scored:
            return
        now = datetime.now(UTC)
        raised = self._retry(lambda: self._response_alerts(scored, now))
        inserted, refused = self._store(scored, raised)
        if refused:
            self._dead_letter(
                [(sources[rid], Rejected("unstorable", why)) for rid, why in refused.items()]
            )
        stored = [s for s in scored if s.response.response_id in inserted.response_ids]
        metrics.INGESTED.inc(len(stored))
        # Repeats within the batch were dropped by score_all: they are duplicates too.
        metrics.DUPLICATES.inc(len(decoded) - len(stored) - len(refused))
        metrics.FLAGGED.inc(sum(s.assessment.dissatisfied for s in stored))
        if stored:
            self._retry(lambda: self._count(stored, inserted.revisions))
            self._publish(stored, inserted.alert_ids, inserted.revisions)

    def _response_alerts(self, scored: Sequence[Scored], now: datetime) -> dict[str, Any]:
        window = repeat_window(self._rules)
        refs = [s.response.customer_ref for s in scored if s.assessment.dissatisfied]
        known = [r for r in refs if r is not None]
        earlier = {}
        if window is not None and known:
            since = min(s.response.submitted_at for s in scored) - window
            earlier = alerting.earlier_dissatisfied(self._engine, known, since)
        return response_alerts(self._rules, scored, earlier, now, self._settings)

    def _decode(self, record: Any) -> SurveyResponse | Rejected:
        try:
            return decode(record.value, max_bytes=self._settings.max_message_bytes)
        except Exception as exc:
            # decode() must not raise on bad input; if some input still makes it, that input
            # is dead-lettered for the bug to be fixed, rather than stalling its partition.
            metrics.WORKER_ERRORS.inc()
            log.exception("decoding raised; dead-lettering the message", extra=_at(record))
            return Rejected("undecodable", f"{type(exc).__name__}: {exc}")

    def _dead_letter(self, rejected: Sequence[tuple[Any, Rejected]]) -> None:
        """Dead-letter each record, whole if the producer and broker take it, else cut down.

        Records the broker refuses for their size are sent again smaller: a size refusal is
        never retried as is. One refused even as headers alone is logged and dropped.
        """
        pending = list(rejected)
        for limit in (self._dlq.max_request_bytes, *deadletter.FALLBACK_LIMITS):
            letters = [_letter(record, why, limit) for record, why in pending]
            refused: list[int] = []
            try:
                self._retry(partial(self._dlq.send, self._settings.dlq_topic, letters))
            except RecordsTooLarge as exc:
                refused = exc.indices
                log.warning("the broker refused dead letters for their size; cutting them down")
            for index, (record, why) in enumerate(pending):
                if index not in refused:
                    metrics.DLQ.labels(reason=why.reason).inc()
                    cut = len(letters[index][1]) < len(record.value or b"")
                    extra = {"reason": why.reason, "detail": why.detail, "truncated": cut}
                    log.warning("dead-lettered", extra={**extra, **_at(record)})
            pending = [pending[i] for i in refused]
            if not pending:
                return
        for record, why in pending:
            extra = {"reason": why.reason, **_at(record)}
            log.error("the broker refused even an empty dead letter; message dropped", extra=extra)

    def _count(self, stored: Sequence[Scored], revisions: Mapping[str, store.Revision]) -> None:
        """Count newly stored responses into the barometers, exactly, whoever else writes.

        A unit's revision grew by exactly this batch's rows when no other worker wrote to it since
        this one last did (keyed responses: one partition, one worker): the batch is added. Else
        (a unit new to this worker, or one another worker wrote to: unkeyed responses, a
        rebalance) the unit is reloaded from the database, which already holds the batch.
        """
        stale = sorted(
            unit
            for unit, (revision, added) in revisions.items()
            if self._revisions.get(unit) != revision - added
        )
        for unit in stale:
            self._book.forget(unit)
        if stale:
            since = datetime.now(UTC) - WEEK
            for row in store.tallies(self._engine, since=since, org_units=stale):
                self._book.add(row)
        for item in stored:
            if item.response.org_unit not in stale:
                self._book.add(tally(item))
        self._revisions.update({unit: r.revision for unit, r in revisions.items()})

    def _forget_all(self) -> None:
        self._book.clear()
        self._revisions.clear()

    def _store(
        self, scored: Sequence[Scored], alerts: dict[str, Any]
    ) -> tuple[store.Inserted, dict[str, str]]:
        """Store the batch in one transaction; if the database refuses a row, each row alone.

        Returns what was inserted and, by response id, the database's reason for each row it
        refused.
        """
        rows = [ResponseRow.values(s.response, s.assessment, s.received_at) for s in scored]
        try:
            return self._retry(lambda: store.insert_new(self._engine, rows, alerts)), {}
        except Exception as exc:
            if not store.refuses_row(exc):
                raise
            why = {"error": store.error_text(exc), "worker": self._name}
            log.warning("the database refused a row; storing the batch row by row", extra=why)
        return store.insert_each(self._engine, rows, alerts, attempt=self._retry)

    def _publish(
        self,
        stored: Sequence[Scored],
        alert_ids: Sequence[int],
        revisions: Mapping[str, store.Revision],
    ) -> None:
        now = datetime.now(UTC)
        payloads = hub_payloads(
            stored, self._book, now, {u: r.revision for u, r in revisions.items()}
        )
        units = {s.response.org_unit for s in stored}
        drops = unit_alerts(self._rules, self._book, units, now, self._settings)
        # A unit's drop alert is one per clock hour; if this insert is lost to a crash, the
        # next response of a unit still below its baseline raises it.
        alert_ids = [*alert_ids, *self._retry(lambda: alerting.insert_alerts(self._engine, drops))]
        views = self._retry(lambda: alerting.load(self._engine, alert_ids))
        payloads += alert_payloads(views)
        metrics.ALERTS.inc(len(views))
        if views and self._alert_sink is not None:
            self._alert_sink.raised(views)
        try:
            self._sink.publish(payloads)
        except HubUnavailable as exc:
            # Stored rows stay readable through the REST API; only the live push is missed.
            metrics.HUB_PUBLISH_FAILURES.inc()
            log.error(
                "hub unavailable; batch stored but not pushed live", extra={"error": str(exc)}
            )

    def _retry(self, step: Callable[[], T]) -> T:
        """Run an infrastructure step until it succeeds; on stop, raise so nothing is committed."""
        backoff = 0.2
        while True:
            try:
                return step()
            except (sa.exc.OperationalError, sa.exc.InterfaceError, BrokerUnavailable) as exc:
                if self._stall.failed(store.error_text(exc)):
                    log.warning("infrastructure failure, retrying", extra=self._stalled(exc))
            if self._stop.wait(backoff):
                raise _Stopped
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _stalled(self, exc: BaseException) -> dict[str, Any]:
        """Log fields of a failure: logged once a minute, so each line says for how long."""
        return {
            "error": store.error_text(exc),
            "worker": self._name,
            "stalled_s": round(self._stall.seconds()),
        }

    def _progressed(self) -> None:
        stalled = self._stall.progressed()
        if stalled is not None:
            log.info("worker recovered", extra={"worker": self._name, "stalled_s": round(stalled)})

    def _report_lag(self, consumer: KafkaConsumer, uncommitted: Sequence[Any]) -> int | None:
        """Set each partition's lag, counted from its first uncommitted offset; the total lag,
        or None while a partition's is unknown.

        The consumer's position moves past a polled batch at once: were lag counted from it, a
        batch failing to be stored would show none.
        """
        first: dict[int, int] = {}
        for record in uncommitted:
            first.setdefault(record.partition, record.offset)
        assigned = consumer.assignment()
        total: int | None = 0 if assigned else None
        for tp in assigned:
            high = consumer.highwater(tp)
            position = first.get(tp.partition)
            if position is None and high is not None:
                position = consumer.position(tp, timeout_ms=0)
            if high is None or position is None:
                total = None
                continue
            lag = max(high - position, 0)
            metrics.LAG.labels(partition=str(tp.partition)).set(lag)
            total = None if total is None else total + lag
        return total


class _Stopped(Exception):
    """Stop requested while a batch was still unstored: leave its offsets uncommitted."""


def _letter(record: Any, why: Rejected, limit: int) -> deadletter.Record:
    return deadletter.record(
        record.key,
        record.value if record.value is not None else b"",
        reason=why.reason,
        detail=why.detail,
        source=f"{record.topic}/{record.partition}/{record.offset}",
        limit=limit,
    )


def _at(record: Any) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def _unknown_unit(org_unit: str) -> Rejected:
    return Rejected(
        "unknown_org_unit",
        f"org_unit: {org_unit!r} is not in the org tree; add the unit, then replay this message",
    )


def _received_at(record: Any) -> datetime:
    if record.timestamp and record.timestamp > 0:
        return datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return datetime.now(UTC)


def run_worker(worker: IngestWorker) -> None:
    try:
        worker.run()
    except _Stopped:
        log.info("worker stopped mid-batch; its offsets stay uncommitted")
