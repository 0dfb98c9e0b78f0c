"""The Kafka consumer loop: poll a batch, dead-letter the bad, store the good once, publish, commit.

Commit semantics: offsets are committed only after the dead letters were acknowledged and the
batch was written to the database, so a crash at any point redelivers the batch (at-least-once)
and the unique `response_id` turns redelivery into no new rows (exactly-once rows).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
from app.core.errors import BrokerUnavailable, HubUnavailable
from app.core.events import SurveyResponse
from app.core.ports import AlertSink, EventSink, Scorer
from app.core.settings import Settings
from app.db import alerting, directory, store
from app.db.models import ResponseRow
from ingest.alerting import alert_payloads, repeat_window, response_alerts, unit_alerts
from ingest.batch import Scored, hub_payloads, score_all, tally
from ingest.decode import Rejected, decode

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

    def stop(self) -> None:
        self._stop.set()

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
                log.warning("broker unavailable, retrying", extra={"error": str(exc)})
            except Exception:
                metrics.WORKER_ERRORS.inc()
                log.exception("ingest batch failed; retrying it", extra={"worker": self._name})
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
                if records:
                    self._handle(records)
                    consumer.commit()
                self._report_lag(consumer)
        finally:
            consumer.close(autocommit=False, timeout_ms=3000)
            self._dlq.close()

    def _handle(self, records: Sequence[Any]) -> None:
        decoded: list[tuple[SurveyResponse, datetime]] = []
        rejected: list[tuple[Any, Rejected]] = []
        valid: list[tuple[Any, SurveyResponse]] = []
        for record in records:
            result = decode(record.value, max_bytes=self._settings.max_message_bytes)
            if isinstance(result, Rejected):
                rejected.append((record, result))
            else:
                valid.append((record, result))
        tree = self._retry(self._units.get)
        if any(r.org_unit not in tree for _, r in valid):
            tree = self._retry(self._units.refresh)
        for record, response in valid:
            if response.org_unit in tree:
                decoded.append((response, _received_at(record)))
            else:
                rejected.append((record, _unknown_unit(response.org_unit)))
        if rejected:
            self._retry(lambda: self._dead_letter(rejected))
        scored = score_all(self._scorer, decoded)
        if not scored:
            return
        now = datetime.now(UTC)
        raised = self._retry(lambda: self._response_alerts(scored, now))
        inserted = self._retry(lambda: self._store(scored, raised))
        stored = [s for s in scored if s.response.response_id in inserted.response_ids]
        metrics.INGESTED.inc(len(stored))
        metrics.DUPLICATES.inc(len(scored) - len(stored))
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

    def _dead_letter(self, rejected: Sequence[tuple[Any, Rejected]]) -> None:
        self._dlq.send(
            self._settings.dlq_topic,
            [
                (
                    record.key,
                    record.value if record.value is not None else b"",
                    [
                        ("voc.error.reason", why.reason.encode()),
                        ("voc.error.detail", why.detail.encode()),
                        (
                            "voc.source",
                            f"{record.topic}/{record.partition}/{record.offset}".encode(),
                        ),
                    ],
                )
                for record, why in rejected
            ],
        )
        for record, why in rejected:
            metrics.DLQ.labels(reason=why.reason).inc()
            log.warning(
                "dead-lettered",
                extra={"reason": why.reason, "detail": why.detail, "offset": record.offset},
            )

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

    def _store(self, scored: Sequence[Scored], alerts: dict[str, Any]) -> store.Inserted:
        rows = [ResponseRow.values(s.response, s.assessment, s.received_at) for s in scored]
        return store.insert_new(self._engine, rows, alerts)

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
                log.warning("infrastructure failure, retrying", extra={"error": str(exc)})
            if self._stop.wait(backoff):
                raise _Stopped
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _report_lag(self, consumer: KafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            position = consumer.position(tp, timeout_ms=0) if high is not None else None
            if high is not None and position is not None:
                metrics.LAG.labels(partition=str(tp.partition)).set(max(high - position, 0))


class _Stopped(Exception):
    """Stop requested while a batch was still unstored: leave its offsets uncommitted."""


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
