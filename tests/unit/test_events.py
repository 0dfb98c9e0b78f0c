"""The response schema: what integrators may send, and how a refusal names the problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.events import SurveyResponse, explain
from app.core.wirejson import parse_json


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


LANGUAGE_92 = "en-" + "-".join(["abcdefgh"] * 10)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"metadata": {"big": 10**5000}}, "metadata.big: an integer is outside ±"),
        ({"metadata": {"n": [1, 2**63]}}, "metadata.n.1: an integer is outside ±"),
        ({"metadata": {"n": -(2**63) - 1}}, "metadata.n: an integer is outside ±"),
        ({"submitted_at": "0001-01-01T00:30:00+01:00"}, "submitted_at: lies before 1970-01-01"),
        ({"submitted_at": "1969-12-31T23:59:59Z"}, "submitted_at: lies before 1970-01-01"),
        ({"language": LANGUAGE_92}, "language: String should have at most 35 characters"),
        ({"metadata": {"ratio": float("nan")}}, "metadata.ratio: nan is not a finite number"),
        ({"metadata": {"a": {"b": [float("-inf")]}}}, "metadata.a.b.0: -inf is not a finite"),
        ({"contact": {"name": "Jo\x00"}}, "contact.name: contains a NUL character"),
        ({"contact": {"email": "j\x00@x.fr"}}, "contact.email: contains a NUL character"),
        ({"metadata": {"a": [{"b": "x\x00"}]}}, "metadata.a.0.b: contains a NUL character"),
        ({"metadata": {"a": {"b\x00": 1}}}, "metadata.a.b\\u0000: key contains a NUL character"),
        ({"metadata": {"a": "\ud800"}}, "metadata.a: contains a lone surrogate"),
        ({"metadata": {"a": {1, 2}}}, "metadata.a: set is not a JSON value"),
    ],
)
def test_what_a_database_cannot_store_is_refused_naming_the_field(
    change: dict[str, Any], expected: str
) -> None:
    assert refusal(**change).startswith(expected)


def test_the_storable_extremes_are_accepted() -> None:
    r = SurveyResponse.model_validate(
        body(
            submitted_at="1970-01-01T00:00:00Z",
            language="en-" + "-".join(["abcdefgh"] * 3) + "-abcde",
            metadata={"max": 2**63 - 1, "min": -(2**63), "f": 1.5e308, "s": "é \\u0000"},
        )
    )
    assert r.submitted_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert r.language is not None and len(r.language) == 35
    assert r.metadata["min"] == -(2**63)


def test_parsed_json_names_nan_and_overlong_integers_instead_of_raising() -> None:
    text = '{"n": NaN, "inf": -Infinity, "big": ' + "9" * 5000 + "}"
    assert refusal(metadata=parse_json(text)) == (
        "metadata.n: NaN is not a JSON number and cannot be stored"
    )
    assert refusal(metadata=parse_json(text.replace("NaN", "1"))).startswith(
        "metadata.inf: -Infinity is not a JSON number"
    )
    assert refusal(metadata={"big": parse_json(text)["big"]}).startswith(
        "metadata.big: an integer of 5000 digits is outside ±9223372036854775807"
    )
    assert parse_json(str(2**63 - 1)) == 2**63 - 1


def test_a_refusal_names_keys_utf8_cannot_encode_escaped() -> None:
    # The worker sends the refusal as a Kafka header, encoded to UTF-8.
    assert refusal(metadata={"x": {"a\ud800": 1}}).startswith(
        "metadata.x.a\\ud800: key contains a lone surrogate"
    )
    assert refusal(**{"col\x00our": 1}) == "col\\u0000our: unknown field"


def test_staff_names_are_trimmed_and_bounded_by_name() -> None:
    named = SurveyResponse.model_validate(body(staff=["  Marie ", "Luca"]))
    assert named.staff == ["Marie", "Luca"]
    assert "staff.1: String should have at least 1 character" in refusal(staff=["Marie", " "])
    assert refusal(staff=[f"n{i}" for i in range(11)]).startswith("staff: List should have at most")
    assert "NUL" in refusal(staff=["Ma\x00rie"])
