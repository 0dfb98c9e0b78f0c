"""Escalation: an alert that misses its deadline goes one level up the org tree, and is told.

Missing the acknowledgement deadline escalates to the parent unit's managers; missing the
resolution deadline as well, to the unit above that. Every instance may run this: the level is
raised with a conditional update, so one instance escalates and the others skip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from app.core.errors import HubUnavailable
from app.core.events import AlertEvent, AlertState, AlertView
from app.db import alerting, directory
from app.notifications import SYSTEM, AlertNotifier

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Escalator:
    def __init__(
        self,
        engine: sa.Engine,
        units: directory.TreeCache,
        notifier: AlertNotifier,
        publish: Callable[[Sequence[bytes]], None],
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._engine, self._units, self._notifier = engine, units, notifier
        self._publish, self._clock = publish, clock

    def run_once(self) -> list[AlertView]:
        """Escalate what is overdue now; the alerts escalated."""
        now = self._clock()
        escalated = []
        for row in alerting.overdue(self._engine, now):
            assert row.id is not None
            level = row.escalations + 1
            missed = "acknowledge" if row.state == AlertState.OPEN and level == 1 else "resolve"
            chain = self._units.get().ancestors(row.org_unit) or [row.org_unit]
            to_unit = chain[min(level, len(chain)) - 1]
            try:
                view = alerting.change(
                    self._engine,
                    row.id,
                    expected_state=row.state,
                    expected_escalations=row.escalations,
                    actor=SYSTEM,
                    action="escalated",
                    values={"escalations": level},
                    detail={"to_unit": to_unit, "missed": missed, "level": level},
                )
            except alerting.Stale:
                continue  # acted on, or escalated by another instance, meanwhile
            self._notifier.escalated(view, to_unit)
            event = AlertEvent(org_unit=view.org_unit, touchpoint=view.touchpoint, data=view)
            try:
                self._publish([event.model_dump_json().encode()])
            except HubUnavailable as exc:
                log.error("escalation not pushed live", extra={"error": str(exc)})
            escalated.append(view)
        return escalated

    async def run(self, every_s: float) -> None:
        """Until cancelled; a failed round is logged and tried again next time."""
        while True:
            try:
                await run_in_threadpool(self.run_once)
            except Exception:
                log.exception("escalation round failed")
            await asyncio.sleep(every_s)
