"""The worker's source: a kafka-python consumer in its group, polled in batches, committed by hand.

Kafka's errors leave here as `BrokerUnavailable`, so the worker's policy needs no Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kafka import KafkaConsumer
from kafka.coordinator.base import MemberState
from kafka.errors import KafkaError

from app import metrics
from app.core.errors import BrokerUnavailable
from app.core.settings import Settings
from ingest.pipeline import Message

T = TypeVar("T")


class KafkaSource:
    def __init__(self, settings: Settings, name: str) -> None:
        s = settings
        self._max_records = s.poll_max_records
        self._consumer = _broker(
            lambda: KafkaConsumer(
                bootstrap_servers=s.kafka_bootstrap,
                group_id=s.consumer_group,
                client_id=f"voc-{name}",
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
        )
        self._consumer.subscribe([s.responses_topic])

    def poll(self) -> list[Message]:
        polled = _broker(lambda: self._consumer.poll(timeout_ms=100, max_records=self._max_records))
        return [
            Message(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
            for batch in polled.values()
            for r in batch
        ]

    def commit(self) -> None:
        _broker(self._consumer.commit)

    def joined(self) -> bool:
        """Whether this member has a stable place (an assignment, possibly empty) in its group."""
        return bool(self._consumer.group_metadata().state is MemberState.STABLE)

    def lag(self, uncommitted: Sequence[Message]) -> int | None:
        """Set each partition's lag, counted from its first uncommitted offset; the total lag,
        or None while a partition's is unknown.

        The consumer's position moves past a polled batch at once: were lag counted from it, a
        batch failing to be stored would show none.
        """
        first: dict[int, int] = {}
        for message in uncommitted:
            first.setdefault(message.partition, message.offset)
        assigned = self._consumer.assignment()
        total: int | None = 0 if assigned else None
        for tp in assigned:
            high = self._consumer.highwater(tp)
            position = first.get(tp.partition)
            if position is None and high is not None:
                position = self._consumer.position(tp, timeout_ms=0)
            if high is None or position is None:
                total = None
                continue
            lag = max(high - position, 0)
            metrics.LAG.labels(partition=str(tp.partition)).set(lag)
            total = None if total is None else total + lag
        return total

    def close(self) -> None:
        self._consumer.close(autocommit=False, timeout_ms=3000)


def _broker(step: Callable[[], T]) -> T:
    try:
        return step()
    except KafkaError as exc:
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
