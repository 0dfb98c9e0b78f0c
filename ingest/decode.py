"""Turning a Kafka record's bytes into a validated response, or the reason it is dead-lettered."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from app.core.events import SurveyResponse, explain


@dataclass(frozen=True)
class Rejected:
    """Why a message cannot be ingested; it goes to the dead-letter topic with its bytes."""

    reason: str
    detail: str


def decode(value: bytes | None, *, max_bytes: int) -> SurveyResponse | Rejected:
    if value is None:
        return Rejected("empty", "message has no value (tombstone)")
    if len(value) > max_bytes:
        return Rejected("too_large", f"message is {len(value)} bytes; the limit is {max_bytes}")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejected("not_json", f"not JSON: {exc}")
    if not isinstance(data, dict):
        return Rejected("invalid", f"expected a JSON object, got {type(data).__name__}")
    try:
        return SurveyResponse.model_validate(data)
    except ValidationError as exc:
        return Rejected("invalid", explain(exc))
