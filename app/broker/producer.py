"""Producing to Kafka and waiting for the broker's acknowledgement (REST ingest, dead letters)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError

from app.core.errors import BrokerUnavailable, MessageTooLarge, RecordsTooLarge
from app.core.events import SurveyResponse
from app.core.settings import Settings

log = logging.getLogger(__name__)

Header = tuple[str, bytes]

# How long /readyz waits for the broker: half to connect, half for the topic's metadata.
CHECK_TIMEOUT_S = 2.0
# One reconnection attempt, then a pause: a broker that is back is used again within ~1.5 s.
RECONNECT_TIMEOUT_S = 1.0
RECONNECT_PAUSE_S = 0.25


class Producer:
    """A thread-safe producer that connects on first use: an API can start while the broker is down.

    `send` returns only once the broker acknowledged every record (acks=all), or raises
    `BrokerUnavailable`: a caller never believes a record is stored when it is not.

    A client that failed is dropped: until a background thread has connected a new one, `send`
    and `check` raise `BrokerUnavailable` at once instead of each waiting out the produce timeout.
    The first send after the reconnection goes through. A new client, not the old one's own
    retries, because nothing says a kafka-python client recovers from every outage (see `_connect`).
    """

    def __init__(self, settings: Settings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        # Why the last client was dropped; None while connected and before the first use.
        self._outage: str | None = None
        self._reconnector: threading.Thread | None = None
        self._closed = threading.Event()
        # Reentrant: a failed first connection records the outage while holding it.
        self._lock = threading.RLock()

    def _connect(self, client_id: str, bootstrap_s: float, block_s: float) -> KafkaProducer:
        """A new client, once it has fetched the cluster's metadata from the broker."""
        produce_ms = int(self._settings.kafka_produce_timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            client_id=client_id,
            acks="all",
            # kafka-python 3.0's idempotent producer, its default, is stuck for good once a batch
            # it had sent expires during an outage: it drops its producer id but never asks for
            # another, and then neither sends nor expires a batch again. A retry may now store a
            # record twice in Kafka; the worker stores a response id once.
            enable_idempotence=False,
            linger_ms=2,
            max_block_ms=int(block_s * 1000),
            bootstrap_timeout_ms=int(bootstrap_s * 1000),
            reconnect_backoff_max_ms=2000,
            request_timeout_ms=produce_ms,
            delivery_timeout_ms=produce_ms + 2000,
            max_request_size=self.max_request_bytes,
        )

    def _client(self) -> KafkaProducer:
        """The connected client; connects on first use, raises at once during an outage."""
        with self._lock:
            if self._producer is not None:
                return self._producer
            if self._closed.is_set():
                raise BrokerUnavailable("the producer is closed")
            if self._outage is not None:
                raise self._unreachable(self._outage)
            timeout = self._settings.kafka_produce_timeout_s
            try:
                self._producer = self._connect(self._client_id, timeout, timeout)
            except KafkaError as exc:
                self._lost(None, str(exc))
                raise self._unreachable(str(exc)) from exc
            return self._producer

    def _unreachable(self, reason: str) -> BrokerUnavailable:
        return BrokerUnavailable(
            f"broker {self._settings.kafka_bootstrap} unreachable ({reason}); reconnecting"
        )

    def _lost(self, client: KafkaProducer | None, reason: str) -> None:
        """Drop `client` after a failure, unless a newer one replaced it, and reconnect."""
        with self._lock:
            if self._closed.is_set() or self._outage is not None or client is not self._producer:
                return
            log.warning(
                "broker unreachable; reconnecting",
                extra={"broker": self._settings.kafka_bootstrap, "error": reason},
            )
            self._producer, self._outage = None, reason
            self._reconnector = threading.Thread(
                target=self._reconnect,
                args=(client,),
                name=f"{self._client_id}-reconnect",
                daemon=True,
            )
            self._reconnector.start()

    def _reconnect(self, broken: KafkaProducer | None) -> None:
        timeout = self._settings.kafka_produce_timeout_s
        while not self._closed.wait(RECONNECT_PAUSE_S):
            try:
                client = self._connect(self._client_id, RECONNECT_TIMEOUT_S, timeout)
            except KafkaError as exc:
                with self._lock:
                    self._outage = str(exc)
                continue
            with self._lock:
                closed = self._closed.is_set()
                if not closed:
                    self._producer, self._outage, self._reconnector = client, None, None
            if closed:
                _discard(client, 0)
            else:
                log.info("broker reachable again", extra={"broker": self._settings.kafka_bootstrap})
            break
        if broken is not None:
            # Its records are delivered or expired within the delivery timeout; callers waiting
            # on them get their answer from it, not from an abort here.
            _discard(broken, self._settings.kafka_produce_timeout_s + 3)

    @property
    def max_request_bytes(self) -> int:
        """The largest record this producer sends, as kafka-python counts its size."""
        return max(self._settings.max_message_bytes * 2, 1024 * 1024)

    def send(self, topic: str, records: Sequence[tuple[bytes | None, bytes, list[Header]]]) -> None:
        """Send (key, value, headers) records and wait until all are acknowledged.

        A record refused for its size is no outage: retrying it would fail forever. The others
        are sent and acknowledged, then `RecordsTooLarge` names the refused ones.
        """
        if not records:
            return
        too_large: list[int] = []
        producer = self._client()
        try:
            futures = {}
            for index, (key, value, headers) in enumerate(records):
                try:
                    futures[index] = producer.send(
                        topic, key=key, value=value, headers=headers or None
                    )
                except MessageSizeTooLargeError:
                    too_large.append(index)
            producer.flush(timeout=self._settings.kafka_produce_timeout_s)
            for index, future in futures.items():
                try:
                    future.get(timeout=self._settings.kafka_produce_timeout_s)
                except (MessageSizeTooLargeError, RecordListTooLargeError):
                    too_large.append(index)
        except KafkaError as exc:
            self._lost(producer, str(exc))
            raise BrokerUnavailable(
                f"broker {self._settings.kafka_bootstrap} did not acknowledge: {exc}"
            ) from exc
        if too_large:
            raise RecordsTooLarge(sorted(too_large))

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
        """Raise `BrokerUnavailable` unless the broker answers now for the responses topic.

        Asks the broker through a new client, within about CHECK_TIMEOUT_S: the connected one
        answers from metadata it cached, long after the broker died. During an outage it raises
        at once.
        """
        with self._lock:
            current, outage = self._producer, self._outage
        if outage is not None:
            raise self._unreachable(outage)
        topic, half = self._settings.responses_topic, CHECK_TIMEOUT_S / 2
        try:
            probe = self._connect(f"{self._client_id}-check", half, half)
        except KafkaError as exc:
            self._lost(current, str(exc))
            raise self._unreachable(str(exc)) from exc
        try:
            if not probe.partitions_for(topic):
                raise BrokerUnavailable(f"topic {topic} does not exist")
        except KafkaError as exc:
            raise BrokerUnavailable(f"broker {self._settings.kafka_bootstrap}: {exc}") from exc
        finally:
            _discard(probe, 0)

    def close(self) -> None:
        """Stop reconnecting; wait at most 2 s for records still pending."""
        self._closed.set()
        with self._lock:
            client, reconnector = self._producer, self._reconnector
            self._producer = None
        if reconnector is not None:
            reconnector.join(timeout=RECONNECT_TIMEOUT_S + 1)
        if client is not None:
            _discard(client, 2)


def _discard(client: KafkaProducer, timeout_s: float) -> None:
    try:
        client.close(timeout=timeout_s)
    except KafkaError as exc:
        # kafka-python flushes before it closes, and gives up closing if that times out.
        log.warning("Kafka client not closed: records still pending", extra={"error": str(exc)})
