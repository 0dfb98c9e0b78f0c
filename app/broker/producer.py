"""Producing to Kafka and waiting for the broker's acknowledgement (REST ingest, dead letters)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError

from app.core.errors import BrokerUnavailable, MessageTooLarge
from app.core.events import SurveyResponse
from app.core.settings import Settings

Header = tuple[str, bytes]


class Producer:
    """A thread-safe producer created on first use, so an API can start while the broker is down.

    `send` returns only once the broker acknowledged every record (acks=all), or raises
    `BrokerUnavailable`: a caller never believes a record is stored when it is not.
    """

    def __init__(self, settings: Settings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _client(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self._settings.kafka_produce_timeout_s * 1000)
                self._producer = KafkaProducer(
                    bootstrap_servers=self._settings.kafka_bootstrap,
                    client_id=self._client_id,
                    acks="all",
                    linger_ms=2,
                    max_block_ms=timeout_ms,
                    bootstrap_timeout_ms=timeout_ms,
                    reconnect_backoff_max_ms=2000,
                    request_timeout_ms=timeout_ms,
                    delivery_timeout_ms=timeout_ms + 2000,
                    max_request_size=max(self._settings.max_message_bytes * 2, 1024 * 1024),
                )
            return self._producer

    def send(self, topic: str, records: Sequence[tuple[bytes | None, bytes, list[Header]]]) -> None:
        """Send (key, value, headers) records and wait until all are acknowledged."""
        if not records:
            return
        try:
            producer = self._client()
            futures = [
                producer.send(topic, key=key, value=value, headers=headers or None)
                for key, value, headers in records
            ]
            producer.flush(timeout=self._settings.kafka_produce_timeout_s)
            for future in futures:
                future.get(timeout=self._settings.kafka_produce_timeout_s)
        except KafkaError as exc:
            raise BrokerUnavailable(
                f"broker {self._settings.kafka_bootstrap} did not acknowledge: {exc}"
            ) from exc

    def send_responses(self, responses: Sequence[SurveyResponse]) -> None:
        """Raises `MessageTooLarge` before sending anything if one would be dead-lettered."""
        limit = self._settings.max_message_bytes
        records: list[tuple[bytes | None, bytes, list[Header]]] = []
        for index, response in enumerate(responses):
            value = response.model_dump_json().encode()
            if len(value) > limit:
                raise MessageTooLarge(index, len(value), limit)
            records.append((response.org_unit.encode(), value, []))
        self.send(self._settings.responses_topic, records)

    def check(self) -> None:
        """Raise `BrokerUnavailable` unless the broker answers for the responses topic."""
        try:
            if not self._client().partitions_for(self._settings.responses_topic):
                raise BrokerUnavailable(f"topic {self._settings.responses_topic} does not exist")
        except KafkaError as exc:
            raise BrokerUnavailable(f"broker {self._settings.kafka_bootstrap}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=2)
                self._producer = None
