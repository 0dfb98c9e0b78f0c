"""JSON as integrators send it, and what in it no supported database stores.

Kafka's decode and REST ingest parse bodies here, so a NaN or a 5,000-digit integer is left for
validation to refuse by name instead of failing the parse (or being stored as null).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

# Integers in metadata: what PostgreSQL's jsonb and SQLite's JSON functions give back exactly.
# Larger ones (past 4300 digits Python's own `int()` refuses them) belong in strings.
JSON_INT_MAX = 2**63 - 1


class Unstorable:
    """Stands for a JSON number no database stores, so that validation names its field."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def __repr__(self) -> str:
        return f"Unstorable({self.problem!r})"


def _parse_int(digits: str) -> int | Unstorable:
    # Over 20 characters the number is out of range anyway; past 4300 digits, `int()` raises,
    # which would fail the whole message without naming the field.
    if len(digits) > 20:
        return Unstorable(f"an integer of {len(digits.lstrip('-'))} digits {_INT_RANGE}")
    return int(digits)


def _parse_constant(name: str) -> Unstorable:
    return Unstorable(f"{name} is not a JSON number and cannot be stored")


# Built once: `json.loads` given a hook builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_parse_constant)
# Only for the rare integer past `int()`'s 4300 digits: a Python call per integer is a cost.
_GUARDED = json.JSONDecoder(parse_int=_parse_int, parse_constant=_parse_constant)


def parse_json(data: bytes | str) -> Any:
    """JSON as integrators send it, with numbers no database stores left for validation to name.

    Raises what `json.loads` raises for text that is not JSON.
    """
    text = (
        data.decode(json.detect_encoding(data), "surrogatepass")
        if isinstance(data, bytes)
        else data
    )
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _GUARDED.decode(text)


_INT_RANGE = f"is outside ±{JSON_INT_MAX} and cannot be stored exactly; send it as a string"
_Path = tuple[int | str, ...]


def _plainly_storable(metadata: dict[str, Any]) -> bool:
    """Whether every value is storable; the quick walk, without the path a refusal names."""
    stack: list[object] = [metadata]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node or (not node.isascii() and _text_problem(node)):
                return False
        elif node is None or isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if not -JSON_INT_MAX - 1 <= node <= JSON_INT_MAX:
                return False
        elif isinstance(node, float):
            if not math.isfinite(node):
                return False
        elif isinstance(node, dict):
            try:
                keys = "".join(node)
            except TypeError:
                return False
            if "\x00" in keys or (not keys.isascii() and _text_problem(keys)):
                return False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        else:
            return False
    return True


def unstorable(metadata: dict[str, Any]) -> tuple[_Path, str] | None:
    """The first value in `metadata` (document order) no database stores, and why; iterative."""
    if _plainly_storable(metadata):
        return None
    stack: list[tuple[_Path, object]] = [((), metadata)]
    while stack:
        path, node = stack.pop()
        problem: str | None = None
        if isinstance(node, str):
            problem = _text_problem(node)
        elif node is None or isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if not -JSON_INT_MAX - 1 <= node <= JSON_INT_MAX:
                problem = f"an integer {_INT_RANGE}"
        elif isinstance(node, float):
            if not math.isfinite(node):
                problem = f"{node} is not a finite number and cannot be stored"
        elif isinstance(node, dict):
            for key in node:
                if isinstance(key, str) and (problem := _text_problem(key)) is not None:
                    return (*path, key), f"key {problem}"
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, Unstorable):
            problem = node.problem
        else:
            problem = f"{type(node).__name__} is not a JSON value"
        if problem is not None:
            return path, problem
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    # JSON may spell a lone surrogate (`"\ud800"`), which has no UTF-8 form: the producer could
    # not serialize the response, nor the worker send its refusal in a header.
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "contains a lone surrogate (\\ud800-\\udfff), which is not UTF-8"
    return None


def field_path(loc: Sequence[int | str], whole: str = "body") -> str:
    """`loc` as `metadata.a.0`, escaped so that the name itself is printable and UTF-8."""
    return ".".join(printable(str(part)) for part in loc) or whole


def printable(text: str) -> str:
    return json.dumps(text)[1:-1] if _text_problem(text) else text
