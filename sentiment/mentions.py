"""Each theme a comment names, with the tone of the clause that names it.

"Good product but the delivery was a disaster" is one comment, negative as a whole, yet the
product is praised: a comment of several clauses (split at sentence ends and at contrasts:
"but", "mais", "ma"...) has each clause that names a theme read again by the language's model,
and the theme takes that clause's tone. Themes named in one clause take the comment's own tone,
already read (it weighs the other clauses too): most comments cost one walk of the taxonomy's
words and nothing more.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache
from itertools import accumulate

from app.core.events import ThemeMention, Tone
from sentiment.comment import CommentReader
from sentiment.features import CONTRASTS
from sentiment.reading import Reading
from sentiment.themes import Themes, words

# Below this P(negative) a clause reads as positive. On the 14,631 airline tweets (human
# labels) the English model puts 64 % of positive tweets under it, 27 % of neutral ones and
# 11 % of negative ones: the model learnt complaints, not praise, so "positive" is kept strict.
POSITIVE_BELOW = 0.2
# A theme named in several clauses takes the tone that matters most to whoever acts on it.
_PRECEDENCE = (Tone.NEGATIVE, Tone.POSITIVE, Tone.NEUTRAL)


def _splitter(words: frozenset[str]) -> re.Pattern[str]:
    contrasts = "|".join(sorted(words, key=len, reverse=True))
    # Captured: a split keeps its separators, between the clauses.
    return re.compile(rf"([.!?;\n]+|\b(?:{contrasts})\b)", re.IGNORECASE)


_SPLIT = {language: _splitter(words) for language, words in CONTRASTS.items()}


class ThemeReader:
    """Pure and thread-safe once built."""

    def __init__(self, themes: Themes, reader: CommentReader) -> None:
        self.themes = themes
        self._reader = reader
        # A theme and the themes above it: a comment about refunds is about billing too, so a
        # parent's figures count its children's comments.
        self._lineage = {t.id: _lineage(themes, t.id) for t in themes.themes}
        self.names = {t.id: dict(t.names) for t in themes.themes}

    def mentions(self, comment: str | None, reading: Reading | None) -> list[ThemeMention]:
        if not comment or reading is None:
            return []
        language = reading.language
        located = self.themes.locate(comment, language)
        if not located:
            return []  # most comments: one walk of the taxonomy's words, and nothing more
        whole = self._tone(reading.negative_probability)
        tones: dict[str, set[Tone | None]] = {}
        for tone, themes in self._by_clause(comment, language, located, whole):
            for theme in themes:
                for named_or_above in self._lineage[theme]:
                    tones.setdefault(named_or_above, set()).add(tone)
        return [_mention(theme, _strongest(said)) for theme, said in tones.items()]

    def _by_clause(
        self,
        comment: str,
        language: str | None,
        located: list[tuple[str, int]],
        whole: Tone | None,
    ) -> list[tuple[Tone | None, list[str]]]:
        """The themes with the tone they take: the comment's own, unless they are named in
        more than one clause, where each clause naming some is read again for its own."""
        everything = [(whole, [theme for theme, _ in located])]
        if whole is None or language is None or len(located) == 1:
            return everything  # one mention is in one clause
        # Clauses and the separators between them (kept, for their words count too).
        pieces = _SPLIT[language].split(comment) if language in _SPLIT else [comment]
        if len(pieces) == 1:
            return everything
        ends = list(accumulate(len(words(piece)) for piece in pieces))
        named: dict[int, list[str]] = {}
        for theme, at in located:
            piece = bisect_right(ends, at)
            # A separator's (a contrast word in a phrase): the clause after it.
            clause = min(piece + piece % 2, len(pieces) - 1)
            named.setdefault(clause, []).append(theme)
        if len(named) == 1:
            return everything
        return [
            (self._tone(self._reader.negative_probability(pieces[i], language)), themes)
            for i, themes in named.items()
        ]

    def _tone(self, negative_probability: float | None) -> Tone | None:
        if negative_probability is None:
            return None
        if negative_probability >= self._reader.negative_from:
            return Tone.NEGATIVE
        return Tone.POSITIVE if negative_probability < POSITIVE_BELOW else Tone.NEUTRAL


def _strongest(tones: set[Tone | None]) -> Tone | None:
    if len(tones) == 1:
        return next(iter(tones))
    for tone in _PRECEDENCE:
        if tone in tones:
            return tone
    return None


@cache
def _mention(theme: str, tone: Tone | None) -> ThemeMention:
    """Mentions are frozen: one instance per theme and tone serves every comment (building one
    cost a tenth of what themes cost the scorer)."""
    return ThemeMention.model_construct(theme=theme, tone=tone)


def _lineage(themes: Themes, theme_id: str) -> tuple[str, ...]:
    found = [theme_id]
    parent = themes.get(theme_id)
    while parent is not None and parent.parent is not None and parent.parent not in found:
        found.append(parent.parent)
        parent = themes.get(parent.parent)
    return tuple(found)
