"""Decoding Kafka bytes: every bad message gets a reason, never an exception."""

from __future__ import annotations

import json

from ingest.decode import Rejected, decode
from tests.unit.test_events import body


def test_valid_json_decodes_to_a_response() -> None:
    result = decode(json.dumps(body()).encode(), max_bytes=10_000)
    assert not isinstance(result, Rejected)
    assert result.response_id == "r-1"


def test_each_kind_of_bad_message_gets_its_reason() -> None:
    cases = {
        None: "empty",
        b"\xff\xfe": "not_json",
        b"{not json": "not_json",
        b'"a string"': "invalid",
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
