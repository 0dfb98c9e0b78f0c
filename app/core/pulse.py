"""The employee Pulse: the questionnaire (eNPS and the Customer Orientation Score), its parser,
and the additive counts its figures are computed from.

The questionnaire is a YAML document (`app/pulse.yaml` by default, replaceable by an admin) that
the caller reads and parses; `parse` takes the parsed document and raises QuestionnaireError
naming the field at fault (`levers.1.statements.2.text.fr: ...`).

Scoring, with counts beside every figure:
- eNPS: the 0-10 answer is counted as promoter, passive or detractor with the customer NPS
  bounds (app.core.barometer), and eNPS = % promoters - % detractors, -100 to +100.
- COS per lever, 0-100: (mean - 1) / 4 * 100 over the lever's item answers (1-5), a reversed
  (negatively worded) item counted as 6 - x, so 1 everywhere is 0, 3 is 50 and 5 is 100.
- COS overall: the mean of the lever scores, each lever weighing the same: the COS is defined
  as three levers, and a mean over all items would tilt it towards whichever lever a replaced
  questionnaire gives more statements. It is None unless every lever has answers.

An answer is complete (the eNPS and every statement), so every figure of a group covers the same
people and the anonymity floor on the group's answers (app.core.floor) holds for each figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.barometer import Counts, nps, record_nps
from app.core.errors import VocError

SCALE_MIN, SCALE_MAX = 1, 5
ENPS_MIN, ENPS_MAX = 0, 10
REQUIRED_LANGUAGE = "en"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TEXT_MAX = 300


class QuestionnaireError(VocError, ValueError):
    """A questionnaire that cannot be used; the message names the field at fault."""


class AnswerError(VocError, ValueError):
    """A Pulse answer that does not fit its questionnaire; the message names the field."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One item rated on the 1-5 agreement scale; `reverse` for a negatively worded one."""

    id: str
    text: Mapping[str, str]
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Lever:
    id: str
    name: Mapping[str, str]
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A parsed questionnaire: the eNPS question, the scale's labels and the levers, in file
    order. Every wording has at least 'en', which stands in for a language not given."""

    version: int
    enps: Mapping[str, str]
    scale_labels: Mapping[str, tuple[str, ...]]
    levers: tuple[Lever, ...]

    def statements(self) -> dict[str, tuple[Lever, Statement]]:
        """Every statement by id, with its lever."""
        return {s.id: (lever, s) for lever in self.levers for s in lever.statements}


def worded(wording: Mapping[str, str], language: str) -> str:
    """A wording in `language`, else in English."""
    return wording.get(language) or wording[REQUIRED_LANGUAGE]


def parse(document: Any) -> Questionnaire:
    """A questionnaire from its parsed YAML; QuestionnaireError names what is wrong."""
    if not isinstance(document, Mapping):
        raise QuestionnaireError("a mapping with version, enps, scale and levers is required")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise QuestionnaireError("version: a whole number from 1, raised at each change")
    enps = _wording("enps", document.get("enps"))
    labels = _scale(document.get("scale"))
    given = document.get("levers")
    if not isinstance(given, list) or not given:
        raise QuestionnaireError("levers: a list of levers is required")
    levers = [_lever(i, entry) for i, entry in enumerate(given)]
    lever_ids: list[str] = []
    statement_ids: list[str] = []
    for i, lever in enumerate(levers):
        if lever.id in lever_ids:
            raise QuestionnaireError(f"levers.{i}.id: {lever.id!r} is given twice")
        lever_ids.append(lever.id)
        for j, statement in enumerate(lever.statements):
            # Unique over the whole file: an answer names statements, not levers.
            if statement.id in statement_ids:
                raise QuestionnaireError(
                    f"levers.{i}.statements.{j}.id: {statement.id!r} is given twice"
                )
            statement_ids.append(statement.id)
    return Questionnaire(version, enps, labels, tuple(levers))


def _wording(where: str, given: Any) -> dict[str, str]:
    if not isinstance(given, Mapping) or REQUIRED_LANGUAGE not in given:
        raise QuestionnaireError(f"{where}: a wording per language, at least 'en'")
    wording: dict[str, str] = {}
    for language, text in given.items():
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise QuestionnaireError(f"{where}.{language}: a two-letter language code, e.g. 'fr'")
        if not isinstance(text, str) or not text.strip() or len(text) > _TEXT_MAX:
            raise QuestionnaireError(f"{where}.{language}: a text of 1 to {_TEXT_MAX} characters")
        wording[language] = text.strip()
    return wording


def _scale(given: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(given, Mapping):
        raise QuestionnaireError(f"scale: min {SCALE_MIN}, max {SCALE_MAX} and labels")
    for bound, expected in (("min", SCALE_MIN), ("max", SCALE_MAX)):
        if given.get(bound) != expected or isinstance(given.get(bound), bool):
            raise QuestionnaireError(
                f"scale.{bound}: {expected}; the scale is {SCALE_MIN}-{SCALE_MAX}"
            )
    labels = given.get("labels")
    if not isinstance(labels, Mapping) or REQUIRED_LANGUAGE not in labels:
        raise QuestionnaireError("scale.labels: the scale's labels per language, at least 'en'")
    steps = SCALE_MAX - SCALE_MIN + 1
    found: dict[str, tuple[str, ...]] = {}
    for language, listed in labels.items():
        where = f"scale.labels.{language}"
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise QuestionnaireError(f"{where}: a two-letter language code, e.g. 'fr'")
        if (
            not isinstance(listed, list)
            or len(listed) != steps
            or not all(isinstance(label, str) and label.strip() for label in listed)
        ):
            raise QuestionnaireError(f"{where}: {steps} labels, from disagree to agree")
        found[language] = tuple(label.strip() for label in listed)
    return found


def _lever(index: int, entry: Any) -> Lever:
    where = f"levers.{index}"
    if not isinstance(entry, Mapping):
        raise QuestionnaireError(f"{where}: a mapping with id, name and statements")
    lever_id = _id(f"{where}.id", entry.get("id"))
    name = _wording(f"{where}.name", entry.get("name"))
    given = entry.get("statements")
    if not isinstance(given, list) or not given:
        raise QuestionnaireError(f"{where}.statements: a list of statements is required")
    statements = tuple(_statement(f"{where}.statements.{j}", s) for j, s in enumerate(given))
    return Lever(lever_id, name, statements)


def _statement(where: str, entry: Any) -> Statement:
    if not isinstance(entry, Mapping):
        raise QuestionnaireError(f"{where}: a mapping with id and text")
    statement_id = _id(f"{where}.id", entry.get("id"))
    text = _wording(f"{where}.text", entry.get("text"))
    reverse = entry.get("reverse", False)
    if not isinstance(reverse, bool):
        raise QuestionnaireError(f"{where}.reverse: true or false")
    return Statement(statement_id, text, reverse)


def _id(where: str, given: Any) -> str:
    if not isinstance(given, str) or not _ID.match(given):
        raise QuestionnaireError(f"{where}: lowercase letters, digits and hyphens, e.g. 'trust'")
    return given


@dataclass(slots=True)
class LeverCounts:
    """One lever's item answers and their points (1-5, reversed items already flipped)."""

    answers: int = 0
    points: int = 0

    def merge(self, other: LeverCounts) -> None:
        self.answers += other.answers
        self.points += other.points


