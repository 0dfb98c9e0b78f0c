"""Decoding Kafka bytes: every bad message gets a reason, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingest.decode import MAX_DEPTH, Rejected, decode
from tests.unit.test_events import body

LIMIT = 64 * 1024


def nested(levels: int, leaf: Any = 1) -> Any:
    """`levels` objects nested inside each other around `leaf`."""
    for _ in range(levels):
        leaf = {"a": leaf}
    return leaf


def with_deep_metadata(levels: int) -> bytes:
    """A valid response whose metadata nests `levels` objects, built as bytes: json.dumps would
    itself give up on the deepest ones."""
    hole = json.dumps(body(metadata="HOLE")).encode()
    return hole.replace(b'"HOLE"', b'{"a":' * levels + b"1" + b"}" * levels)


def test_valid_json_decodes_to_a_response() -> None:
    result = decode(json.dumps(body()).encode(), max_bytes=10_000)
    assert not isinstance(result, Rejected)
    assert result.response_id == "r-1"


def test_each_kind_of_bad_message_gets_its_reason() -> None:
    cases = {
        None: "empty",
        b"\xff\xfe": "not_json",
        b'{"comment": "\xff\xfe"}': "not_json",
        b"{not json": "not_json",
        b'"a string"': "invalid",
        b"[" * 40 + b"]" * 40: "too_deep",
        json.dumps(body(score=12)).encode(): "invalid",
        json.dumps(body(comment="x" * 200)).encode(): "too_large",
    }
    for value, reason in cases.items():
        result = decode(value, max_bytes=300)
        assert isinstance(result, Rejected), value
        assert result.reason == reason, (value, result)


def test_invalid_message_detail_names_the_field() -> None:
    result = decode(json.dumps(body(score_kind="stars")).encode(), max_bytes=10_000)
    assert isinstance(result, Rejected)
    assert result.detail.startswith("score_kind:")


def test_a_nul_character_is_refused_naming_its_field_and_a_written_backslash_u_is_not() -> None:
    # PostgreSQL cannot store NUL in text: accepted, it would fail the batch on every retry.
    for field in ("comment", "response_id", "customer_ref"):
        result = decode(json.dumps(body(**{field: "a\u0000b"})).encode(), max_bytes=10_000)
        assert isinstance(result, Rejected)
        assert (result.reason, result.detail) == (
            "invalid",
            f"{field}: contains a NUL character (\\u0000), which cannot be stored",
        )
    written = decode(json.dumps(body(comment="type \\u0000 here")).encode(), max_bytes=10_000)
    assert not isinstance(written, Rejected)
    assert written.comment == "type \\u0000 here"


def test_message_of_exactly_the_limit_is_not_too_large() -> None:
    value = json.dumps(body()).encode()
    assert not isinstance(decode(value, max_bytes=len(value)), Rejected)
    result = decode(value, max_bytes=len(value) - 1)
    assert isinstance(result, Rejected)
    assert result.reason == "too_large"
    assert result.detail == f"message is {len(value)} bytes; the limit is {len(value) - 1}"


def test_array_nested_past_the_recursion_limit_is_too_deep_not_an_exception() -> None:
    for value in [b"[" * 30_000 + b"]" * 30_000, b"[" * 30_000, b'{"a":' * 12_000]:
        assert len(value) <= LIMIT
        result = decode(value, max_bytes=LIMIT)
        assert result == Rejected("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")


def test_deep_metadata_in_a_valid_response_is_too_deep() -> None:
    # 900 levels parse but break serializing the row later; 9_000 break parsing itself.
    for levels in [MAX_DEPTH, 900, 9_000]:
        value = with_deep_metadata(levels)
        assert len(value) <= LIMIT
        result = decode(value, max_bytes=LIMIT)
        assert result == Rejected("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels"), levels


def test_nesting_up_to_the_bound_is_accepted_and_arrays_count_as_levels() -> None:
    # The response is level 1, so its metadata may hold MAX_DEPTH - 1 levels.
    fits = decode(json.dumps(body(metadata=nested(MAX_DEPTH - 1))).encode(), max_bytes=LIMIT)
    assert not isinstance(fits, Rejected)
    one_list_too_many = body(metadata=nested(MAX_DEPTH - 2, leaf=[[1]]))
    result = decode(json.dumps(one_list_too_many).encode(), max_bytes=LIMIT)
    assert isinstance(result, Rejected)
    assert result.reason == "too_deep"


def test_brackets_inside_strings_are_not_nesting() -> None:
    value = json.dumps(body(comment="[{" * 1000, metadata={"note": "]}" * 1000})).encode()
    result = decode(value, max_bytes=LIMIT)
    assert not isinstance(result, Rejected), result
    assert result.comment == "[{" * 1000


def raw(**overrides: str) -> bytes:
    """A valid response with fields replaced by raw JSON text, which json.dumps cannot write."""
    text = json.dumps(body(**{name: f"@{name}@" for name in overrides}))
    for name, value in overrides.items():
        text = text.replace(f'"@{name}@"', value)
    return text.encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (raw(metadata='{"big": ' + "7" * 5000 + "}"), "metadata.big: an integer of 5000 digits"),
        (raw(score="-" + "7" * 5000), "score: Input should be a valid integer"),
        (raw(metadata='{"n": 9223372036854775808}'), "metadata.n: an integer is outside ±"),
        (raw(submitted_at='"0001-01-01T00:30:00+01:00"'), "submitted_at: lies before 1970-01-01"),
        (raw(language=json.dumps("en-" + "-".join(["abcdefgh"] * 10))), "language: String"),
        (raw(metadata='{"a": [1, NaN]}'), "metadata.a.1: NaN is not a JSON number"),
        (raw(metadata='{"a": {"b": Infinity}}'), "metadata.a.b: Infinity is not a JSON number"),
        (raw(metadata='{"a": -Infinity}'), "metadata.a: -Infinity is not a JSON number"),
        (raw(metadata='{"a": 1e400}'), "metadata.a: inf is not a finite number"),
        (raw(score="NaN"), "score: Input should be a valid integer"),
        (raw(metadata='{"a": [{"b\\u0000": 1}]}'), "metadata.a.0.b\\u0000: key contains a NUL"),
        (raw(metadata='{"a": {"b": ["\\u0000"]}}'), "metadata.a.b.0: contains a NUL character"),
        (raw(contact='{"name": "Jo\\u0000"}'), "contact.name: contains a NUL character"),
        (raw(metadata='{"a": {"\\ud800": 1}}'), "metadata.a.\\ud800: key contains a lone"),
    ],
)
def test_what_a_database_cannot_store_is_rejected_naming_the_field(
    value: bytes, expected: str
) -> None:
    result = decode(value, max_bytes=LIMIT)
    assert isinstance(result, Rejected)
    assert result.reason == "invalid"
    assert result.detail.startswith(expected), result.detail
    result.detail.encode()  # the worker sends it as a Kafka header
