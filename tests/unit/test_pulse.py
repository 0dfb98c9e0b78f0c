"""Pulse: the questionnaire file and its errors, eNPS and COS arithmetic, additive counts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.pulse import (
    AnswerError,
    PulseCounts,
    Questionnaire,
    QuestionnaireError,
    figures,
    parse,
    worded,
)

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "app" / "pulse.yaml"

DOCUMENT: dict[str, Any] = {
    "version": 2,
    "enps": {"en": "Recommend us as a place to work?", "fr": "Nous recommanderiez-vous ?"},
    "scale": {"min": 1, "max": 5, "labels": {"en": ["1", "2", "3", "4", "5"]}},
    "levers": [
        {
            "id": "impulse",
            "name": {"en": "Impulse"},
            "statements": [
                {"id": "example", "text": {"en": "Managers set an example."}},
                {"id": "indicators", "text": {"en": "Indicators get in the way."}, "reverse": True},
            ],
        },
        {
            "id": "autonomy",
            "name": {"en": "Autonomy", "it": "Autonomia"},
            "statements": [{"id": "free", "text": {"en": "I am free to act.", "fr": "Libre."}}],
        },
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """DOCUMENT with the field at a dotted path replaced (or removed for `...`)."""
    document = copy.deepcopy(DOCUMENT)
    *parents, last = path.split(".")
    node: Any = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


QUESTIONNAIRE = parse(DOCUMENT)
_NEW_LEVER = {"id": "new", "name": {"en": "New"}, "statements": [{"id": "s", "text": {"en": "S"}}]}


def test_the_shipped_questionnaire_has_three_levers_of_three_statements_in_three_languages() -> (
    None
):
    questionnaire = parse(yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8")))
    assert [lever.id for lever in questionnaire.levers] == ["impulse", "connection", "autonomy"]
    assert all(len(lever.statements) == 3 for lever in questionnaire.levers)
    wordings = [questionnaire.enps]
    for lever in questionnaire.levers:
        wordings += [lever.name, *(s.text for s in lever.statements)]
    assert all(set(w) == {"en", "fr", "it"} for w in wordings)
    assert set(questionnaire.scale_labels) == {"en", "fr", "it"}
    assert any(s.reverse for _, s in questionnaire.statements().values())


def test_a_questionnaire_keeps_its_version_wordings_and_reversed_items() -> None:
    assert QUESTIONNAIRE.version == 2
    assert worded(QUESTIONNAIRE.enps, "fr") == "Nous recommanderiez-vous ?"
    assert worded(QUESTIONNAIRE.levers[0].name, "it") == "Impulse"  # English stands in
    assert [s.reverse for s in QUESTIONNAIRE.levers[0].statements] == [False, True]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("version", ..., "version:"),
        ("version", True, "version:"),
        ("enps.en", ..., "enps: a wording per language, at least 'en'"),
        ("enps.fr", "  ", "enps.fr: a text"),
        ("scale.max", 7, "scale.max: 5"),
        ("scale.min", 0, "scale.min: 1"),
        ("scale.labels.en", ["a", "b"], "scale.labels.en: 5 labels"),
        ("levers", [], "levers: a list of levers"),
        ("levers.1.id", "Autonomy", "levers.1.id: lowercase"),
        ("levers.1.id", "impulse", "levers.1.id: 'impulse' is given twice"),
        ("levers.0.name", {"fr": "Impulsion"}, "levers.0.name: a wording per language"),
        ("levers.0.statements", [], "levers.0.statements: a list"),
        ("levers.0.statements.1.text.en", ..., "levers.0.statements.1.text: a wording"),
        ("levers.1.statements.0.text.fr", 3, "levers.1.statements.0.text.fr: a text"),
        ("levers.1.statements.0.text.french", "x", "levers.1.statements.0.text.french: a two"),
        ("levers.0.statements.1.reverse", "yes", "levers.0.statements.1.reverse: true or false"),
        ("levers.1.statements.0.id", "example", "levers.1.statements.0.id: 'example' is given"),
    ],
)
def test_a_bad_questionnaire_is_refused_naming_the_field(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(QuestionnaireError) as error:
        parse(_with(path, value))
    assert str(error.value).startswith(message)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(QuestionnaireError, match="a mapping"):
        parse(["levers"])


def _counts(questionnaire: Questionnaire, *answers: tuple[int, dict[str, int]]) -> PulseCounts:
    counts = PulseCounts()
    for enps, ratings in answers:
        counts.record(questionnaire, enps, ratings)
    return counts


def test_enps_uses_the_nps_bounds_and_rounding() -> None:
    ratings = {"example": 3, "indicators": 3, "free": 3}
    counts = _counts(QUESTIONNAIRE, *((score, ratings) for score in (10, 9, 8, 7, 6, 0)))
    result = figures(counts, QUESTIONNAIRE)
    assert (result.promoters, result.passives, result.detractors) == (2, 2, 2)
    assert result.enps == 0.0
    counts.record(QUESTIONNAIRE, 9, ratings)
    assert figures(counts, QUESTIONNAIRE).enps == round(100 * (3 - 2) / 7, 1) == 14.3


def test_cos_flips_reversed_items_and_maps_the_mean_to_0_100() -> None:
    # Agreeing fully with everything: the reversed "indicators get in the way" counts 1.
    counts = _counts(QUESTIONNAIRE, (8, {"example": 5, "indicators": 5, "free": 5}))
    levers = {f.lever: f for f in figures(counts, QUESTIONNAIRE).levers}
    assert levers["impulse"].cos == 50.0  # mean (5 + 1) / 2 = 3
    assert levers["autonomy"].cos == 100.0
    counts.record(QUESTIONNAIRE, 8, {"example": 2, "indicators": 1, "free": 1})
    result = figures(counts, QUESTIONNAIRE)
    levers = {f.lever: f for f in result.levers}
    # impulse: 5, 1, 2, 5 -> mean 3.25 -> 56.25; autonomy: 5, 1 -> mean 3 -> 50.
    assert (levers["impulse"].cos, levers["impulse"].answers) == (56.2, 4)
    assert (levers["autonomy"].cos, levers["autonomy"].answers) == (50.0, 2)
    # The mean of the unrounded levers, each weighing the same: (56.25 + 50) / 2.
    assert result.cos == 53.1
    assert result.answers == 2


def test_no_answers_gives_no_figures_and_zero_counts() -> None:
    result = figures(PulseCounts(), QUESTIONNAIRE)
    assert (result.answers, result.enps, result.cos) == (0, None, None)
    assert [(f.cos, f.answers) for f in result.levers] == [(None, 0), (None, 0)]


def test_the_overall_cos_needs_every_lever_of_the_questionnaire() -> None:
    counts = _counts(QUESTIONNAIRE, (8, {"example": 5, "indicators": 1, "free": 5}))
    extended = parse({**DOCUMENT, "levers": [*DOCUMENT["levers"], _NEW_LEVER]})
    assert figures(counts, QUESTIONNAIRE).cos == 100.0
    assert figures(counts, extended).cos is None


@pytest.mark.parametrize(
    ("enps", "ratings", "message"),
    [
        (11, {"example": 3, "indicators": 3, "free": 3}, "enps:"),
        (True, {"example": 3, "indicators": 3, "free": 3}, "enps:"),
        (5, {"example": 3, "indicators": 3}, "ratings.free: every statement is rated"),
        (5, {"example": 3, "indicators": 0, "free": 3}, "ratings.indicators: a whole number"),
        (5, {"example": 3, "indicators": 3, "free": 3, "x": 3}, "ratings: no statement 'x'"),
    ],
)
def test_an_answer_that_does_not_fit_is_refused_and_not_counted(
    enps: int, ratings: dict[str, int], message: str
) -> None:
    counts = PulseCounts()
    with pytest.raises(AnswerError) as error:
        counts.record(QUESTIONNAIRE, enps, ratings)
    assert str(error.value).startswith(message)
    assert counts == PulseCounts()


def test_merged_counts_give_the_figures_of_all_their_answers() -> None:
    answers = [
        (10, {"example": 5, "indicators": 2, "free": 4}),
        (3, {"example": 1, "indicators": 5, "free": 2}),
        (7, {"example": 4, "indicators": 3, "free": 3}),
        (9, {"example": 2, "indicators": 1, "free": 5}),
    ]
    team_a, team_b = _counts(QUESTIONNAIRE, *answers[:1]), _counts(QUESTIONNAIRE, *answers[1:])
    merged = PulseCounts()
    merged.merge(team_a)
    merged.merge(team_b)
    assert merged == _counts(QUESTIONNAIRE, *answers)
    assert figures(merged, QUESTIONNAIRE) == figures(
        _counts(QUESTIONNAIRE, *answers), QUESTIONNAIRE
    )
    assert team_a.answers == 1  # merging into another leaves the source as it was
