"""What one batch becomes: each response scored once, events in the order a cockpit needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.core.barometer import BarometerBook
from app.core.events import SurveyResponse
from ingest.batch import hub_payloads, score_all, tally
from sentiment import CommentScorer
from tests.unit.test_events import body

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def response(**overrides: object) -> SurveyResponse:
    return SurveyResponse.model_validate(body(submitted_at=NOW.isoformat(), **overrides))


def test_a_response_id_twice_in_one_batch_is_scored_once_keeping_the_first() -> None:
    first = response(response_id="r-1", comment="first copy")
    again = response(response_id="r-1", comment="second copy")
    other = response(response_id="r-2")
    scored = score_all(CommentScorer(0.5), [(first, NOW), (again, NOW), (other, NOW)])
    assert [(s.response.response_id, s.response.comment) for s in scored] == [
        ("r-1", "first copy"),
        ("r-2", None),
    ]


def test_comment_then_its_flag_then_one_barometer_per_scope_touched() -> None:
    angry = response(response_id="r-1", score=1, comment="Awful service, nobody came.")
    happy = response(response_id="r-2", score=10, touchpoint="billing")
    scored = score_all(CommentScorer(0.5), [(angry, NOW), (happy, NOW)])
    book = BarometerBook(ZoneInfo("UTC"))
    for item in scored:
        book.add(tally(item))
    payloads = hub_payloads(scored, book, NOW, {"store-12": 7})
    events = [json.loads(p) for p in payloads]

    assert [(e["type"], e["touchpoint"]) for e in events] == [
        ("comment", "delivery"),
        ("flag", "delivery"),
        ("comment", "billing"),
        ("barometer", None),
        ("barometer", "delivery"),
        ("barometer", "billing"),
    ]
    assert all("id" not in e for e in events)  # the hub numbers them
    unit = events[3]["data"]["windows"]["hour"]
    assert (unit["responses"], unit["nps"], unit["flagged"]) == (2, 0.0, 1)
    # Every snapshot says which revision of its unit it shows: of two, a cockpit keeps the newer.
    assert {e["revision"] for e in events if e["type"] == "barometer"} == {7}
