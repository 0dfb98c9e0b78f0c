"""The product's scorer: the `Scorer` port over the comment reader, the decision table and the
taxonomy's themes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from app.core.events import Assessment, ScoreKind, SurveyResponse
from sentiment import themes as taxonomy
from sentiment.comment import CommentReader
from sentiment.decision import decide
from sentiment.mentions import ThemeReader


@cache
def _shipped() -> taxonomy.Themes:
    return taxonomy.load()


class CommentScorer:
    """Satisfies `app.core.ports.Scorer`: pure, no I/O, thread-safe once constructed."""

    def __init__(
        self, negative_from: float, themes: Callable[[], taxonomy.Themes] | None = None
    ) -> None:
        """`themes`: gives the organisation's taxonomy, asked for each comment, so a taxonomy
        an admin replaces applies from the next comment (a cache behind it keeps this cheap);
        None: the shipped one."""
        self.reader = CommentReader(negative_from)
        self._taxonomy = themes or _shipped
        self._themes = ThemeReader(self._taxonomy(), self.reader)

    def assess(self, response: SurveyResponse) -> Assessment:
        return self.judge(response.comment, response.score_kind, response.score, response.language)

    def theme_names(self) -> Mapping[str, Mapping[str, str]]:
        return self._theme_reader().names

    def _theme_reader(self) -> ThemeReader:
        current = self._taxonomy()
        if current is not self._themes.themes:
            self._themes = ThemeReader(current, self.reader)
        return self._themes

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
            themes=self._theme_reader().mentions(comment, reading),
        )
