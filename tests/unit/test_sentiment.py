"""The sentiment stage: reading comments (language, model, phrases), the decision, its reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.texts import from_wire
from app.core.events import (
    SCORE_RANGES,
    Assessment,
    Channel,
    CustomerType,
    Reason,
    ReasonKind,
    ScoreKind,
    Severity,
    SurveyResponse,
)
from app.core.i18n import Phrase, texts
from app.core.settings import Settings
from sentiment import CommentReader, CommentScorer, decide
from sentiment.decision import SCORE_BANDS, Band, band_of
from sentiment.evaluation import (
    ENGLISH_FILES,
    FRENCH_FILES,
    ITALIAN_FILES,
    Labelled,
    measure,
    read_project,
    read_uci,
    roc_auc,
)
from sentiment.language import detect, primary
from sentiment.lines import score_lines
from sentiment.reading import Reading

ANGRY = "The technician was rude and the installation was a terrible mess."
ANGRY_COMMENTS = [
    ANGRY,
    "Awful service, I waited two hours and nobody helped.",
    "I am very disappointed with the support.",
    "The delivery was late and the box was damaged.",
    "Not good at all.",
]
PRAISE = "Great staff, quick delivery, thank you!"
PRAISE_COMMENTS = [
    PRAISE,
    "Nothing bad to say, everything was perfect.",
    "The engineer was friendly and fixed it in twenty minutes.",
]
# Complaints without a single sentiment word: what the TextBlob lexicon alone could not see.
PLAIN_COMPLAINTS = [
    "Still waiting for the engineer.",
    "Lack of communication with your employees.",
    "Charged twice for the same order and no answer to my emails.",
]
FRENCH_COMPLAINTS = [
    "Toujours en attente du technicien depuis mardi.",
    "Service horrible, personne ne rappelle jamais.",
]
FRENCH_PRAISE = ["Conseiller très aimable, problème réglé en dix minutes, merci !"]
ITALIAN_COMPLAINTS = [
    "Ancora in attesa del tecnico da martedì, nessuno si è fatto vivo.",
    "Tre chiamate al servizio clienti e nessuno mi ha mai richiamato.",
    "Addebitato due volte lo stesso ordine, il rimborso non è ancora arrivato.",
]
ITALIAN_PRAISE = [
    "Operatrice gentilissima, problema risolto in dieci minuti, grazie!",
    "Niente da dire, consegna veloce e tutto perfetto.",
]


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
def scorer() -> CommentScorer:
    return CommentScorer(Settings().sentiment_negative_from)


@pytest.fixture(scope="module")
def reader(scorer: CommentScorer) -> CommentReader:
    return scorer.reader


# --- reading a comment ------------------------------------------------------------------


@pytest.mark.parametrize("comment", [None, "", "   \n"])
def test_blank_comment_is_not_read(reader: CommentReader, comment: str | None) -> None:
    assert reader.read(comment) is None


@pytest.mark.parametrize("comment", ANGRY_COMMENTS + PLAIN_COMPLAINTS)
def test_english_complaints_read_as_negative(reader: CommentReader, comment: str) -> None:
    reading = reader.read(comment)
    assert reading is not None and reading.language == "en"
    assert reading.negative, reading
    assert reading.sentiment is not None and reading.sentiment < 0


@pytest.mark.parametrize("comment", PRAISE_COMMENTS)
def test_english_praise_reads_as_not_negative(reader: CommentReader, comment: str) -> None:
    reading = reader.read(comment)
    assert reading is not None and not reading.negative, reading
    assert reading.sentiment is not None and reading.sentiment > 0


def test_the_clause_after_but_weighs_more(reader: CommentReader) -> None:
    turned_bad = reader.read("Good product but the delivery was a disaster.")
    turned_good = reader.read("The delivery was a disaster but the product is good.")
    assert turned_bad is not None and turned_good is not None
    assert turned_bad.negative
    assert turned_bad.negative_probability is not None
    assert turned_good.negative_probability is not None
    assert turned_bad.negative_probability > turned_good.negative_probability


def test_complaint_phrases_are_reported(reader: CommentReader) -> None:
    reading = reader.read(PLAIN_COMPLAINTS[2])
    assert reading is not None
    assert {"charged twice", "no answer"} <= set(reading.phrases)


@pytest.mark.parametrize(
    ("language", "comment"),
    [("fr", c) for c in FRENCH_COMPLAINTS] + [("it", c) for c in ITALIAN_COMPLAINTS],
)
def test_french_and_italian_complaints_read_as_negative(
    reader: CommentReader, language: str, comment: str
) -> None:
    reading = reader.read(comment)
    assert reading is not None and reading.language == language
    assert reading.negative, reading


@pytest.mark.parametrize(
    ("language", "comment"),
    [("fr", c) for c in FRENCH_PRAISE] + [("it", c) for c in ITALIAN_PRAISE],
)
def test_french_and_italian_praise_reads_as_not_negative(
    reader: CommentReader, language: str, comment: str
) -> None:
    reading = reader.read(comment)
    assert reading is not None and reading.language == language
    assert not reading.negative, reading


def test_italian_complaint_phrases_are_reported(reader: CommentReader) -> None:
    reading = reader.read(ITALIAN_COMPLAINTS[2])
    assert reading is not None
    assert {"addebitato due volte", "rimborso"} <= set(reading.phrases)


@pytest.mark.parametrize(
    ("comment", "language"),
    [
        ("Der Techniker kam nie, ich warte seit drei Tagen auf einen Rückruf.", "de"),
        ("El técnico nunca vino y nadie contesta el teléfono.", "es"),
        ("O técnico nunca veio e ninguém atende o telefone.", "pt"),
    ],
)
def test_other_languages_are_not_assessed_never_neutral(
    reader: CommentReader, comment: str, language: str
) -> None:
    reading = reader.read(comment)
    assert reading == Reading(language, None, None, negative=False)


def test_a_reliable_detection_beats_the_declared_language(reader: CommentReader) -> None:
    reading = reader.read("Still waiting for the engineer to come back.", "fr-FR")
    assert reading is not None and reading.language == "en"


@pytest.mark.parametrize(
    ("comment", "language"),
    [
        ("Nadie me ha llamado.", "es"),
        ("Le di cinco estrellas.", "es"),
        ("Nada que decir, todo perfecto.", "es"),
        ("El pedido llegó tarde y nadie responde.", "es"),
        ("Ninguém me ligou de volta.", "pt"),
        ("Não gostei do atendimento.", "pt"),
        ("O pedido chegou atrasado e ninguém responde.", "pt"),
        ("Niemand hat mich zurückgerufen.", "de"),
        ("Die Lieferung kam zu spät und niemand antwortet.", "de"),
        ("Nie wieder.", "de"),
    ],
)
def test_spanish_portuguese_and_german_are_never_read_as_italian(
    comment: str, language: str
) -> None:
    assert detect(comment) == language


@pytest.mark.parametrize(
    ("comment", "language"),
    [
        ("Warranty claim refused because I used non-approved detergent.", "en"),
        ("The pizza at Il Fornaio was cold.", "en"),
        ("Toujours en attente du technicien depuis mardi.", "fr"),
        ("Chat rapida, risposta chiara e problema risolto.", "it"),
        ("Il tecnico non si è presentato e non ha avvisato.", "it"),
        ("Personale dell'ambulatorio gentilissimo con mia madre anziana.", "it"),
    ],
)
def test_function_words_settle_what_cld2_would_call_english(comment: str, language: str) -> None:
    # CLD2 falls back to English on some short Italian comments; their function words say
    # Italian. A text with any English function word stays English.
    assert detect(comment) == language


def test_short_comments_fall_back_to_the_declared_language() -> None:
    # CLD2 will not commit on two words; the survey's language decides.
    assert detect("Jamais livré", "fr") == "fr"
    assert detect("Great!", None) == "en"
    assert detect("ok", None) is None


def test_language_tags_reduce_to_their_primary_subtag() -> None:
    assert [primary(t) for t in ("en-GB", "FR_ca", " de ", "", None)] == [
        "en",
        "fr",
        "de",
        None,
        None,
    ]


def test_control_characters_do_not_break_detection(reader: CommentReader) -> None:
    # The UCI files hold Windows-1252 dashes decoded as C1 controls; CLD2 refuses those raw.
    reading = reader.read("I'll even say it again \x96 this is torture.")
    assert reading is not None and reading.language == "en" and reading.negative


def test_reading_is_deterministic(reader: CommentReader) -> None:
    first = [reader.read(c) for c in PLAIN_COMPLAINTS + PRAISE_COMMENTS]
    assert first == [
        CommentReader(reader.negative_from).read(c) for c in PLAIN_COMPLAINTS + PRAISE_COMMENTS
    ]


def test_the_threshold_moves_the_flag(reader: CommentReader) -> None:
    reading = reader.read("The staff could have been a little more welcoming.")
    assert reading is not None and reading.negative_probability is not None
    p = reading.negative_probability
    below = CommentReader(min(p + 0.01, 0.99)).read(
        "The staff could have been a little more welcoming."
    )
    above = CommentReader(max(p - 0.01, 0.01)).read(
        "The staff could have been a little more welcoming."
    )
    assert below is not None and not below.negative
    assert above is not None and above.negative


def test_scoring_needs_no_nltk_corpus_or_download(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the sentiment stage tried to download NLTK data")

    monkeypatch.setattr("nltk.download", no_download)
    # With no search path every NLTK corpus or tokenizer lookup fails, as on a fresh host.
    monkeypatch.setattr("nltk.data.path", [])
    assessment = CommentScorer(0.5).assess(response(ScoreKind.NPS, 2, FRENCH_COMPLAINTS[0]))
    assert assessment.severity is Severity.HIGH


# --- the decision -----------------------------------------------------------------------

NEGATIVE = Reading("en", -0.8, 0.9, negative=True, phrases=("still waiting",))
NOT_NEGATIVE = Reading("en", 0.6, 0.2, negative=False)
NOT_ASSESSED = Reading("de", None, None, negative=False)


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


# (kind, score, band, severity without comment, severity with a negative comment)
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
    for reading in (None, NOT_NEGATIVE, NOT_ASSESSED):
        decision = decide(kind, score, reading)
        assert (decision.dissatisfied, decision.severity) == (plain is not Severity.NONE, plain)
    decision = decide(kind, score, NEGATIVE)
    assert (decision.dissatisfied, decision.severity) == (negative is not Severity.NONE, negative)


def test_reasons_name_the_band_the_text_and_the_phrases() -> None:
    decision = decide(ScoreKind.NPS, 2, NEGATIVE)
    assert [(r.kind, r.label) for r in decision.reasons] == [
        (ReasonKind.SCORE, "NPS 2: very poor (0\u20133)"),
        (ReasonKind.TEXT, "negative comment (90%)"),
        (ReasonKind.PHRASE, "still waiting"),
    ]


def test_a_near_certain_probability_never_reads_as_certain() -> None:
    sure = Reading("en", -0.999, 0.9995, negative=True)
    assert [r.label for r in decide(None, None, sure).reasons] == ["negative comment (over 99%)"]


def test_reasons_for_a_single_score_band_and_effort() -> None:
    assert [r.label for r in decide(ScoreKind.CES, 7, None).reasons] == [
        "CES 7: very high effort (7)"
    ]
    assert [r.label for r in decide(ScoreKind.CSAT, 2, None).reasons] == [
        "CSAT 2: dissatisfied (2)"
    ]


def test_a_comment_not_assessed_says_so() -> None:
    decision = decide(ScoreKind.NPS, 5, NOT_ASSESSED)
    assert [(r.kind, r.label) for r in decision.reasons][-1] == (
        ReasonKind.LANGUAGE,
        "comment in de: not assessed",
    )


def words(reason: Reason) -> Phrase:
    assert reason.words is not None
    said = from_wire(reason.words)
    assert said is not None
    return said


def test_each_reason_but_the_customers_words_has_a_phrase_worded_for_each_reader() -> None:
    unknown = Reading(None, None, None, negative=False)
    reasons = [
        *decide(ScoreKind.NPS, 2, NEGATIVE).reasons,
        *decide(ScoreKind.CES, 6, NOT_ASSESSED).reasons,
        *decide(None, None, unknown).reasons,
        *decide(None, None, Reading("en", -0.999, 0.9995, negative=True)).reasons,
        *decide(None, None, Reading("en", -0.5, None, negative=True)).reasons,
    ]
    said = {
        r.label: tuple(texts(language).say(words(r)) for language in ("en", "fr", "it"))
        for r in reasons
        if r.kind is not ReasonKind.PHRASE
    }
    assert said == {
        "NPS 2: very poor (0\u20133)": (
            "NPS 2: very poor (0\u20133)",
            "NPS 2 : tr\u00e8s mauvais (0\u20133)",
            "NPS 2: pessimo (0\u20133)",
        ),
        "negative comment (90%)": (
            "negative comment (90%)",
            "commentaire n\u00e9gatif (90\u00a0%)",
            "commento negativo (90%)",
        ),
        "CES 6: high effort (6)": (
            "CES 6: high effort (6)",
            "CES 6 : effort \u00e9lev\u00e9 (6)",
            "CES 6: sforzo elevato (6)",
        ),
        "comment in de: not assessed": (
            "comment in de: not assessed",
            "commentaire (de) : non \u00e9valu\u00e9",
            "commento (de): non valutato",
        ),
        "comment in an unknown language: not assessed": (
            "comment in an unknown language: not assessed",
            "commentaire en langue inconnue : non \u00e9valu\u00e9",
            "commento in lingua sconosciuta: non valutato",
        ),
        "negative comment (over 99%)": (
            "negative comment (over 99%)",
            "commentaire n\u00e9gatif (plus de 99\u00a0%)",
            "commento negativo (oltre 99%)",
        ),
        "negative comment": ("negative comment", "commentaire n\u00e9gatif", "commento negativo"),
    }
    # A matched phrase is the customer's own words: shown as written, in no one's language.
    assert [r.words for r in reasons if r.kind is ReasonKind.PHRASE] == [None]


def test_without_a_score_the_text_decides() -> None:
    assert decide(None, None, NEGATIVE)[:2] == (True, Severity.LOW)
    assert decide(None, None, NOT_NEGATIVE)[:2] == (False, Severity.NONE)
    assert decide(None, None, None)[:2] == (False, Severity.NONE)


# --- the scorer on whole responses ------------------------------------------------------


def test_detractor_is_dissatisfied_from_the_score_alone(scorer: CommentScorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 6))
    assert (assessment.polarity, assessment.dissatisfied, assessment.severity) == (
        None,
        True,
        Severity.LOW,
    )
    assert [r.kind for r in assessment.reasons] == [ReasonKind.SCORE]


def test_detractor_with_negative_comment_is_more_severe_than_either_alone(
    scorer: CommentScorer,
) -> None:
    alone = scorer.assess(response(ScoreKind.NPS, 5, "Delivered on the right day."))
    complaint = scorer.assess(response(ScoreKind.NPS, 5, PLAIN_COMPLAINTS[0]))
    text_only = scorer.assess(response(ScoreKind.NPS, 8, PLAIN_COMPLAINTS[0]))
    assert (alone.severity, complaint.severity, text_only.severity) == (
        Severity.LOW,
        Severity.MEDIUM,
        Severity.LOW,
    )


def test_a_flagged_response_carries_its_reasons(scorer: CommentScorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 1, PLAIN_COMPLAINTS[0]))
    assert assessment.severity is Severity.HIGH
    assert assessment.negative_comment
    assert assessment.comment_language == "en"
    kinds = [r.kind for r in assessment.reasons]
    assert kinds == [ReasonKind.SCORE, ReasonKind.TEXT, ReasonKind.PHRASE]
    p = assessment.negative_probability
    assert p is not None and f"({p:.0%})" in assessment.reasons[1].label


def test_promoter_with_negative_words_is_not_dissatisfied(scorer: CommentScorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 10, ANGRY))
    assert assessment.negative_comment
    assert (assessment.dissatisfied, assessment.severity) == (False, Severity.NONE)


def test_praise_does_not_soften_a_very_low_csat(scorer: CommentScorer) -> None:
    assessment = scorer.assess(response(ScoreKind.CSAT, 1, PRAISE))
    assert (assessment.dissatisfied, assessment.severity) == (True, Severity.MEDIUM)


def test_unread_language_detractor_is_still_flagged_from_the_score(
    scorer: CommentScorer,
) -> None:
    comment = "Nadie me ha devuelto la llamada, una vergüenza."
    assessment = scorer.assess(response(ScoreKind.NPS, 2, comment))
    assert assessment.dissatisfied and assessment.polarity is None
    assert assessment.comment_language == "es"


def test_the_assessment_round_trips_as_json(scorer: CommentScorer) -> None:
    assessment = scorer.assess(response(ScoreKind.NPS, 3, FRENCH_COMPLAINTS[0]))
    assert Assessment.model_validate_json(assessment.model_dump_json()) == assessment


# --- voc score's lines ------------------------------------------------------------------


def test_score_lines_answers_every_line_in_order(reader: CommentReader) -> None:
    lines = [
        json.dumps({"id": 1, "comment": PLAIN_COMPLAINTS[0], "score": 3, "score_kind": "nps"}),
        "",
        "not json",
        json.dumps({"comment": PRAISE}),
        json.dumps({"score": 3}),
        json.dumps({"score": 12, "score_kind": "nps"}),
        json.dumps({"comment": "Ich warte seit Tagen auf den Techniker.", "id": "x"}),
    ]
    out = [json.loads(line) for line in score_lines(lines, reader)]
    assert len(out) == 6
    assert out[0]["id"] == 1 and out[0]["severity"] == "high" and out[0]["language"] == "en"
    assert out[0]["reasons"][0] == {"kind": "score", "label": "NPS 3: very poor (0\u20133)"}
    assert out[1]["line"] == 3 and "Invalid JSON" in out[1]["error"]
    assert out[2]["dissatisfied"] is False and out[2]["sentiment"] > 0 and "id" not in out[2]
    assert out[3] == {
        "line": 5,
        "error": "line: Value error, score needs score_kind (nps, csat or ces)",
    }
    assert out[4]["line"] == 6 and "outside the nps range 0-10" in out[4]["error"]
    assert out[5] == {
        "id": "x",
        "language": "de",
        "sentiment": None,
        "negative_probability": None,
        "dissatisfied": False,
        "severity": "none",
        "reasons": [{"kind": "language", "label": "comment in de: not assessed"}],
    }


# --- measures and readers ---------------------------------------------------------------


def test_measures_count_the_negative_class() -> None:
    m = measure([True, True, False, False, True], [True, False, True, False, True])
    assert (m.precision, m.recall, m.f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert m.accuracy == pytest.approx(3 / 5)
    # Not negative: precision 1/2, recall 1/2, F1 1/2; macro is the mean of both classes.
    assert m.macro_f1 == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.9], [True, False]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5


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


@pytest.mark.parametrize("path", FRENCH_FILES + ITALIAN_FILES, ids=lambda p: p.name)
def test_the_french_and_italian_sets_are_labelled_both_ways(path: Path) -> None:
    rows = read_project(path)
    assert len(rows) >= 300
    assert 0.3 < sum(r.negative for r in rows) / len(rows) < 0.7


def test_the_italian_sets_hold_no_duplicate_and_translate_distinct_uci_lines() -> None:
    lines = [
        line.split("\t")
        for path in ITALIAN_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    texts = [text for text, _, _ in lines]
    assert len(texts) == len(set(texts)) == 1998
    others = {
        line.split("\t")[0]
        for path in ENGLISH_FILES + FRENCH_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    assert not others & set(texts)
    translated = [origin for _, _, origin in lines if origin.startswith("uci_")]
    assert len(translated) == len(set(translated)) == 200
    # Lines = 7 (mod 15): none of the French set's multiples of 15 (and its 5 and 20).
    assert all(int(origin.rsplit(":", 1)[1]) % 15 == 7 for origin in translated)
