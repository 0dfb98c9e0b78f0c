"""Small contracts the edges plug adapters into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from app.core.events import AlertView, Assessment, SurveyResponse
from app.core.org import OrgTree
from app.core.writes import Committed, Facts, FactsQuery, Writes


class Scorer(Protocol):
    """Turns a response into an assessment. Pure and fast: it runs on the ingest hot path."""

    def assess(self, response: SurveyResponse) -> Assessment: ...

    def theme_names(self) -> Mapping[str, Mapping[str, str]]:
        """The names per language of the themes `assess` assigns (of the taxonomy in force)."""
        ...


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


class IngestStore(Protocol):
    """What the ingest worker stores through (app/db/batches.py). Raises StoreUnavailable when
    the database cannot be reached; nothing of the failed call was written."""

    def tree(self, *, fresh: bool = False) -> OrgTree:
        """The org tree as stored (cached; `fresh`: read it again now)."""

    def facts(self, query: FactsQuery) -> Facts: ...

    def commit(self, writes: Writes) -> Committed:
        """Write a batch in one transaction; TreeChanged if it was counted for an older tree."""

    def prune(self, now: datetime) -> None:
        """Delete what no figure as of `now` reads any more."""
