"""What counts as praise: a promoter whose comment reads as positive, and no complaint."""

from __future__ import annotations

import pytest

from alerts.praise import is_praise
from app.core.events import Assessment, Severity, SurveyResponse
from tests.unit.test_events import body


def _is_praise(
    score: int,
    *,
    kind: str = "nps",
    comment: str | None = "Lovely people.",
    polarity: float | None = 0.8,
    negative: bool = False,
) -> bool:
    response = SurveyResponse.model_validate(body(score_kind=kind, score=score, comment=comment))
    assessment = Assessment(
        polarity=polarity, dissatisfied=False, severity=Severity.NONE, negative_comment=negative
    )
    return is_praise(response, assessment, praise_from=0.5)


@pytest.mark.parametrize("score", [9, 10])
def test_a_promoter_with_a_positive_comment_is_praise(score: int) -> None:
    assert _is_praise(score)


def test_the_top_of_the_csat_scale_is_praise_too() -> None:
    assert _is_praise(5, kind="csat")
    assert not _is_praise(4, kind="csat")


@pytest.mark.parametrize(
    ("score", "overrides"),
    [
        (8, {}),  # a passive
        (10, {"comment": None}),  # nothing said
        (10, {"polarity": 0.3}),  # lukewarm
        (10, {"polarity": None}),  # a language the scorer does not read
        (10, {"polarity": 0.6, "negative": True}),  # "good product but a disastrous delivery"
    ],
)
def test_anything_less_is_not_praise(score: int, overrides: dict[str, object]) -> None:
    assert not _is_praise(score, **overrides)  # type: ignore[arg-type]


def test_effort_scores_are_never_praise() -> None:
    assert not _is_praise(1, kind="ces")
