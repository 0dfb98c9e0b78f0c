"""Turning a Kafka record's bytes into a validated response, or the reason it is dead-lettered."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from app.core.events import SurveyResponse, explain
from app.core.wirejson import parse_json

# How deep objects and arrays may nest, the response itself being level 1. Far below the
# interpreter's recursion limit, which deeper JSON hits while being parsed or serialized.
MAX_DEPTH = 32


@dataclass(frozen=True)
class Rejected:
    """Why a message cannot be ingested; it goes to the dead-letter topic with its bytes."""

    reason: str
    detail: str


TOO_DEEP = Rejected("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")


def decode(value: bytes | None, *, max_bytes: int) -> SurveyResponse | Rejected:
    """The response in `value`, or why not; never raises on bad input (a raise stalls the batch)."""
    if value is None:
        return Rejected("empty", "message has no value (tombstone)")
    if len(value) > max_bytes:
        return Rejected("too_large", f"message is {len(value)} bytes; the limit is {max_bytes}")
    try:
        data = parse_json(value)
    except RecursionError:
        return TOO_DEEP
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejected("not_json", f"not JSON: {exc}")
    # Nesting needs an opening bracket per level: with few of them, no need to walk the tree.
    brackets = value.count(b"{") + value.count(b"[")
    if brackets > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
        return TOO_DEEP
    if not isinstance(data, dict):
        return Rejected("invalid", f"expected a JSON object, got {type(data).__name__}")
    try:
        return SurveyResponse.model_validate(data)
    except ValidationError as exc:
        return Rejected("invalid", explain(exc))
    except (ValueError, ArithmeticError) as exc:
        # A validator's own fault on some input: dead-lettering it beats stalling the partition.
        return Rejected("invalid", f"could not be validated: {exc!r}")


def _deeper_than(data: object, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels; iterative, so it cannot recurse."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
