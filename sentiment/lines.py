"""`voc score`: JSON lines in, one JSON line out per input, in order; what the evaluation runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, ValidationError, model_validator

from app.core.events import COMMENT_MAX_CHARS, SCORE_RANGES, ScoreKind
from sentiment.comment import CommentReader
from sentiment.decision import Decision, decide
from sentiment.reading import Reading


class ScoreRequest(BaseModel):
    """One input line. `id` (any JSON value) is echoed so results join back to an export."""

    model_config = ConfigDict(extra="ignore")

    id: Any = None
    comment: str | None = None
    score: StrictInt | None = None
    score_kind: ScoreKind | None = None
    language: str | None = None

    @model_validator(mode="after")
    def _score_fits_its_kind(self) -> ScoreRequest:
        if self.comment is not None and len(self.comment) > COMMENT_MAX_CHARS:
            raise ValueError(f"comment is longer than {COMMENT_MAX_CHARS} characters")
        if self.score is None:
            return self
        if self.score_kind is None:
            # An NPS 3 and a CSAT 3 mean opposite things: no guessing.
            raise ValueError("score needs score_kind (nps, csat or ces)")
        low, high = SCORE_RANGES[self.score_kind]
        if not low <= self.score <= high:
            raise ValueError(
                f"score {self.score} is outside the {self.score_kind} range {low}-{high}"
            )
        return self


def result(request: ScoreRequest, reading: Reading | None, decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {} if request.id is None else {"id": request.id}
    out |= {
        "language": reading.language if reading else None,
        "sentiment": reading.sentiment if reading else None,
        "negative_probability": reading.negative_probability if reading else None,
        "dissatisfied": decision.dissatisfied,
        "severity": decision.severity.value,
        "reasons": [{"kind": r.kind.value, "label": r.label} for r in decision.reasons],
    }
    return out


def _error(number: int, message: str) -> str:
    return json.dumps({"line": number, "error": message}, ensure_ascii=False)


def score_lines(lines: Iterable[str], reader: CommentReader) -> Iterator[str]:
    """One output line per non-blank input line; a bad line gives {"line", "error"} in its place."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            request = ScoreRequest.model_validate_json(line)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()
            )
            yield _error(number, problems)
            continue
        # The reader and the decision, as CommentScorer.judge runs them, without building the
        # wire model: this path is what the evaluation times.
        reading = reader.read(request.comment, request.language)
        decision = decide(request.score_kind, request.score, reading)
        yield json.dumps(result(request, reading, decision), ensure_ascii=False)
