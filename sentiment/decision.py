"""The dissatisfaction decision: score band and the reading of the comment to a severity."""

from __future__ import annotations

from enum import StrEnum
from functools import cache, lru_cache
from typing import NamedTuple

from app.core import explain
from app.core.events import (
    CES_HIGH_EFFORT_FROM,
    SCORE_RANGES,
    Reason,
    ReasonKind,
    ScoreKind,
    Severity,
)
from app.core.i18n import N_, phrase
from sentiment.reading import Reading

# Score bands. Not measured (no labelled scores here): they follow each method's definition.
# NPS: 0-6 detractors, 7-8 passives, 9-10 promoters; 0-3 is the bottom of the detractors.
NPS_VERY_LOW_UP_TO = 3
NPS_DETRACTOR_UP_TO = 6
NPS_PASSIVE_UP_TO = 8
# CSAT is reported as % of 4-5, so 3 is the neutral middle and 1-2 are dissatisfied.
CSAT_VERY_LOW_UP_TO = 1
CSAT_DISSATISFIED_UP_TO = 2
CSAT_NEUTRAL_UP_TO = 3
# CES runs the other way (7 = very hard). 4 is the scale's middle; high effort is a kernel constant.
CES_NEUTRAL_FROM = 4
CES_VERY_HIGH_EFFORT_FROM = 7


class Band(StrEnum):
    """Where a score sits on its scale, worst first."""

    VERY_POOR = "very_poor"
    POOR = "poor"
    NEUTRAL = "neutral"
    GOOD = "good"


_NPS_MIN, _NPS_MAX = SCORE_RANGES[ScoreKind.NPS]
_CSAT_MIN, _CSAT_MAX = SCORE_RANGES[ScoreKind.CSAT]
_CES_MIN, _CES_MAX = SCORE_RANGES[ScoreKind.CES]

# Inclusive score ranges, like SCORE_RANGES.
SCORE_BANDS: dict[ScoreKind, dict[Band, tuple[int, int]]] = {
    ScoreKind.NPS: {
        Band.VERY_POOR: (_NPS_MIN, NPS_VERY_LOW_UP_TO),
        Band.POOR: (NPS_VERY_LOW_UP_TO + 1, NPS_DETRACTOR_UP_TO),
        Band.NEUTRAL: (NPS_DETRACTOR_UP_TO + 1, NPS_PASSIVE_UP_TO),
        Band.GOOD: (NPS_PASSIVE_UP_TO + 1, _NPS_MAX),
    },
    ScoreKind.CSAT: {
        Band.VERY_POOR: (_CSAT_MIN, CSAT_VERY_LOW_UP_TO),
        Band.POOR: (CSAT_VERY_LOW_UP_TO + 1, CSAT_DISSATISFIED_UP_TO),
        Band.NEUTRAL: (CSAT_DISSATISFIED_UP_TO + 1, CSAT_NEUTRAL_UP_TO),
        Band.GOOD: (CSAT_NEUTRAL_UP_TO + 1, _CSAT_MAX),
    },
    ScoreKind.CES: {
        Band.VERY_POOR: (CES_VERY_HIGH_EFFORT_FROM, _CES_MAX),
        Band.POOR: (CES_HIGH_EFFORT_FROM, CES_VERY_HIGH_EFFORT_FROM - 1),
        Band.NEUTRAL: (CES_NEUTRAL_FROM, CES_HIGH_EFFORT_FROM - 1),
        Band.GOOD: (_CES_MIN, CES_NEUTRAL_FROM - 1),
    },
}

# The whole rule: the score band sets the severity and a negative comment raises it one
# level. A good score stays NONE whatever the words: nothing here measures that such comments
# are complaints rather than sarcasm, quotes or "no problems at all".
SEVERITY: dict[tuple[Band, bool], Severity] = {
    (Band.VERY_POOR, False): Severity.MEDIUM,
    (Band.VERY_POOR, True): Severity.HIGH,
    (Band.POOR, False): Severity.LOW,
    (Band.POOR, True): Severity.MEDIUM,
    (Band.NEUTRAL, False): Severity.NONE,
    (Band.NEUTRAL, True): Severity.LOW,
    (Band.GOOD, False): Severity.NONE,
    (Band.GOOD, True): Severity.NONE,
}


