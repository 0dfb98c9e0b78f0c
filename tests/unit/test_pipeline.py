"""The ingest pipeline (ingest/pipeline.py): what a batch of messages stores, raises, counts and
publishes, given what is stored already."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ingest.pipeline
from alerts.rules import DropRule, RepeatRule, RuleBook, load_rules
from app.core.aggregates import epoch_minute
from app.core.barometer import Counts
from app.core.events import Assessment, ScoreKind, Severity, SurveyResponse, ThemeMention, Tone
from app.core.org import OrgTree, OrgUnit, UnitKind
from app.core.settings import Settings
from app.core.writes import Committed, Facts, ThemeTally
from ingest.decode import Rejected
from ingest.decode import decode as decode_for_real
from ingest.pipeline import Message, Plan, Prepared, plan, prepare, publication
from tests.unit.test_events import body

RULES = load_rules()
SETTINGS = Settings(responses_topic="voc.responses", alert_max_age_hours=72)
# Responses from the future are refused: the batch is of the last minutes.
NOW = datetime.now(UTC).replace(second=30, microsecond=0)
ANSWERED = NOW - timedelta(minutes=2)
MAX_BYTES = 64 * 1024
TREE = OrgTree(
    [
        OrgUnit(id="acme", name="Acme", kind=UnitKind.COMPANY),
        OrgUnit(id="north", name="North", kind=UnitKind.REGION, parent="acme"),
        OrgUnit(id="store-1", name="Store 1", parent="north"),
        OrgUnit(id="store-2", name="Store 2", parent="north"),
    ],
    version=3,
)


class Scorer:
    """Dissatisfied at a low score (a high one for CES); a comment saying "awful" is negative,
    one saying "great" positive; one saying "late" is about the delivery."""

    def theme_names(self) -> dict[str, dict[str, str]]:
        return {"delivery": {"en": "Delivery", "fr": "Livraison"}}

    def assess(self, response: SurveyResponse) -> Assessment:
        low = {ScoreKind.NPS: 6, ScoreKind.CSAT: 2}
        if response.score_kind in low:
            dissatisfied = response.score <= low[response.score_kind]
        else:
            dissatisfied = response.score >= 6
        negative = response.comment is not None and "awful" in response.comment
        positive = response.comment is not None and "great" in response.comment
        late = response.comment is not None and "late" in response.comment
        return Assessment(
            polarity=-0.8 if negative else 0.9 if positive else None,
            dissatisfied=dissatisfied,
            severity=Severity.MEDIUM if dissatisfied else Severity.NONE,
            negative_comment=negative,
            themes=[ThemeMention(theme="delivery", tone=Tone.NEGATIVE)] if late else [],
        )


def answer(response_id: str, **overrides: Any) -> bytes:
    fields = {
        "response_id": response_id,
        "submitted_at": ANSWERED.isoformat(),
        "org_unit": "store-1",
        **overrides,
    }
    return json.dumps(body(**fields)).encode()


def message(offset: int, value: bytes | None, timestamp_ms: int | None = None) -> Message:
    return Message("voc.responses", 0, offset, b"store-1", value, timestamp_ms)


def batch(*values: bytes | None) -> list[Message]:
    return [message(offset, value) for offset, value in enumerate(values)]


def prepared(
    messages: Sequence[Message], rules: RuleBook = RULES, tree: OrgTree = TREE
) -> Prepared:
    return prepare(messages, tree=tree, scorer=Scorer(), rules=rules, max_bytes=MAX_BYTES, now=NOW)


def planned(messages: Sequence[Message], facts: Facts | None = None) -> Plan:
    return plan(prepared(messages), facts or Facts(), rules=RULES, settings=SETTINGS, now=NOW)


def without(kind: type[Any]) -> RuleBook:
    return RuleBook(
        version=RULES.version, rules=[r for r in RULES.rules if not isinstance(r, kind)]
    )


def reasons(done: Prepared) -> list[tuple[int, str]]:
    return [(m.offset, why.reason) for m, why in done.rejected]


def all_stored(p: Plan) -> Committed:
    ids = frozenset(s.response.response_id for s in p.writes.responses)
    alerts = {a.dedup_key: 100 + i for i, a in enumerate(p.writes.alerts)}
    return Committed(stored=ids, alerts=alerts)


def test_a_good_message_is_scored_as_received_when_the_broker_took_it() -> None:
    taken = datetime(2026, 11, 20, 9, 0, 1, 250000, tzinfo=UTC)
    stamped = message(0, answer("r-1"), timestamp_ms=int(taken.timestamp() * 1000))
    unstamped = message(1, answer("r-2"), timestamp_ms=-1)
    done = prepared([stamped, unstamped])
    assert [s.response.response_id for s in done.scored] == ["r-1", "r-2"]
    assert [s.received_at for s in done.scored] == [taken, NOW]
    assert done.scored[0].response.submitted_at == ANSWERED
    assert done.rejected == [] and done.valid == 2
    assert done.sources == {"r-1": stamped, "r-2": unstamped}


def test_bad_messages_are_rejected_each_with_its_reason() -> None:
    done = prepared(
        batch(
            b"{not json",
            json.dumps(body(score=11)).encode(),
            b'"x"' + b" " * MAX_BYTES,
            answer("r-4", org_unit="store-99"),
            answer("r-5"),
        )
    )
    assert reasons(done) == [
        (0, "not_json"),
        (1, "invalid"),
        (2, "too_large"),
        (3, "unknown_org_unit"),
    ]
    assert "score" in done.rejected[1][1].detail
    assert "'store-99' is not in the org tree" in done.rejected[3][1].detail
    assert done.unknown_units == {"store-99"}
    assert [s.response.response_id for s in done.scored] == ["r-5"]
    assert done.valid == 1 and done.crashed == []


def test_a_response_id_twice_in_a_batch_is_kept_once_and_published_as_a_duplicate() -> None:
    messages = batch(answer("r-1", comment="first"), answer("r-1", comment="second"))
    p = planned(messages)
    assert [s.response.comment for s in p.writes.responses] == ["first"]
    assert p.prepared.sources == {"r-1": messages[0]}
    assert len(p.writes.counted) == 1
    done = publication(p, all_stored(p))
    assert [s.response.response_id for s in done.stored] == ["r-1"]
    assert done.duplicates == 1


def test_a_message_that_makes_decode_raise_is_rejected_as_undecodable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def decode(value: bytes | None, *, max_bytes: int) -> SurveyResponse | Rejected:
        if value is not None and b"r-boom" in value:
            raise KeyError("score_kind")
        return decode_for_real(value, max_bytes=max_bytes)

    monkeypatch.setattr(ingest.pipeline, "decode", decode)
    messages = batch(answer("r-1"), answer("r-boom"), b"{not json")
    done = prepared(messages)
    assert reasons(done) == [(1, "undecodable"), (2, "not_json")]
    assert done.rejected[0][1].detail == "KeyError: 'score_kind'"
    assert done.crashed == [messages[1]]
    assert [s.response.response_id for s in done.scored] == ["r-1"]


def test_a_response_the_scorer_fails_on_is_rejected_as_unscorable_alone() -> None:
    class Failing(Scorer):
        def assess(self, response: SurveyResponse) -> Assessment:
            if response.response_id == "r-boom":
                raise ZeroDivisionError("division by zero")
            return super().assess(response)

    messages = batch(answer("r-1"), answer("r-boom"), answer("r-2"))
    done = prepare(messages, tree=TREE, scorer=Failing(), rules=RULES, max_bytes=MAX_BYTES, now=NOW)
    assert reasons(done) == [(1, "unscorable")]
    assert done.rejected[0][1].detail == "ZeroDivisionError: division by zero"
    assert done.crashed == [messages[1]]
    assert [s.response.response_id for s in done.scored] == ["r-1", "r-2"]


def test_the_facts_asked_for_are_the_dissatisfied_customers_and_the_units_windows() -> None:
    done = prepared(
        batch(
            answer("r-1", score_kind="csat", score=1, customer_ref="cust-1"),
            answer(
                "r-2",
                score=10,
                customer_ref="cust-2",
                submitted_at=(NOW - timedelta(hours=1)).isoformat(),
            ),
            answer("r-3", score_kind="csat", score=2, org_unit="store-2"),
            answer("r-4", org_unit="store-99", customer_ref="cust-4", score=0),
        )
    )
    query = done.query
    # Only cust-1 is dissatisfied with a customer ref; the repeat rule looks back 14 days from
    # the batch's earliest answer.
    assert query.customers == {"cust-1"}
    assert query.customers_since == NOW - timedelta(hours=1) - timedelta(days=14)
    assert query.units == {"store-1", "store-2"}
    assert query.since_minute == epoch_minute(NOW) - 59
    assert query.since_hour == epoch_minute(NOW) // 60 - 7 * 24 + 1


def test_no_customer_history_is_asked_for_without_a_repeat_rule() -> None:
    query = prepared(
        batch(answer("r-1", score=0, customer_ref="cust-1")), without(RepeatRule)
    ).query
    assert query.customers == frozenset() and query.customers_since is None
    assert query.units == {"store-1"}


def test_no_customer_history_is_asked_for_without_a_dissatisfied_customer() -> None:
    query = prepared(batch(answer("r-1", score=9, customer_ref="cust-1"))).query
    assert query.customers == frozenset() and query.customers_since is None


def test_no_unit_counts_are_asked_for_without_a_drop_rule() -> None:
    query = prepared(batch(answer("r-1", score=0, customer_ref="cust-1")), without(DropRule)).query
    assert query.units == frozenset()
    assert query.customers == {"cust-1"}


def test_only_responses_that_fire_a_rule_raise_an_alert() -> None:
    p = planned(
        batch(
            answer("r-1", score_kind="csat", score=1),
            answer("r-2", score=10),
            answer("r-3", score=3, comment="awful service"),
            answer("r-4", score=3),
        )
    )
    rules = {a.response_id: a.rules for a in p.writes.alerts}
    assert rules == {"r-1": ("csat-dissatisfied",), "r-3": ("detractor-negative-comment",)}
    assert {a.dedup_key for a in p.writes.alerts} == {"response:r-1", "response:r-3"}
    assert all(a.created_at == NOW for a in p.writes.alerts)


def test_a_customer_dissatisfied_before_raises_a_repeat_alert() -> None:
    earlier = {"cust-1": [("r-old", NOW - timedelta(days=3))]}
    p = planned(
        batch(answer("r-1", score_kind="csat", score=2, customer_ref="cust-1")),
        Facts(earlier=earlier),
    )
    [alert] = p.writes.alerts
    assert alert.rules == ("csat-dissatisfied", "repeat-dissatisfied")
    assert alert.reasons["repeat-dissatisfied"] == {"earlier": ["r-old"], "within_days": 14}
    assert alert.severity is Severity.HIGH


def counts(nps_scores: Sequence[int]) -> Counts:
    made = Counts()
    for score in nps_scores:
        made.record(ScoreKind.NPS, score, None, score <= 6)
    return made


@pytest.mark.parametrize(("stored_detractors", "raised"), [(9, True), (8, False)])
def test_a_unit_whose_hour_nps_drops_below_its_week_raises_one_drop_alert(
    stored_detractors: int, raised: bool
) -> None:
    # The week: 100 promoters and the hour's detractors; the hour: its detractors and the
    # batch's, 10 answers in all at least for the rule to judge.
    hour = counts([0] * stored_detractors)
    week = counts([10] * 100 + [0] * stored_detractors)
    facts = Facts(unit_minutes={"store-1": hour}, unit_hours={"store-1": week})
    p = planned(batch(answer("r-1", score=0), answer("r-2", score=10, org_unit="store-2")), facts)
    drops = [a for a in p.writes.alerts if a.response_id is None]
    if not raised:
        assert drops == []
        return
    [drop] = drops
    clock_hour = NOW.replace(minute=0, second=0).isoformat()
    assert drop.dedup_key == f"drop:unit-nps-drop:store-1:{clock_hour}"
    assert drop.org_unit == "store-1" and drop.rules == ("unit-nps-drop",)
    why = drop.reasons["unit-nps-drop"]
    assert (why["hour_nps"], why["hour_responses"]) == (-100.0, 10)
    assert why["week_responses"] == 110


def test_a_drop_names_the_themes_its_customers_talk_about_more_lately() -> None:
    hour, week = counts([0] * 9), counts([10] * 100 + [0] * 9)
    # Over the week, billing was most of what was named; lately, with this batch, the delivery.
    themes = {"store-1": ThemeTally(recent={"billing": 1}, week={"billing": 30, "delivery": 2})}
    facts = Facts(unit_minutes={"store-1": hour}, unit_hours={"store-1": week}, unit_themes=themes)
    p = planned(batch(answer("r-1", score=0, comment="late"), answer("r-2", comment="late")), facts)
    [drop] = [a for a in p.writes.alerts if a.response_id is None]
    # Lately: delivery 2 of 3 mentions (0.67), against 4 of 34 (0.12) over the week.
    assert drop.reasons["unit-nps-drop"]["themes_grown"] == [
        {
            "theme": "delivery",
            "names": {"en": "Delivery", "fr": "Livraison"},
            "recent": 0.67,
            "week": 0.12,
        }
    ]
    # What was stored is not changed by the batch counted on top of it.
    assert themes["store-1"].recent == {"billing": 1}


def test_counted_responses_roll_up_into_their_units_ancestors_for_the_tree_given() -> None:
    moved = OrgTree(
        [
            OrgUnit(id="acme", name="Acme", kind=UnitKind.COMPANY),
            OrgUnit(id="north", name="North", kind=UnitKind.REGION, parent="acme"),
            OrgUnit(id="south", name="South", kind=UnitKind.REGION, parent="acme"),
            OrgUnit(id="store-1", name="Store 1", parent="south"),
            OrgUnit(id="store-2", name="Store 2", parent="north"),
        ],
        version=4,
    )
    messages = batch(answer("r-1"), answer("r-2", org_unit="north"))
    for tree, store_1 in ((TREE, ("north", "acme")), (moved, ("south", "acme"))):
        p = plan(prepared(messages, tree=tree), Facts(), rules=RULES, settings=SETTINGS, now=NOW)
        assert p.writes.tree_version == tree.version
        rolled = {c.response_id: c.rolled_into for c in p.writes.counted}
        # A unit with units below it counts its own responses into its own roll-up.
        assert rolled == {"r-1": store_1, "r-2": ("north", "acme")}
        assert p.writes.counted[0].tally.score == 9


def events(payloads: Sequence[bytes]) -> list[dict[str, Any]]:
    return [json.loads(p) for p in payloads]


def test_events_are_each_comment_and_its_flag_then_the_alerts() -> None:
    p = planned(
        batch(
            answer("r-1", score_kind="csat", score=1),
            answer("r-2", score=10),
            answer("r-3", score=2),
        )
    )
    done = publication(p, all_stored(p))
    sent = [(e["type"], e["data"].get("response_id")) for e in events(done.payloads)]
    assert sent == [
        ("comment", "r-1"),
        ("flag", "r-1"),
        ("comment", "r-2"),
        ("comment", "r-3"),
        ("flag", "r-3"),
        ("alert", "r-1"),
    ]
    # The hub numbers events as it sends them.
    assert all("id" not in e for e in events(done.payloads))
    assert done.duplicates == 0


def test_only_what_the_store_wrote_is_published() -> None:
    p = planned(batch(answer("r-1", score_kind="csat", score=1), answer("r-2", score=10)))
    done = publication(p, Committed(stored=frozenset({"r-2"}), alerts={}))
    assert [(e["type"], e["data"]["response_id"]) for e in events(done.payloads)] == [
        ("comment", "r-2")
    ]
    assert done.alerts == [] and done.duplicates == 1


def test_a_redelivered_batch_publishes_nothing() -> None:
    p = planned(batch(answer("r-1", score_kind="csat", score=1), answer("r-2", score=10)))
    done = publication(p, Committed(stored=frozenset(), alerts={}))
    assert (done.stored, done.payloads, done.alerts, done.duplicates) == ([], [], [], 2)


def test_a_refused_row_is_neither_published_nor_a_duplicate() -> None:
    p = planned(batch(answer("r-1"), answer("r-2")))
    done = publication(p, Committed(frozenset({"r-1"}), {}, refused={"r-2": "too long"}))
    assert [s.response.response_id for s in done.stored] == ["r-1"]
    assert done.duplicates == 0


def test_an_alert_view_carries_its_stored_id_and_the_masked_response() -> None:
    contact = {"name": "Jane Doe", "email": "jane@example.com"}
    p = planned(
        batch(
            answer(
                "r-1", score_kind="csat", score=1, customer_ref="customer-12345", contact=contact
            )
        )
    )
    done = publication(p, Committed(frozenset({"r-1"}), {"response:r-1": 41}))
    [view] = done.alerts
    assert view.id == 41 and view.response_id == "r-1" and view.rules == ["csat-dissatisfied"]
    assert view.response is not None
    assert view.response.customer_ref == "•••345"
    assert view.response.contact is not None and view.response.contact.email != "jane@example.com"
    alert = events(done.payloads)[-1]
    assert alert["type"] == "alert" and alert["data"]["id"] == 41
    for payload in done.payloads:
        assert b"customer-12345" not in payload and b"jane@example.com" not in payload


def test_an_alert_the_store_already_held_is_not_published_again() -> None:
    p = planned(batch(answer("r-1", score_kind="csat", score=1)))
    done = publication(p, Committed(frozenset({"r-1"}), alerts={}))
    assert done.alerts == []
    assert [e["type"] for e in events(done.payloads)] == ["comment", "flag"]


def test_a_promoter_praising_the_service_is_praise_pushed_after_its_comment() -> None:
    p = planned(
        batch(
            answer("r-1", score=10, comment="great welcome", staff=["Marie", "Luca"]),
            answer("r-2", score=10, comment="fine"),  # not read as positive
            answer("r-3", score=7, comment="great"),  # a passive
            answer("r-4", score=10),  # no comment
        )
    )
    assert p.writes.praise == {"r-1"}
    done = publication(p, all_stored(p))
    sent = [(e["type"], e["data"].get("response_id")) for e in events(done.payloads)]
    assert sent[:2] == [("comment", "r-1"), ("praise", None)]
    [praise] = [e for e in events(done.payloads) if e["type"] == "praise"]
    assert praise["data"]["response"]["staff"] == ["Marie", "Luca"]
    assert praise["data"]["pinned_until"] is None
    assert [e["type"] for e in events(done.payloads)].count("praise") == 1


def test_praise_not_stored_is_not_pushed() -> None:
    p = planned(batch(answer("r-1", score=10, comment="great")))
    done = publication(p, Committed(stored=frozenset(), alerts={}))
    assert done.payloads == []


def test_a_customers_alerts_inside_the_repeat_window_share_the_first_ones_case() -> None:
    earlier = {"cust-1": [("r-old", NOW - timedelta(days=3), "response:r-old")]}
    p = planned(
        batch(
            answer("r-2", score_kind="csat", score=1, customer_ref="cust-1"),
            answer("r-3", score_kind="csat", score=1, customer_ref="cust-2"),
            answer(
                "r-4",
                score_kind="csat",
                score=1,
                customer_ref="cust-2",
                submitted_at=(ANSWERED + timedelta(seconds=30)).isoformat(),
            ),
        ),
        Facts(earlier=earlier),
    )
    cases = {a.response_id: a.case_key for a in p.writes.alerts}
    assert cases == {"r-2": "response:r-old", "r-3": None, "r-4": "response:r-3"}
    views = {v.response_id: v.case_key for v in publication(p, all_stored(p)).alerts}
    assert views == {"r-2": "response:r-old", "r-3": "response:r-3", "r-4": "response:r-3"}
