"""Alert rules and the closed loop as pure logic: which rules fire and why, allowed moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.engine import Earlier, assess_response, assess_unit
from alerts.lifecycle import InvalidTransition, check_move, deadlines
from alerts.rules import RulesError, load_rules
from app.core.events import (
    AlertState,
    Assessment,
    Barometer,
    BarometerSnapshot,
    Reason,
    ReasonKind,
    Severity,
    SurveyResponse,
    Window,
)

RULES = load_rules()
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CAUSES = ["delivery", "other"]


def survey(**fields: Any) -> SurveyResponse:
    base: dict[str, Any] = {
        "response_id": "r-1",
        "survey_id": "s",
        "submitted_at": NOW,
        "score_kind": "nps",
        "score": 9,
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-1",
        "customer_type": "person",
        "customer_ref": "c-1",
    }
    return SurveyResponse.model_validate({**base, **fields})


def judged(
    polarity: float | None = None, dissatisfied: bool = False, *, phrases: tuple[str, ...] = ()
) -> Assessment:
    negative = polarity is not None and polarity < 0
    return Assessment(
        polarity=polarity,
        dissatisfied=dissatisfied,
        severity=Severity.NONE,
        negative_comment=negative,
        negative_probability=None if polarity is None else (1 - polarity) / 2,
        reasons=[Reason(kind=ReasonKind.PHRASE, label=p) for p in phrases],
    )


def test_a_detractor_needs_a_negative_comment_for_that_rule() -> None:
    assert assess_response(RULES, survey(score=3), judged(polarity=None)) is None
    assert assess_response(RULES, survey(score=3, comment="ok"), judged(polarity=0.1)) is None
    trigger = assess_response(
        RULES,
        survey(score=3, comment="still waiting, bad"),
        judged(polarity=-0.7, phrases=("still waiting",)),
    )
    assert trigger is not None
    assert trigger.rules == ("detractor-negative-comment",)
    assert trigger.reasons["detractor-negative-comment"]["probability"] == 0.85
    assert trigger.reasons["detractor-negative-comment"]["phrases"] == ["still waiting"]


@pytest.mark.parametrize(
    ("comment", "matched"),
    [
        ("I will cancel my subscription.", ["cancel my subscription"]),
        ("Refund now, or my lawyer calls.", ["refund", "lawyer"]),
        ("Je vais résilier, plus jamais !", ["résilier", "plus jamais"]),
        ("The refunded amount was right.", None),
        ("Cancellation was easy.", None),
    ],
)
def test_churn_language_matches_whole_words_whatever_the_score(
    comment: str, matched: list[str] | None
) -> None:
    trigger = assess_response(RULES, survey(score=10, comment=comment), judged(0.5))
    if matched is None:
        assert trigger is None
    else:
        assert trigger is not None
        assert trigger.reasons["churn-language"]["matched"] == matched


def test_a_repeat_counts_only_earlier_dissatisfaction_within_the_window() -> None:
    unhappy = survey(score_kind="csat", score=1, response_id="r-2")
    recent = Earlier("r-1", NOW - timedelta(days=3))
    old = Earlier("r-0", NOW - timedelta(days=30))
    trigger = assess_response(RULES, unhappy, judged(dissatisfied=True), [old, recent])
    assert trigger is not None
    assert trigger.reasons["repeat-dissatisfied"] == {"earlier": ["r-1"], "within_days": 14}
    assert trigger.severity is Severity.HIGH
    alone = assess_response(RULES, unhappy, judged(dissatisfied=True), [old])
    assert alone is not None and "repeat-dissatisfied" not in alone.rules


def _snapshot(hour: tuple[float | None, int], week: tuple[float | None, int]) -> BarometerSnapshot:
    windows = {
        Window.HOUR: Barometer(nps=hour[0], nps_responses=hour[1]),
        Window.TODAY: Barometer(),
        Window.WEEK: Barometer(nps=week[0], nps_responses=week[1]),
    }
    return BarometerSnapshot(
        org_unit="store-1", touchpoint=None, as_of=NOW, windows=windows, trend=[]
    )


@pytest.mark.parametrize(
    ("hour", "week", "fires"),
    [
        ((-10.0, 12), (40.0, 300), True),
        ((10.0, 12), (40.0, 300), False),  # 30 points is not more than 30
        ((-50.0, 9), (40.0, 300), False),  # too few answers this hour
        ((None, 0), (40.0, 300), False),
    ],
)
def test_a_unit_drop_needs_enough_answers_and_more_than_the_points(
    hour: tuple[float | None, int], week: tuple[float | None, int], fires: bool
) -> None:
    triggers = assess_unit(RULES, _snapshot(hour, week))
    assert bool(triggers) is fires
    if fires:
        assert triggers[0].dedup_key == "drop:unit-nps-drop:store-1:2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize(
    ("current", "to", "allowed"),
    [
        (AlertState.OPEN, AlertState.ACKNOWLEDGED, True),
        (AlertState.OPEN, AlertState.CLOSED, False),
        (AlertState.IN_PROGRESS, AlertState.ACKNOWLEDGED, False),
        (AlertState.RESOLVED, AlertState.CLOSED, True),
        (AlertState.CLOSED, AlertState.OPEN, True),
        (AlertState.CLOSED, AlertState.RESOLVED, False),
    ],
)
def test_the_loop_allows_forward_moves_and_reopening(
    current: AlertState, to: AlertState, allowed: bool
) -> None:
    if allowed:
        check_move(current, to, note=None, root_cause=None, root_causes=CAUSES)
    else:
        with pytest.raises(InvalidTransition, match=f"cannot go from {current} to {to}"):
            check_move(current, to, note=None, root_cause=None, root_causes=CAUSES)


def test_resolving_needs_a_note_and_a_known_root_cause() -> None:
    with pytest.raises(InvalidTransition, match="note"):
        check_move(
            AlertState.OPEN, AlertState.RESOLVED, note=" ", root_cause="other", root_causes=CAUSES
        )
    with pytest.raises(InvalidTransition, match="root_cause: one of delivery, other"):
        check_move(
            AlertState.OPEN, AlertState.RESOLVED, note="done", root_cause="x", root_causes=CAUSES
        )


def test_deadlines_follow_the_severity() -> None:
    ack, resolve = deadlines(Severity.HIGH, NOW, {"high": 15}, {"high": 48})
    assert (ack, resolve) == (NOW + timedelta(minutes=15), NOW + timedelta(hours=48))
    assert deadlines(Severity.LOW, NOW, {"high": 15}, {}) == (None, None)


def test_a_rules_file_that_cannot_work_is_refused_naming_the_place(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 2\nrules:\n"
        "  - {id: a, description: A, severity: high, kind: repeat, within_days: 0}\n"
    )
    with pytest.raises(RulesError, match=r"rules.0.repeat.within_days"):
        load_rules(path)
    path.write_text(
        "version: 2\nrules:\n"
        "  - {id: a, description: A, severity: high, kind: repeat, within_days: 3}\n"
        "  - {id: a, description: B, severity: low, kind: repeat, within_days: 4}\n"
    )
    with pytest.raises(RulesError, match="ids listed twice: a"):
        load_rules(path)
