"""Emerging topics: phrases customers say far more this week than in the four weeks before,
found in the daily phrase counts (never by reading comments again).

A phrase emerges when enough comments say it this week (`min_count`) and its share of the
week's comments in its language is `min_lift` times its share before (a phrase never said
before counts as said once, so a new phrase needs volume, not luck). Of two emerging phrases
where one holds the other ("app crash", "app"), the shorter is left out unless it is said
clearly more often on its own: the candidate names the topic, not its words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.writes import Said

WEEK_DAYS = 7
BEFORE_DAYS = 28
# Rows older than the two periods are deleted.
DAYS_KEPT = WEEK_DAYS + BEFORE_DAYS
# A shorter phrase is kept beside a longer one holding it only if said this much more often.
_ON_ITS_OWN = 1.5


def epoch_day(moment: datetime) -> int:
    return int(moment.timestamp() // 86400)


def day_counts(
    said: Iterable[Said],
) -> tuple[dict[tuple[int, str, str], int], dict[tuple[int, str], int]]:
    """What stored comments add: comments per (day, language, phrase), and per (day,
    language) (what shares are of)."""
    phrases: Counter[tuple[int, str, str]] = Counter()
    comments: Counter[tuple[int, str]] = Counter()
    for item in said:
        comments[item.day, item.language] += 1
        for phrase in item.phrases:
            phrases[item.day, item.language, phrase] += 1
    return dict(phrases), dict(comments)


class Emerging(BaseModel):
    phrase: str
    language: str
    comments: int = Field(description="Comments saying it this week.")
    share: float = Field(description="% of the week's comments in its language.")
    before: int = Field(description="Comments saying it in the four weeks before.")
    before_share: float
    lift: float = Field(description="Share this week over share before (never said: once).")


def emerging(
    week: Mapping[tuple[str, str], int],
    before: Mapping[tuple[str, str], int],
    week_comments: Mapping[str, int],
    before_comments: Mapping[str, int],
    *,
    known: Callable[[str, str], bool],
    min_count: int,
    min_lift: float,
    limit: int = 30,
) -> list[Emerging]:
    """The emerging phrases, by (language, phrase) counts this week and before, strongest
    first. `known(language, phrase)`: a theme catches it already, so it is no candidate."""
    found: list[Emerging] = []
    for (language, phrase), count in week.items():
        total = week_comments.get(language, 0)
        if count < min_count or total == 0 or known(language, phrase):
            continue
        earlier, earlier_total = before.get((language, phrase), 0), before_comments.get(language, 0)
        share = count / total
        before_share = max(earlier, 1) / max(earlier_total, 1)
        lift = share / before_share
        if lift < min_lift:
            continue
        found.append(
            Emerging(
                phrase=phrase,
                language=language,
                comments=count,
                share=round(100 * share, 1),
                before=earlier,
                before_share=round(100 * earlier / earlier_total, 1) if earlier_total else 0.0,
                lift=round(lift, 1),
            )
        )
    kept = _topics(found)
    kept.sort(key=lambda e: (-e.lift * e.comments, e.phrase))
    return kept[:limit]


def _topics(found: list[Emerging]) -> list[Emerging]:
    """Drop a phrase held in a longer emerging one of its language, unless said clearly more."""
    by_language: dict[str, list[Emerging]] = {}
    for item in found:
        by_language.setdefault(item.language, []).append(item)
    kept: list[Emerging] = []
    for items in by_language.values():
        for item in items:
            words = f" {item.phrase} "
            held = any(
                other is not item
                and len(other.phrase) > len(item.phrase)
                and words in f" {other.phrase} "
                and item.comments < _ON_ITS_OWN * other.comments
                for other in items
            )
            if not held:
                kept.append(item)
    return kept
