"""The response schema: what integrators may send, and how a refusal names the problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.events import SurveyResponse, explain


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "response_id": "r-1",
        "survey_id": "s-1",
        "submitted_at": "2026-11-20T09:30:00+01:00",
        "score": 9,
        "score_kind": "nps",
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-12",
        "customer_type": "person",
    }
    data.update(overrides)
    return data


def refusal(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        SurveyResponse.model_validate(body(**overrides))
    return explain(caught.value)


def test_valid_response_is_normalised_to_utc_and_lowercase_ids() -> None:
    r = SurveyResponse.model_validate(body(org_unit=" Store-12 ", touchpoint="Delivery"))
    assert r.submitted_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert (r.org_unit, r.touchpoint) == ("store-12", "delivery")
    assert r.comment is None and r.metadata == {}


@pytest.mark.parametrize(("kind", "low", "high"), [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)])
def test_each_score_kind_accepts_its_range_and_names_it_outside(
    kind: str, low: int, high: int
) -> None:
    for score in (low, high):
        assert SurveyResponse.model_validate(body(score_kind=kind, score=score)).score == score
    for score in (low - 1, high + 1):
        message = refusal(score_kind=kind, score=score)
        assert f"outside the {kind} range {low}-{high}" in message


def test_unknown_field_is_refused_by_name() -> None:
    assert refusal(colour="blue") == "colour: unknown field"


def test_naive_timestamp_is_refused() -> None:
    assert refusal(submitted_at="2026-11-20T09:30:00").startswith("submitted_at:")


def test_timestamp_from_the_future_is_refused() -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert "future" in refusal(submitted_at=later)


def test_score_as_string_or_float_is_refused() -> None:
    assert refusal(score="9").startswith("score:")
    assert refusal(score=8.5).startswith("score:")


def test_blank_comment_counts_as_no_comment() -> None:
    assert SurveyResponse.model_validate(body(comment="   ")).comment is None


def test_overlong_comment_and_unknown_channel_are_both_named() -> None:
    message = refusal(comment="x" * 4001, channel="fax")
    assert "comment:" in message and "channel:" in message


def test_org_unit_with_spaces_is_refused() -> None:
    assert refusal(org_unit="store 12").startswith("org_unit:")
