"""Builds an ingest worker from settings: the one place `voc api` (embedded workers) and
`voc worker` (a standalone process) wire it, so both run the same worker."""

from __future__ import annotations

import sqlalchemy as sa

from alerts.rules import RuleBook
from app.broker.producer import Producer
from app.core.ports import AlertSink, EventSink, Scorer
from app.core.settings import Settings
from app.db.batches import BatchStore
from ingest.kafka import KafkaSource
from ingest.worker import IngestWorker


def build_worker(
    settings: Settings,
    *,
    engine: sa.Engine,
    scorer: Scorer,
    sink: EventSink,
    rules: RuleBook,
    alert_sink: AlertSink | None,
    name: str,
) -> IngestWorker:
    return IngestWorker(
        settings=settings,
        connect=lambda: KafkaSource(settings, name),
        store=BatchStore(engine),
        letters=Producer(settings, client_id=f"voc-{name}-dlq"),
        scorer=scorer,
        rules=rules,
        sink=sink,
        alert_sink=alert_sink,
        name=name,
    )
