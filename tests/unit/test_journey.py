from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from app.core.barometer import BarometerBook, Tally
from app.core.events import Barometer, ScoreKind, Window
from app.core.journey import journey_of, step_order
from app.core.settings import Settings
from app.demo import TOUCHPOINTS

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
JOURNEY = ["purchase", "delivery", "installation", "billing"]


def book_of(*answers: tuple[str, int], at: datetime = NOW, unit: str = "store-1") -> BarometerBook:
    book = BarometerBook(ZoneInfo("UTC"))
    for touchpoint, score in answers:
        book.add(
            Tally(
                org_unit=unit,
                touchpoint=touchpoint,
                submitted_at=at,
                score_kind=ScoreKind.NPS,
                score=score,
                polarity=-0.5 if score <= 6 else 0.5,
                dissatisfied=score <= 6,
            )
        )
    return book


def test_steps_follow_the_journey_then_other_touchpoints_alphabetically() -> None:
    answered = ["warranty", "billing", "app-login", "purchase"]

    assert step_order(JOURNEY, answered) == [*JOURNEY, "app-login", "warranty"]


def test_a_journey_step_nobody_answered_about_stays_in_the_corridor() -> None:
    assert step_order(JOURNEY, []) == JOURNEY
    assert step_order([], ["support", "billing"]) == ["billing", "support"]


def test_each_step_has_its_touchpoints_figures() -> None:
    book = book_of(("delivery", 10), ("delivery", 0), ("delivery", 9), ("warranty", 3))
    # Another unit of the book counts too: the book holds only the units asked for.
    book.add(Tally("store-2", "billing", NOW, ScoreKind.CSAT, 5, None, False))

    journey = journey_of(book, journey=JOURNEY, org_unit="north", window=Window.TODAY, now=NOW)

    assert (journey.org_unit, journey.window, journey.as_of) == ("north", Window.TODAY, NOW)
    steps = {step.touchpoint: step.figures for step in journey.steps}
    assert [step.touchpoint for step in journey.steps] == [*JOURNEY, "warranty"]
    delivery = steps["delivery"]
    assert (delivery.nps, delivery.promoters, delivery.detractors) == (33.3, 2, 1)
    assert (delivery.sentiment_mean, delivery.sentiment_responses) == (0.17, 3)
    assert (delivery.flagged, delivery.responses) == (1, 3)
    assert (steps["warranty"].nps, steps["warranty"].flagged) == (-100.0, 1)
    assert (steps["billing"].responses, steps["billing"].csat_pct) == (1, 100.0)
    assert steps["purchase"] == steps["installation"] == Barometer()


def test_a_touchpoint_outside_the_journey_and_the_window_is_left_out() -> None:
    book = book_of(("warranty", 3), at=NOW - timedelta(hours=3))

    hour = journey_of(book, journey=JOURNEY, org_unit=None, window=Window.HOUR, now=NOW)
    today = journey_of(book, journey=JOURNEY, org_unit=None, window=Window.TODAY, now=NOW)

    assert [step.touchpoint for step in hour.steps] == JOURNEY
    assert [step.touchpoint for step in today.steps] == [*JOURNEY, "warranty"]


def test_the_default_journey_holds_every_demo_touchpoint_in_the_domains_order() -> None:
    journey = Settings().journey

    assert journey[0] == "purchase" and journey[-1] == "renewal"
    assert set(TOUCHPOINTS) <= set(journey)
    assert [t for t in journey if t in TOUCHPOINTS] == TOUCHPOINTS


def test_the_journey_setting_is_comma_separated_touchpoints_lower_cased(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOC_JOURNEY", " Order, delivery ,support,")

    assert Settings().journey == ["order", "delivery", "support"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [("order,delivery,order", "order given twice"), ("order,first payment", "journey.1")],
)
def test_a_journey_that_is_not_touchpoints_each_once_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("VOC_JOURNEY", value)

    with pytest.raises(ValidationError, match=problem):
        Settings()