@dataclass(slots=True)
class PulseCounts:
    """What Pulse figures are computed from, kept per team and period, never per person.

    Counts of two teams or periods add up (`merge`); figures do not. `answers` is the number of
    complete answers: what the anonymity floor is checked against.
    """

    answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    levers: dict[str, LeverCounts] = field(default_factory=dict)

    def record(self, questionnaire: Questionnaire, enps: int, ratings: Mapping[str, int]) -> None:
        """Count one complete answer: the eNPS (0-10) and a rating (1-5) of every statement.
        AnswerError, and nothing counted, when it does not fit the questionnaire."""
        check_answer(questionnaire, enps, ratings)
        self.answers += 1
        record_nps(self, enps)
        for lever in questionnaire.levers:
            counts = self.levers.setdefault(lever.id, LeverCounts())
            for statement in lever.statements:
                rating = ratings[statement.id]
                counts.answers += 1
                counts.points += SCALE_MIN + SCALE_MAX - rating if statement.reverse else rating

    def merge(self, other: PulseCounts) -> None:
        self.answers += other.answers
        self.promoters += other.promoters
        self.passives += other.passives
        self.detractors += other.detractors
        for lever_id, counts in other.levers.items():
            self.levers.setdefault(lever_id, LeverCounts()).merge(counts)


