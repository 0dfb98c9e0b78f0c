"""Live barometers: watched scopes recomputed as their responses arrive, pushed to their sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.core.access import Principal
from app.core.events import BarometerSnapshot, Window
from app.db import rollups
from app.db.directory import TreeCache
from app.hub.fanout import Subscriber
from app.metrics import LIVE_BAROMETER_FAILURES, LIVE_BAROMETER_SCOPES, LIVE_BAROMETER_SECONDS

log = logging.getLogger(__name__)

# The hub events that say a scope's figures moved: one per stored response.
MOVES = frozenset({"comment"})


def named_units(principal: Principal, requested: Iterable[str]) -> tuple[str, ...]:
    """The units a barometer is named by: those asked for, else the caller's own (an admin's:
    none, meaning every unit)."""
    named = set(requested) or (set() if principal.sees_everything else set(principal.units))
    return tuple(sorted(named))


def label_of(named: tuple[str, ...]) -> str | None:
    """The unit a barometer is named after (and compared with its parent): the only one named."""
    return named[0] if len(named) == 1 else None


@dataclass(frozen=True, slots=True)
class Scope:
    """What one barometer is computed for: units named (`()`: every unit) and touchpoints
    (`()`: all). Sockets with equal scopes share one computation."""

    org_units: tuple[str, ...]
    touchpoints: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, principal: Principal, org_units: Iterable[str], touchpoints: Iterable[str]
    ) -> Scope:
        return cls(named_units(principal, org_units), tuple(sorted(set(touchpoints))))

    @property
    def label(self) -> str | None:
        return label_of(self.org_units)


class FrameScope(BaseModel):
    org_units: list[str]
    touchpoints: list[str]


class BarometerFrame(BaseModel):
    """A pushed barometer: `data` is what `GET /api/v1/barometers` answers for `scope`."""

    type: Literal["barometer"] = "barometer"
    scope: FrameScope
    org_unit: str | None
    touchpoint: str | None
    data: BarometerSnapshot


# Computes a scope's barometer over the units it covers (None: every unit), sharing parents'
# figures with the other scopes of its pass; runs in a thread.
Compute = Callable[[Scope, frozenset[str] | None, rollups.Parents], BarometerSnapshot]


def rollup(engine: sa.Engine, units: TreeCache, timezone: ZoneInfo) -> Compute:
    """The figures `GET /api/v1/barometers` gives for a scope, every window, as of now."""

    def compute(
        scope: Scope, covered: frozenset[str] | None, parents: rollups.Parents
    ) -> BarometerSnapshot:
        return rollups.barometer(
            engine,
            units.get(),
            timezone,
            covered=sorted(covered or ()),
            touchpoints=scope.touchpoints,
            label=scope.label,
            windows=list(Window),
            now=datetime.now(UTC),
            parents=parents,
        )

    return compute


@dataclass(eq=False)
class _Watched:
    covered: frozenset[str] | None
    subscribers: set[Subscriber] = field(default_factory=set)


class LiveBarometers:
    """The barometers this instance's websocket clients watch, pushed as their responses arrive.

    The fanout tells `saw` about every hub event; a comment (one per stored response) marks
    dirty each watched scope that covers its unit and touchpoint. A pass recomputes the dirty
    scopes, one at a time, each once however many sockets watch it, and offers the same frame
    to each of them; a socket keeps only the newest barometer it has not been sent yet.
    Passes never overlap and start at most every `every_s`, or as long after the last as it
    took; subscribing computes nothing. A scope nobody watches is forgotten. The scopes of one
    pass share their parents' figures.
    A computation that fails is logged and counted; the scope moves again with its next
    response (the page also re-reads the REST API every minute).
    Frames carry no hub id and are not replayed: a resuming client re-reads the REST API.
    """

    def __init__(
        self,
        compute: Compute,
        *,
        every_s: float,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._compute = compute
        self._every_s = every_s
        self._sleep = sleep
        self._scopes: dict[Scope, _Watched] = {}
        self._watching: dict[Subscriber, Scope] = {}
        # Which scopes cover a unit, so an event costs the scopes above its unit, not all of them.
        self._by_unit: dict[str, set[Scope]] = {}
        self._everywhere: set[Scope] = set()
        self._dirty: set[Scope] = set()
        self._wake = asyncio.Event()
        self._pass = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def watch(self, subscriber: Subscriber, scope: Scope, covered: frozenset[str] | None) -> None:
        """`subscriber` watches `scope` (covering `covered`) from now on, instead of any other."""
        self.leave(subscriber)
        watched = self._scopes.get(scope)
        if watched is None:
            watched = self._scopes[scope] = _Watched(covered)
            self._index(scope, covered)
            LIVE_BAROMETER_SCOPES.inc()
        elif watched.covered != covered:
            # The newest resolution wins: units added to the tree since are covered too.
            self._unindex(scope, watched.covered)
            watched.covered = covered
            self._index(scope, covered)
        watched.subscribers.add(subscriber)
        self._watching[subscriber] = scope

    def leave(self, subscriber: Subscriber) -> None:
        """`subscriber` watches nothing any more; its scope is forgotten if nobody else does."""
        scope = self._watching.pop(subscriber, None)
        if scope is None:
            return
        watched = self._scopes[scope]
        watched.subscribers.discard(subscriber)
        if not watched.subscribers:
            del self._scopes[scope]
            self._unindex(scope, watched.covered)
            self._dirty.discard(scope)
            LIVE_BAROMETER_SCOPES.dec()

    def saw(self, org_unit: str, touchpoint: str | None, kind: str) -> None:
        """The fanout's observer: mark the scopes an event of `org_unit`/`touchpoint` moves."""
        if kind not in MOVES:
            return
        for scope in (*self._by_unit.get(org_unit, ()), *self._everywhere):
            if scope in self._dirty or (scope.touchpoints and touchpoint not in scope.touchpoints):
                continue
            self._dirty.add(scope)
            self._wake.set()

    async def refresh(self) -> int:
        """One pass: recompute the dirty scopes and push them; how many were computed."""
        async with self._pass:
            due, self._dirty = self._dirty, set()
            computed = 0
            parents: rollups.Parents = {}
            for scope in sorted(due, key=lambda s: (s.org_units, s.touchpoints)):
                watched = self._scopes.get(scope)
                if watched is None:
                    continue  # nobody watches it any more
                computed += 1
                try:
                    with LIVE_BAROMETER_SECONDS.time():
                        snapshot = await run_in_threadpool(
                            self._compute, scope, watched.covered, parents
                        )
                except Exception:
                    LIVE_BAROMETER_FAILURES.inc()
                    log.exception("live barometer not computed", extra={"scope": str(scope)})
                    continue
                frame = _frame(scope, snapshot)
                # Whoever watches it now: a socket that moved away meanwhile gets nothing.
                for subscriber in list(self._scopes.get(scope, watched).subscribers):
                    subscriber.offer(frame, key="barometer")
            return computed

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-barometers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _index(self, scope: Scope, covered: frozenset[str] | None) -> None:
        if covered is None:
            self._everywhere.add(scope)
        for unit in covered or ():
            self._by_unit.setdefault(unit, set()).add(scope)

    def _unindex(self, scope: Scope, covered: frozenset[str] | None) -> None:
        self._everywhere.discard(scope)
        for unit in covered or ():
            scopes = self._by_unit[unit]
            scopes.discard(scope)
            if not scopes:
                del self._by_unit[unit]

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            started = time.monotonic()
            await self.refresh()
            # A pass slower than the pause waits as long as it took: barometers take at most
            # half of this instance's time, the rest is for the sockets and requests.
            await self._sleep(max(self._every_s, time.monotonic() - started))


def _frame(scope: Scope, snapshot: BarometerSnapshot) -> str:
    frame = BarometerFrame(
        scope=FrameScope(org_units=list(scope.org_units), touchpoints=list(scope.touchpoints)),
        org_unit=snapshot.org_unit,
        touchpoint=snapshot.touchpoint,
        data=snapshot,
    )
    return frame.model_dump_json()
