"""The producer's client lifecycle around an outage, with a fake kafka-python client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from app.broker import producer as module
from app.broker.producer import Producer
from app.core.errors import BrokerUnavailable
from app.core.settings import Settings

RECORD: list[tuple[bytes | None, bytes, list[module.Header]]] = [(b"store-12", b"{}", [])]


class Broker:
    """What every fake client sees: whether the broker answers, and the clients connected."""

    def __init__(self) -> None:
        self.up = True
        self.clients: list[FakeClient] = []
        # The next flush waits for this, then times out: a send held in flight.
        self.hold: threading.Event | None = None


class FakeClient:
    """Answers like KafkaProducer: bootstrap fails while the broker is down, flush times out."""

    broker: Broker

    def __init__(self, **config: Any) -> None:
        if not self.broker.up:
            raise KafkaTimeoutError("Unable to bootstrap")
        self.client_id = config["client_id"]
        self.sends = 0
        self.closed = False
        self.broker.clients.append(self)

    def send(self, topic: str, **_: Any) -> FakeClient:
        self.sends += 1
        return self

    def flush(self, timeout: float) -> None:
        hold, self.broker.hold = self.broker.hold, None
        if hold is not None:
            hold.wait(timeout=10)
        if hold is not None or not self.broker.up:
            raise KafkaTimeoutError("Timeout waiting for future")

    def get(self, timeout: float) -> None:
        return None

    def partitions_for(self, topic: str) -> set[int]:
        # Like the real client: cached metadata answers whether the broker is up or not.
        return {0, 1, 2}

    def close(self, timeout: float) -> None:
        self.closed = True


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    state = Broker()
    monkeypatch.setattr(FakeClient, "broker", state, raising=False)
    monkeypatch.setattr(module, "KafkaProducer", FakeClient)
    monkeypatch.setattr(module, "RECONNECT_PAUSE_S", 0.01)
    return state


@pytest.fixture
def producer(broker: Broker) -> Iterator[Producer]:
    instance = Producer(Settings(kafka_produce_timeout_s=5), client_id="voc-api")
    yield instance
    instance.close()


def eventually(predicate: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def sends(producer: Producer) -> bool:
    try:
        producer.send("t", RECORD)
        return True
    except BrokerUnavailable:
        return False


def connections(broker: Broker) -> list[FakeClient]:
    return [c for c in broker.clients if c.client_id == "voc-api"]


def test_after_a_failure_sends_are_refused_without_the_client_until_it_reconnects(
    broker: Broker, producer: Producer
) -> None:
    producer.send("t", RECORD)
    broker.up = False
    with pytest.raises(BrokerUnavailable, match="did not acknowledge"):
        producer.send("t", RECORD)
    [first] = connections(broker)
    with pytest.raises(BrokerUnavailable, match="reconnecting"):
        producer.send("t", RECORD)
    assert first.sends == 2

    broker.up = True
    eventually(lambda: sends(producer))
    [_, second] = connections(broker)
    assert second.sends == 1
    # The failed client is closed by the reconnect, which may finish just after the new send.
    eventually(lambda: first.closed)


def test_a_late_failure_of_a_dropped_client_keeps_its_replacement(
    broker: Broker, producer: Producer
) -> None:
    producer.send("t", RECORD)
    hold = broker.hold = threading.Event()
    late = threading.Thread(target=sends, args=(producer,))
    late.start()
    eventually(lambda: broker.hold is None)
    broker.up = False
    assert not sends(producer)
    broker.up = True
    eventually(lambda: sends(producer))
    # The send still in flight on the dropped client fails only now...
    hold.set()
    late.join(timeout=5)
    # ...and sends keep to the new client.
    producer.send("t", RECORD)
    assert len(connections(broker)) == 2


def test_check_asks_the_broker_not_the_connected_clients_metadata(
    broker: Broker, producer: Producer
) -> None:
    producer.send("t", RECORD)
    producer.check()
    broker.up = False
    with pytest.raises(BrokerUnavailable, match="unreachable"):
        producer.check()
    # What the check learnt spares the next request its wait.
    with pytest.raises(BrokerUnavailable, match="reconnecting"):
        producer.send("t", RECORD)
    assert connections(broker)[0].sends == 1