# What a manager reads for a band; CES runs the other way, so its bands speak of effort.
_BAND_WORDS: dict[ScoreKind, dict[Band, str]] = {
    ScoreKind.NPS: {Band.VERY_POOR: N_("very poor"), Band.POOR: N_("detractor")},
    ScoreKind.CSAT: {Band.VERY_POOR: N_("very dissatisfied"), Band.POOR: N_("dissatisfied")},
    ScoreKind.CES: {Band.VERY_POOR: N_("very high effort"), Band.POOR: N_("high effort")},
}


class Decision(NamedTuple):
    dissatisfied: bool
    severity: Severity
    reasons: tuple[Reason, ...] = ()


def band_of(kind: ScoreKind, score: int) -> Band:
    """The band of a score; ValueError outside the kind's range."""
    for band, (low, high) in SCORE_BANDS[kind].items():
        if low <= score <= high:
            return band
    low, high = SCORE_RANGES[kind]
    raise ValueError(f"score {score} is outside the {kind.value} range {low}-{high}")


def decide(kind: ScoreKind | None, score: int | None, reading: Reading | None) -> Decision:
    """Dissatisfied means someone should call back; severity says how urgently; reasons say why.

    Without a score (`voc score` on a comment alone) the text decides: a negative comment is
    LOW, as it is beside a passive score.
    """
    negative = reading is not None and reading.negative
    reasons: list[Reason] = []
    if kind is None or score is None:
        severity = Severity.LOW if negative else Severity.NONE
    else:
        band = band_of(kind, score)
        severity = SEVERITY[band, negative]
        if band in _BAND_WORDS[kind]:
            reasons.append(_score_reason(kind, score))
    if reading is not None:
        reasons.extend(_text_reasons(reading))
    return Decision(
        dissatisfied=severity is not Severity.NONE, severity=severity, reasons=tuple(reasons)
    )


# Each reason is worded twice: `label` in English (what the API always said) and `words`, a
# phrase each reader gets in their own language. The scorer reads ~20,000 comments/s: the few
# reasons a score, a probability or a language can give are built once and shared (frozen).


@cache
def _score_reason(kind: ScoreKind, score: int) -> Reason:
    band = band_of(kind, score)
    words = _BAND_WORDS[kind][band]
    low, high = SCORE_BANDS[kind][band]
    span = f"{low}" if low == high else f"{low}\u2013{high}"
    name = kind.value.upper()
    said = phrase(
        "{kind} {score}: {band} ({span})", kind=name, score=score, band=phrase(words), span=span
    )
    label = f"{name} {score}: {words} ({span})"
    return Reason(kind=ReasonKind.SCORE, label=label, words=said.wire())


# Keyed by what the comment was read as, or what the survey declared: any text, so bounded.
@lru_cache(maxsize=256)
def _unread_reason(language: str | None) -> Reason:
    if language:
        label = f"comment in {language}: not assessed"
        said = phrase("comment in {language}: not assessed", language=language)
    else:
        label = "comment in an unknown language: not assessed"
        said = phrase("comment in an unknown language: not assessed")
    return Reason(kind=ReasonKind.LANGUAGE, label=label, words=said.wire())


@cache
def _negative_reason(percent: int | None) -> Reason:
    """`percent`: the probability in whole percent as the label shows it, 100 for over 99 %."""
    if percent is None:
        label, words = "negative comment", phrase("negative comment").wire()
    elif percent > 99:
        # A model is never certain: 0.998 is "over 99%", not "100%".
        label, words = "negative comment (over 99%)", explain.negative_comment(1.0).wire()
    else:
        label = f"negative comment ({percent}%)"
        words = explain.negative_comment(percent / 100).wire()
    return Reason(kind=ReasonKind.TEXT, label=label, words=words)


def _text_reasons(reading: Reading) -> list[Reason]:
    if not reading.assessed:
        return [_unread_reason(reading.language)]
    reasons: list[Reason] = []
    if reading.negative:
        p = reading.negative_probability
        percent: int | None = None
        if p is not None:
            # Rounded as the label has always written it.
            percent = 100 if p > 0.99 else int(f"{p:.0%}".rstrip("%"))
        reasons.append(_negative_reason(percent))
    reasons.extend(Reason(kind=ReasonKind.PHRASE, label=said) for said in reading.phrases)
    return reasons
