"""The journey (the corridor customers walk): touchpoints in their order, each with its figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.barometer import BarometerBook
from app.core.events import Barometer, Window


class JourneyStep(BaseModel):
    touchpoint: str
    figures: Barometer


class Journey(BaseModel):
    """One window's figures per touchpoint, in journey order, so the cockpit shows where the
    corridor breaks."""

    org_unit: str | None = Field(description="Null when the figures cover several units.")
    window: Window
    as_of: datetime
    steps: list[JourneyStep] = Field(
        description="Every touchpoint of VOC_JOURNEY in its order, answered or not, then any "
        "other touchpoint answered in the window, alphabetically."
    )


def step_order(journey: Sequence[str], answered: Iterable[str]) -> list[str]:
    """The journey's touchpoints in its order, then the other answered ones alphabetically.

    Unanswered journey steps stay: a corridor with a step missing would hide that nobody
    answers about it.
    """
    planned = set(journey)
    return [*journey, *sorted(set(answered) - planned)]


def journey_of(
    book: BarometerBook,
    *,
    journey: Sequence[str],
    org_unit: str | None,
    window: Window,
    now: datetime,
) -> Journey:
    """The journey of every response in `book` (which holds only the units asked for)."""
    figures = {t: book.barometer(None, t, window, now) for t in book.touchpoints()}
    answered = [t for t, barometer in figures.items() if barometer.responses]
    steps = [
        JourneyStep(touchpoint=t, figures=figures.get(t) or Barometer())
        for t in step_order(journey, answered)
    ]
    return Journey(org_unit=org_unit, window=window, as_of=now, steps=steps)
