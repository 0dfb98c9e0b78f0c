"""The TextBlob scorer: the `Scorer` port over comment polarity and the decision table."""

from __future__ import annotations

from app.core.events import Assessment, SurveyResponse
from sentiment.decision import decide
from sentiment.polarity import comment_polarity


class TextBlobScorer:
    """Satisfies `app.core.ports.Scorer`: pure, no I/O, thread-safe once constructed."""

    def __init__(self) -> None:
        # The lexicon loads lazily on first use; load it here so the first response on the hot
        # path does not pay for it and concurrent first calls do not race to load it.
        comment_polarity("good")

    def assess(self, response: SurveyResponse) -> Assessment:
        polarity = comment_polarity(response.comment)
        decision = decide(response.score_kind, response.score, polarity)
        return Assessment(
            polarity=polarity, dissatisfied=decision.dissatisfied, severity=decision.severity
        )
