"""What alerts say to people, worded once (app/core/explain.py): rule titles and the lines
explaining an alert, in English (in French and Italian: test_server_texts_i18n.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts import texts
from alerts.rules import RuleBook, load_rules
from app.core import explain
from app.core.events import AlertState, AlertView, Reason, ReasonKind, ResponseView, Severity
from app.core.i18n import texts as language

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EN = language("en")


def _response(comment: str, reasons: list[Reason]) -> ResponseView:
    return ResponseView.model_validate(
        {
            "response_id": "r-1",
            "survey_id": "nps-delivery",
            "submitted_at": NOW,
            "received_at": NOW,
            "score": 1,
            "score_kind": "nps",
            "comment": comment,
            "language": "en",
            "channel": "web",
            "touchpoint": "delivery",
            "org_unit": "store-12",
            "customer_type": "person",
            "polarity": -0.7,
            "dissatisfied": True,
            "severity": "high",
            "reasons": reasons,
        }
    )


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
    said = {r.id: EN.say(texts.title(r.id, book)) for r in book.rules}
    assert said == {r.id: explain.TITLES[r.id] for r in book.rules}
    assert len(set(said.values())) == len(said)


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
    assert EN.say(texts.title("vip-unhappy", book)) == "A VIP customer is unhappy"
    assert EN.say(texts.title("no-such-rule")) == "No such rule"


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
    assert [EN.say(line) for line in texts.lines(alert)] == [
        "Detractor with a negative comment: NPS 2 (at most 6), negative comment (93%), "
        "says “still waiting”",
        "Customer talks of leaving: says “refund”",
        "Customer dissatisfied again: 2 earlier times in 14 days",
    ]
    assert EN.say(texts.alert_title(alert, "Lyon Part-Dieu")) == (
        "Detractor with a negative comment at Lyon Part-Dieu"
    )


def test_a_units_drop_says_its_figures_and_their_counts() -> None:
    reasons = {"hour_nps": -40.0, "hour_responses": 12, "week_nps": 10.0, "week_responses": 300}
    alert = _alert(["unit-nps-drop"], {"unit-nps-drop": {**reasons, "drop": 50.0, "points": 30}})
    assert [EN.say(line) for line in texts.lines(alert)] == [
        "NPS drop: NPS -40 in the last hour on 12 answers against +10 over 7 days on 300, "
        "50 points down"
    ]


def test_a_drop_names_the_themes_that_grew_in_the_readers_language() -> None:
    reasons = {"hour_nps": -40.0, "hour_responses": 12, "week_nps": 10.0, "week_responses": 300}
    grown = [
        {
            "theme": "delivery",
            "names": {"en": "Delivery", "fr": "Livraison"},
            "recent": 0.6,
            "week": 0.1,
        }
    ]
    found = {**reasons, "drop": 50.0, "points": 30, "themes_grown": grown}
    alert = _alert(["unit-nps-drop"], {"unit-nps-drop": found})
    assert EN.say(texts.lines(alert)[0]).endswith(
        "talked about more: Delivery (60% of the themes named lately, 10% over 7 days)"
    )
    french = language("fr").say(texts.lines(alert)[0])
    assert "Livraison (60\u00a0% " in french, french
    # No name in the reader's language: the English one.
    assert "Delivery (60%" in language("it").say(texts.lines(alert)[0])


def test_the_answer_its_comment_and_the_sentiment_reasons_come_first() -> None:
    alert = _alert(["detractor-negative-comment"], {"detractor-negative-comment": {"score": 1}})
    reasons = [
        Reason(kind=ReasonKind.SCORE, label="NPS 1: very poor (0\u20133)", words=None),
        Reason(kind=ReasonKind.TEXT, label="negative comment (87%)"),
        Reason(kind=ReasonKind.PHRASE, label="{still} waiting"),
    ]
    alert = alert.model_copy(update={"response": _response("Rude & {late}", reasons)})
    assert [EN.say(line) for line in texts.lines(alert)] == [
        "NPS 1 · delivery · web",
        "“Rude & {late}”",
        # Stored before reasons carried their phrase: their English label, as it was.
        "Why: NPS 1: very poor (0\u20133); negative comment (87%); “{still} waiting”",
        "Detractor with a negative comment: NPS 1",
    ]


def test_a_reason_whose_phrase_cannot_be_read_falls_back_on_its_label() -> None:
    broken = [
        {"message": "{kind} {score}", "params": {"kind": "NPS"}},  # a placeholder without value
        {"message": 3, "params": {}},
        {"message": "x {a}", "params": {"a": [1, 2]}},
    ]
    for words in broken:
        given = Reason(kind=ReasonKind.SCORE, label="NPS 2: very poor (0\u20133)", words=words)
        assert texts.reason(given) == "NPS 2: very poor (0\u20133)"
    band = {"message": "very high effort", "params": {}}
    params = {"kind": "CES", "score": 7, "band": band}
    nested = texts.from_wire({"message": "{kind} {score}: {band}", "params": params})
    assert nested is not None and EN.say(nested) == "CES 7: very high effort"
