"""Alert rules: declared in a versioned file, each with an id, a condition and a severity.

Four kinds of condition:
- `score`: a score at or below (or, for CES, at or above) a bound, optionally only with a
  negative comment;
- `phrases`: churn or escalation language in the comment, whatever the score;
- `repeat`: the same customer dissatisfied again within N days;
- `drop`: a unit's NPS over the last hour falls more than X points below its 7-day figure, on
  at least M answers (an alert about a unit, not a customer).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.events import ScoreKind, Severity, Slug, explain

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.yaml"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    description: str = Field(min_length=1, max_length=300)
    severity: Severity


class ScoreRule(_Rule):
    kind: Literal["score"] = "score"
    score_kind: ScoreKind
    at_most: int | None = None
    at_least: int | None = None
    # Only with a comment the sentiment stage reads as negative (VOC_SENTIMENT_NEGATIVE_FROM).
    negative_comment: bool = False


class PhraseRule(_Rule):
    kind: Literal["phrases"] = "phrases"
    phrases: list[Annotated[str, Field(min_length=2, max_length=80)]] = Field(min_length=1)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Whole words or phrases, any case; "refund" matches "Refund!", not "refunded"."""
        alternatives = sorted((re.escape(p.strip().lower()) for p in self.phrases), key=len)
        return re.compile(r"(?<!\w)(" + "|".join(reversed(alternatives)) + r")(?!\w)", re.I)


class RepeatRule(_Rule):
    kind: Literal["repeat"] = "repeat"
    within_days: int = Field(ge=1, le=365)


class DropRule(_Rule):
    kind: Literal["drop"] = "drop"
    points: float = Field(gt=0, le=200)
    min_responses: int = Field(ge=1)


Rule = Annotated[ScoreRule | PhraseRule | RepeatRule | DropRule, Field(discriminator="kind")]


class RuleBook(BaseModel):
    """The rules file: its version says which rules an alert was judged by."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleBook:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"ids listed twice: {', '.join(twice)}")
        return self


class RulesError(ValueError):
    """The rules file cannot be used; the message names the file and the place."""


def load_rules(path: Path = DEFAULT_RULES) -> RuleBook:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return RuleBook.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        raise RulesError(f"{path}: {explain(exc, whole='file')}") from exc
