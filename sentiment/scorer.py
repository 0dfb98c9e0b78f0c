"""The TextBlob scorer: the `Scorer` port over comment polarity and the decision table."""

from __future__ import annotations

from app.core.events import Assessment, SurveyResponse
from sentiment.decision import decide
from sentiment.polarity import comment_polarity


def reads(language: str | None) -> bool:
    """TextBlob's lexicon is English: a comment declared in another language is not scored,
    rather than scored 0.0 (which would pull every sentiment mean toward neutral)."""
    return language is None or language.lower().split("-")[0] == "en"


class TextBlobScorer:
    """Satisfies `app.core.ports.Scorer`: pure, no I/O, thread-safe once constructed."""

    def __init__(self) -> None:
        # The lexicon loads lazily on first use; load it here so the first response on the hot
        # path does not pay for it and concurrent first calls do not race to load it.
        comment_polarity("good")

    def assess(self, response: SurveyResponse) -> Assessment:
        polarity = comment_polarity(response.comment) if reads(response.language) else None
        decision = decide(response.score_kind, response.score, polarity)
        return Assessment(
            polarity=polarity, dissatisfied=decision.dissatisfied, severity=decision.severity
        )
