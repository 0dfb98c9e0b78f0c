"""The dissatisfaction decision: score band and comment polarity to a severity."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from app.core.events import CES_HIGH_EFFORT_FROM, SCORE_RANGES, ScoreKind, Severity

# Polarity strictly below this is a clearly negative comment. Tuned on the UCI sentences as the
# cut with the best negative-class F1 whose precision stays >= 0.85 (a text-only flag puts a
# passive customer on a manager's callback list, so it should be right): from -0.20 up to 0.0
# every step gains recall for little precision (pooled F1 0.48 -> 0.62, precision 0.94 -> 0.89),
# the same in each of the three sets; counting polarity 0.0 too (no lexicon word at all) drops
# precision to 0.77-0.82. Held-out airline tweets: precision 0.88 here. See docs/sentiment.md.
NEGATIVE_TEXT_BELOW = 0.0

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

# The whole rule: the score band sets the severity and a clearly negative comment raises it one
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


class Decision(NamedTuple):
    dissatisfied: bool
    severity: Severity


def band_of(kind: ScoreKind, score: int) -> Band:
    """The band of a score; ValueError outside the kind's range."""
    for band, (low, high) in SCORE_BANDS[kind].items():
        if low <= score <= high:
            return band
    low, high = SCORE_RANGES[kind]
    raise ValueError(f"score {score} is outside the {kind.value} range {low}-{high}")


def is_negative_text(polarity: float | None) -> bool:
    return polarity is not None and polarity < NEGATIVE_TEXT_BELOW


def decide(kind: ScoreKind, score: int, polarity: float | None) -> Decision:
    """Dissatisfied means someone should call back; severity says how urgently."""
    severity = SEVERITY[band_of(kind, score), is_negative_text(polarity)]
    return Decision(dissatisfied=severity is not Severity.NONE, severity=severity)
