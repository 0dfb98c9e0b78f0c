"""Tests of the sentiment stage: polarity, decision table, scorer, and quality on labelled text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textblob import TextBlob

from app.core.events import (
    SCORE_RANGES,
    Assessment,
    Channel,
    CustomerType,
    ScoreKind,
    Severity,
    SurveyResponse,
)
from app.core.ports import Scorer
from sentiment import TextBlobScorer, comment_polarity, decide
from sentiment.decision import NEGATIVE_TEXT_BELOW, SCORE_BANDS, Band, band_of, is_negative_text
from sentiment.evaluation import (
    UCI_FILES,
    Labelled,
    negative_class_metrics,
    read_uci,
)
from tests.harness import missing_service

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

ANGRY = "The technician was rude and the installation was a terrible mess."
ANGRY_COMMENTS = [
    ANGRY,
    "Awful service, I waited two hours and nobody helped.",
    "I am very disappointed with the support.",
    "The delivery was late and the box was damaged.",
    "Not good at all.",
]
PRAISE = "Great staff, quick delivery, thank you!"
PRAISE_COMMENTS = [PRAISE, "Nothing bad to say, everything was perfect.", "Not bad."]
# The kind of complaint the lexicon cannot see: no sentiment word at all.
PLAIN_COMPLAINTS = ["Still waiting for the engineer.", "Third time I call about the same invoice."]

NEGATIVE = -0.5
POSITIVE = 0.5


def response(
    kind: ScoreKind, score: int, comment: str | None = None, language: str | None = None
) -> SurveyResponse:
    return SurveyResponse(
        language=language,
        response_id="r-1",
        survey_id="s-1",
        submitted_at=datetime(2025, 1, 6, 9, 30, tzinfo=UTC),
        score=score,
        score_kind=kind,
        comment=comment,
        channel=Channel.WEB,
        touchpoint="delivery",
        org_unit="store-12",
        customer_type=CustomerType.PERSON,
    )


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return TextBlobScorer()


@pytest.mark.parametrize("comment", [None, "", "   \n"])
def test_blank_comment_has_no_polarity(comment: str | None) -> None:
    assert comment_polarity(comment) is None


@pytest.mark.parametrize("comment", ANGRY_COMMENTS)
def test_angry_comment_is_negative_text(comment: str) -> None:
    assert is_negative_text(comment_polarity(comment))


@pytest.mark.parametrize("comment", PRAISE_COMMENTS)
def test_praise_is_not_negative_text(comment: str) -> None:
    assert not is_negative_text(comment_polarity(comment))


@pytest.mark.parametrize("comment", PLAIN_COMPLAINTS)
def test_complaint_without_sentiment_words_is_neutral_text(comment: str) -> None:
    assert comment_polarity(comment) == 0.0
    assert not is_negative_text(0.0)


@pytest.mark.parametrize("comment", [ANGRY, PRAISE, PLAIN_COMPLAINTS[0]])
def test_polarity_is_textblobs(comment: str) -> None:
    assert comment_polarity(comment) == TextBlob(comment).sentiment.polarity


def test_scoring_needs_no_nltk_corpus_or_download(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the sentiment stage tried to download NLTK data")

    monkeypatch.setattr("nltk.download", no_download)
    # With no search path every NLTK corpus or tokenizer lookup fails, as on a fresh host.
    monkeypatch.setattr("nltk.data.path", [])
    assessment = TextBlobScorer().assess(response(ScoreKind.NPS, 2, ANGRY))
    assert assessment.severity is Severity.HIGH


def test_text_threshold_separates_negative_from_zero() -> None:
    assert is_negative_text(NEGATIVE_TEXT_BELOW - 0.01)
    assert not is_negative_text(NEGATIVE_TEXT_BELOW)
    assert not is_negative_text(None)


@pytest.mark.parametrize("kind", list(ScoreKind))
def test_score_bands_cover_each_scale_exactly_once(kind: ScoreKind) -> None:
    low, high = SCORE_RANGES[kind]
    for score in range(low, high + 1):
        holders = [b for b, (lo, hi) in SCORE_BANDS[kind].items() if lo <= score <= hi]
        assert len(holders) == 1, f"{kind} {score} is in bands {holders}"


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (ScoreKind.NPS, -1),
        (ScoreKind.NPS, 11),
        (ScoreKind.CSAT, 0),
        (ScoreKind.CSAT, 6),
        (ScoreKind.CES, 0),
        (ScoreKind.CES, 8),
    ],
)
def test_score_outside_its_scale_is_rejected(kind: ScoreKind, score: int) -> None:
    with pytest.raises(ValueError, match=f"outside the {kind.value} range"):
        decide(kind, score, None)


# (kind, score, band, severity without comment, severity with a clearly negative comment)
DECISION_TABLE = [
    (ScoreKind.NPS, 0, Band.VERY_POOR, Severity.MEDIUM, Severity.HIGH),
    (ScoreKind.NPS, 3, Band.VERY_POOR, Severity.MEDIUM, Severity.HIGH),
    (ScoreKind.NPS, 4, Band.POOR, Severity.LOW, Severity.MEDIUM),
    (ScoreKind.NPS, 6, Band.POOR, Severity.LOW, Severity.MEDIUM),
    (ScoreKind.NPS, 7, Band.NEUTRAL, Severity.NONE, Severity.LOW),
    (ScoreKind.NPS, 8, Band.NEUTRAL, Severity.NONE, Severity.LOW),
    (ScoreKind.NPS, 9, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.NPS, 10, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.CSAT, 1, Band.VERY_POOR, Severity.MEDIUM, Severity.HIGH),
    (ScoreKind.CSAT, 2, Band.POOR, Severity.LOW, Severity.MEDIUM),
    (ScoreKind.CSAT, 3, Band.NEUTRAL, Severity.NONE, Severity.LOW),
    (ScoreKind.CSAT, 4, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.CSAT, 5, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.CES, 1, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.CES, 3, Band.GOOD, Severity.NONE, Severity.NONE),
    (ScoreKind.CES, 4, Band.NEUTRAL, Severity.NONE, Severity.LOW),
    (ScoreKind.CES, 5, Band.NEUTRAL, Severity.NONE, Severity.LOW),
    (ScoreKind.CES, 6, Band.POOR, Severity.LOW, Severity.MEDIUM),
    (ScoreKind.CES, 7, Band.VERY_POOR, Severity.MEDIUM, Severity.HIGH),
]


@pytest.mark.parametrize(("kind", "score", "band", "plain", "negative"), DECISION_TABLE)
def test_decision_table_at_band_boundaries(
    kind: ScoreKind, score: int, band: Band, plain: Severity, negative: Severity
) -> None:
    assert band_of(kind, score) is band
    for polarity in (None, 0.0, POSITIVE):
        assert decide(kind, score, polarity) == (plain is not Severity.NONE, plain)
    assert decide(kind, score, NEGATIVE) == (negative is not Severity.NONE, negative)


def test_detractor_is_dissatisfied_from_the_score_alone(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 6))
    assert assessment == Assessment(polarity=None, dissatisfied=True, severity=Severity.LOW)


def test_detractor_with_angry_comment_is_more_severe_than_detractor_alone(scorer: Scorer) -> None:
    alone = scorer.assess(response(ScoreKind.NPS, 5, PLAIN_COMPLAINTS[0]))
    angry = scorer.assess(response(ScoreKind.NPS, 5, ANGRY))
    assert (alone.severity, angry.severity) == (Severity.LOW, Severity.MEDIUM)


def test_very_low_detractor_with_angry_comment_is_high_severity(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 1, ANGRY))
    assert assessment.dissatisfied
    assert assessment.severity is Severity.HIGH


def test_passive_with_angry_comment_is_dissatisfied_at_low(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 8, ANGRY))
    assert (assessment.dissatisfied, assessment.severity) == (True, Severity.LOW)


def test_passive_with_plain_complaint_is_not_flagged(scorer: Scorer) -> None:
    # Known limit of the lexicon: no sentiment word, so only the score speaks.
    assessment = scorer.assess(response(ScoreKind.NPS, 7, PLAIN_COMPLAINTS[1]))
    assert not assessment.dissatisfied


def test_promoter_with_negative_words_is_not_dissatisfied(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 10, ANGRY))
    assert assessment.polarity is not None and assessment.polarity < 0
    assert (assessment.dissatisfied, assessment.severity) == (False, Severity.NONE)


def test_praise_does_not_soften_a_very_low_csat(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.CSAT, 1, PRAISE))
    assert (assessment.dissatisfied, assessment.severity) == (True, Severity.MEDIUM)


def test_high_effort_ces_with_angry_comment_is_medium(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.CES, 6, "The app is slow and confusing."))
    assert (assessment.dissatisfied, assessment.severity) == (True, Severity.MEDIUM)


def test_assessment_carries_the_comment_polarity(scorer: Scorer) -> None:
    assessment = scorer.assess(response(ScoreKind.CSAT, 4, PRAISE))
    assert assessment.polarity == comment_polarity(PRAISE)
    assert assessment.polarity is not None and assessment.polarity > 0


def test_negative_class_metrics_count_the_negative_class() -> None:
    flagged = [True, True, False, False, True]
    negative = [True, False, True, False, True]
    metrics = negative_class_metrics(flagged, negative)
    assert (metrics.precision, metrics.recall) == pytest.approx((2 / 3, 2 / 3))
    assert metrics.f1 == pytest.approx(2 / 3)


def test_uci_reader_takes_the_label_after_the_last_tab(tmp_path: Path) -> None:
    path = tmp_path / "uci.txt"
    path.write_text("Crust is not good.\t0\nWow...\tLoved this place.\t1\n\n", encoding="utf-8")
    assert read_uci(path) == [
        Labelled(text="Crust is not good.", negative=True),
        Labelled(text="Wow...\tLoved this place.", negative=False),
    ]
    path.write_text("no label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"uci\.txt:1"):
        read_uci(path)


# Floors a little under what bench/sentiment_quality.py measures (F1 0.567 / 0.593 / 0.687,
# precision 0.927 / 0.892 / 0.873); precision 0.85 is the bar NEGATIVE_TEXT_BELOW was tuned to.
QUALITY_FLOORS = {"uci amazon": 0.55, "uci yelp": 0.57, "uci imdb": 0.66}
PRECISION_FLOOR = 0.85


@pytest.mark.parametrize("name", list(UCI_FILES))
def test_passive_flag_on_labelled_sentences_meets_quality_floor(scorer: Scorer, name: str) -> None:
    path = DATA / UCI_FILES[name]
    if not path.exists():
        missing_service(f"labelled data {path} is missing (see ../shared/data/README.md)")
    rows = read_uci(path)
    # A passive score leaves the decision to the comment, so the flag measures the text path.
    flagged = [scorer.assess(response(ScoreKind.NPS, 7, row.text)).dissatisfied for row in rows]
    metrics = negative_class_metrics(flagged, [row.negative for row in rows])
    assert metrics.f1 >= QUALITY_FLOORS[name], metrics
    assert metrics.precision >= PRECISION_FLOOR, metrics


def test_comment_in_a_language_the_lexicon_does_not_read_is_not_scored(scorer: Scorer) -> None:
    french = scorer.assess(
        response(ScoreKind.NPS, 8, "Service horrible, personne ne rappelle.", "fr")
    )
    english = scorer.assess(response(ScoreKind.NPS, 8, ANGRY, "en-GB"))
    assert french.polarity is None and not french.dissatisfied
    assert english.polarity is not None and english.dissatisfied


def test_non_english_detractor_is_still_flagged_from_the_score(scorer: Scorer) -> None:
    assert scorer.assess(response(ScoreKind.NPS, 2, "Nessuno mi ha richiamato.", "it")).dissatisfied
