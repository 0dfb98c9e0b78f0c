"""Which rules a response (or a unit's barometer) fires, and why: pure, given what happened before.

One customer, one alert: every rule a response fires goes into one trigger, at the highest
severity among them, so a manager calls a customer back once. A unit's NPS drop is one alert
per unit and clock hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.rules import DropRule, PhraseRule, RepeatRule, RuleBook, ScoreRule
from app.core.events import (
    Assessment,
    BarometerSnapshot,
    ReasonKind,
    Severity,
    SurveyResponse,
    Window,
)


@dataclass(frozen=True)
class Earlier:
    """An earlier dissatisfied response of the same customer."""

    response_id: str
    submitted_at: datetime
    # The case of the alert it raised; None: none (yet).
    case_key: str | None = None


@dataclass(frozen=True)
class Trigger:
    """What to raise: `dedup_key` makes a second trigger for the same thing a no-op."""

    dedup_key: str
    org_unit: str
    rules: tuple[str, ...]
    severity: Severity
    reasons: dict[str, dict[str, Any]]
    response_id: str | None = None
    touchpoint: str | None = None
    rules_version: int = 0


def response_dedup_key(response_id: str) -> str:
    return f"response:{response_id}"


def assess_response(
    book: RuleBook,
    response: SurveyResponse,
    assessment: Assessment,
    earlier: Sequence[Earlier] = (),
) -> Trigger | None:
    """The trigger of the rules this response fires, or None."""
    reasons: dict[str, dict[str, Any]] = {}
    fired = []
    for rule in book.rules:
        why: dict[str, Any] | None = None
        if isinstance(rule, ScoreRule):
            why = _score(rule, response, assessment)
        elif isinstance(rule, PhraseRule):
            why = _phrases(rule, response)
        elif isinstance(rule, RepeatRule):
            why = _repeat(rule, response, assessment, earlier)
        if why is not None:
            fired.append(rule)
            reasons[rule.id] = why
    if not fired:
        return None
    worst = max(fired, key=lambda r: r.severity.rank)
    return Trigger(
        dedup_key=response_dedup_key(response.response_id),
        org_unit=response.org_unit,
        rules=tuple(r.id for r in fired),
        severity=worst.severity,
        reasons=reasons,
        response_id=response.response_id,
        touchpoint=response.touchpoint,
        rules_version=book.version,
    )


def _score(rule: ScoreRule, r: SurveyResponse, a: Assessment) -> dict[str, Any] | None:
    if r.score_kind is not rule.score_kind:
        return None
    if rule.at_most is not None and r.score > rule.at_most:
        return None
    if rule.at_least is not None and r.score < rule.at_least:
        return None
    why: dict[str, Any] = {"score": r.score, "score_kind": r.score_kind.value}
    if rule.at_most is not None:
        why["at_most"] = rule.at_most
    if rule.at_least is not None:
        why["at_least"] = rule.at_least
    if rule.negative_comment:
        if not a.negative_comment:
            return None
        why["probability"] = a.negative_probability
        phrases = [r.label for r in a.reasons if r.kind is ReasonKind.PHRASE]
        if phrases:
            why["phrases"] = phrases
    return why


def _phrases(rule: PhraseRule, r: SurveyResponse) -> dict[str, Any] | None:
    if not r.comment:
        return None
    matched = list(dict.fromkeys(m.group(0).lower() for m in rule.pattern.finditer(r.comment)))
    return {"matched": matched} if matched else None


def _repeat(
    rule: RepeatRule, r: SurveyResponse, a: Assessment, earlier: Sequence[Earlier]
) -> dict[str, Any] | None:
    if not a.dissatisfied or r.customer_ref is None:
        return None
    since = r.submitted_at - timedelta(days=rule.within_days)
    before = [
        e.response_id
        for e in earlier
        if e.response_id != r.response_id and since <= e.submitted_at <= r.submitted_at
    ]
    if not before:
        return None
    return {"earlier": sorted(before), "within_days": rule.within_days}


def assess_unit(book: RuleBook, snapshot: BarometerSnapshot) -> list[Trigger]:
    """Drop alerts for one unit's barometer (org_unit set, no touchpoint)."""
    if snapshot.org_unit is None:
        return []
    hour, week = snapshot.windows[Window.HOUR], snapshot.windows[Window.WEEK]
    triggers = []
    for rule in book.rules:
        if not isinstance(rule, DropRule):
            continue
        if hour.nps is None or week.nps is None or hour.nps_responses < rule.min_responses:
            continue
        drop = week.nps - hour.nps
        if drop <= rule.points:
            continue
        clock_hour = snapshot.as_of.replace(minute=0, second=0, microsecond=0)
        triggers.append(
            Trigger(
                dedup_key=f"drop:{rule.id}:{snapshot.org_unit}:{clock_hour.isoformat()}",
                org_unit=snapshot.org_unit,
                rules=(rule.id,),
                severity=rule.severity,
                reasons={
                    rule.id: {
                        "hour_nps": hour.nps,
                        "hour_responses": hour.nps_responses,
                        "week_nps": week.nps,
                        "week_responses": week.nps_responses,
                        "drop": round(drop, 1),
                        "points": rule.points,
                    }
                },
                rules_version=book.version,
            )
        )
    return triggers
