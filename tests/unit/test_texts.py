"""What alerts say to people, worded once: rule titles and the lines explaining an alert."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts import texts
from alerts.rules import RuleBook, load_rules
from app.core.events import AlertState, AlertView, Severity

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _alert(rules: list[str], reasons: dict[str, dict[str, object]]) -> AlertView:
    return AlertView(
        id=7,
        org_unit="store-12",
        touchpoint="delivery",
        response_id=None,
        rules=rules,
        rules_version=2,
        severity=Severity.HIGH,
        reasons=reasons,
        state=AlertState.OPEN,
        assignee=None,
        created_at=NOW,
        due_ack_at=None,
        due_resolve_at=None,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        root_cause=None,
        resolution_note=None,
        escalations=0,
    )


def test_every_shipped_rule_has_a_title_of_its_own() -> None:
    book = load_rules()
    titles = texts.titles(book)
    assert set(titles) == {r.id for r in book.rules}
    assert all(titles[r.id] == texts.TITLES[r.id] for r in book.rules)


def test_a_rule_of_another_book_is_named_by_its_description() -> None:
    book = RuleBook.model_validate(
        {
            "version": 1,
            "rules": [
                {
                    "id": "vip-unhappy",
                    "description": "A VIP customer is unhappy",
                    "kind": "score",
                    "score_kind": "nps",
                    "at_most": 6,
                    "severity": "high",
                }
            ],
        }
    )
    assert texts.titles(book) == {"vip-unhappy": "A VIP customer is unhappy"}
    assert texts.title("no-such-rule") == "No such rule"


def test_the_reasons_of_each_rule_read_as_a_sentence() -> None:
    alert = _alert(
        ["detractor-negative-comment", "churn-language", "repeat-dissatisfied"],
        {
            "detractor-negative-comment": {
                "score": 2,
                "score_kind": "nps",
                "at_most": 6,
                "probability": 0.934,
                "phrases": ["still waiting"],
            },
            "churn-language": {"matched": ["refund"]},
            "repeat-dissatisfied": {"earlier": ["r-1", "r-2"], "within_days": 14},
        },
    )
    assert texts.lines(alert) == [
        "Detractor with a negative comment: NPS 2 (at most 6), negative comment 93 %, "
        "says “still waiting”",
        "Customer talks of leaving: says “refund”",
        "Customer dissatisfied again: 2 earlier times in 14 days",
    ]
    assert texts.alert_title(alert, "Lyon Part-Dieu") == (
        "Detractor with a negative comment at Lyon Part-Dieu"
    )


def test_a_units_drop_says_its_figures_and_their_counts() -> None:
    reasons = {"hour_nps": -40.0, "hour_responses": 12, "week_nps": 10.0, "week_responses": 300}
    alert = _alert(["unit-nps-drop"], {"unit-nps-drop": {**reasons, "drop": 50.0, "points": 30}})
    assert texts.lines(alert) == [
        "NPS drop: NPS -40 in the last hour on 12 answers against +10 over 7 days on 300"
    ]