def check_answer(questionnaire: Questionnaire, enps: int, ratings: Mapping[str, int]) -> None:
    """AnswerError unless the eNPS is 0-10 and every statement, and only those, is rated 1-5."""
    if isinstance(enps, bool) or not isinstance(enps, int) or not ENPS_MIN <= enps <= ENPS_MAX:
        raise AnswerError(f"enps: a whole number from {ENPS_MIN} to {ENPS_MAX}")
    statements = questionnaire.statements()
    unknown = sorted(set(ratings) - set(statements))
    if unknown:
        raise AnswerError(f"ratings: no statement {', '.join(map(repr, unknown))}")
    for statement_id in statements:
        rating = ratings.get(statement_id)
        if rating is None:
            raise AnswerError(f"ratings.{statement_id}: every statement is rated")
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not SCALE_MIN <= rating <= SCALE_MAX
        ):
            raise AnswerError(
                f"ratings.{statement_id}: a whole number from {SCALE_MIN} to {SCALE_MAX}"
            )


@dataclass(frozen=True, slots=True)
class LeverFigure:
    lever: str
    cos: float | None
    answers: int


@dataclass(frozen=True, slots=True)
class PulseFigures:
    """Figures to 1 decimal with their counts; a figure is None when its count is 0.

    `answers` counts complete answers: the eNPS and the overall COS each cover all of them,
    a lever's `answers` counts its item answers (answers x its statements).
    """

    answers: int
    enps: float | None
    promoters: int
    passives: int
    detractors: int
    cos: float | None
    levers: tuple[LeverFigure, ...]


def enps(counts: PulseCounts) -> float | None:
    """% promoters - % detractors, to 1 decimal, with the customer NPS bounds and rounding."""
    return nps(
        Counts(promoters=counts.promoters, passives=counts.passives, detractors=counts.detractors)
    )


def _cos(counts: LeverCounts | None) -> float | None:
    """(mean - 1) / 4 * 100, unrounded; None without answers."""
    if counts is None or counts.answers == 0:
        return None
    mean = counts.points / counts.answers
    return (mean - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * 100


def _rounded(value: float | None) -> float | None:
    # Adding 0.0 turns a rounded -0.0 into 0.0, as barometer figures do.
    return None if value is None else round(value, 1) + 0.0


def figures(counts: PulseCounts, questionnaire: Questionnaire) -> PulseFigures:
    """The eNPS and COS of `counts`, levers in the questionnaire's order. The overall COS is the
    mean of the unrounded lever scores, None unless every lever has answers.

    Compute figures only for groups the anonymity floor lets through (app.core.floor).
    """
    scores = [(lever.id, _cos(counts.levers.get(lever.id))) for lever in questionnaire.levers]
    known = [score for _, score in scores if score is not None]
    overall = sum(known) / len(known) if known and len(known) == len(scores) else None
    return PulseFigures(
        answers=counts.answers,
        enps=enps(counts),
        promoters=counts.promoters,
        passives=counts.passives,
        detractors=counts.detractors,
        cos=_rounded(overall),
        levers=tuple(
            LeverFigure(
                lever_id,
                _rounded(score),
                counts.levers[lever_id].answers if lever_id in counts.levers else 0,
            )
            for lever_id, score in scores
        ),
    )
