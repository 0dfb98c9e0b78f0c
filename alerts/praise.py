"""What counts as praise: a promoter whose comment the scorer reads as positive. Pure."""

from __future__ import annotations

from app.core.events import Assessment, ScoreKind, SurveyResponse

# The top of each scale: NPS promoters, and CSAT's "very satisfied".
_TOP = {ScoreKind.NPS: 9, ScoreKind.CSAT: 5}


def is_praise(response: SurveyResponse, assessment: Assessment, praise_from: float) -> bool:
    """A comment from the top of the scale whose polarity reaches `praise_from` and which reads
    as no complaint ("great product but the delivery was a disaster" is not praise). A comment
    the scorer cannot read (a language it does not assess) is not praise: nothing says it is."""
    top = _TOP.get(response.score_kind)
    return (
        top is not None
        and response.score >= top
        and response.comment is not None
        and assessment.polarity is not None
        and assessment.polarity >= praise_from
        and not assessment.negative_comment
    )
