"""Small contracts the edges plug adapters into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.core.events import AlertView, Assessment, SurveyResponse


class Scorer(Protocol):
    """Turns a response into an assessment. Pure and fast: it runs on the ingest hot path."""

    def assess(self, response: SurveyResponse) -> Assessment: ...


class EventSink(Protocol):
    """Where ingest workers publish hub events; called from a worker thread, blocking.

    Each payload is one serialized hub event: a JSON object *without* its `id`. The hub assigns
    ids in publish order, so every cockpit sees the events of one sink in the order given.
    Raises `HubUnavailable` when the backend cannot take them.
    """

    def publish(self, payloads: Sequence[bytes]) -> None: ...


class AlertSink(Protocol):
    """Who hears of new alerts besides the websocket (webhook, e-mail). Must not block: a
    dead endpoint may never slow ingest."""

    def raised(self, alerts: Sequence[AlertView]) -> None: ...
