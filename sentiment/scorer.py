"""The product's scorer: the `Scorer` port over the comment reader and the decision table."""

from __future__ import annotations

from app.core.events import Assessment, ScoreKind, SurveyResponse
from sentiment.comment import CommentReader
from sentiment.decision import decide


class CommentScorer:
    """Satisfies `app.core.ports.Scorer`: pure, no I/O, thread-safe once constructed."""

    def __init__(self, negative_from: float) -> None:
        self.reader = CommentReader(negative_from)

    def assess(self, response: SurveyResponse) -> Assessment:
        return self.judge(response.comment, response.score_kind, response.score, response.language)

    def judge(
        self,
        comment: str | None,
        score_kind: ScoreKind | None = None,
        score: int | None = None,
        language: str | None = None,
    ) -> Assessment:
        """The assessment of a comment with or without its score (`voc score` may lack one)."""
        reading = self.reader.read(comment, language)
        decision = decide(score_kind, score, reading)
        return Assessment(
            polarity=reading.sentiment if reading else None,
            dissatisfied=decision.dissatisfied,
            severity=decision.severity,
            comment_language=reading.language if reading else None,
            negative_comment=reading.negative if reading else False,
            negative_probability=reading.negative_probability if reading else None,
            reasons=list(decision.reasons),
        )
