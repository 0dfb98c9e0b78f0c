"""What a batch raises: alerts for the rules its responses (and their units) fire. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from alerts.engine import Earlier, Trigger, assess_response, assess_unit
from alerts.lifecycle import deadlines
from alerts.rules import DropRule, RepeatRule, RuleBook
from app.core.barometer import Counts, figures, is_detractor
from app.core.events import Barometer, BarometerSnapshot, SurveyResponse, Window
from app.core.settings import Settings
from app.core.theme_board import grown
from app.core.writes import NewAlert, Scored, ThemeTally


def repeat_window(rules: RuleBook) -> timedelta | None:
    """How far back a repeat rule looks; None without one."""
    days = [r.within_days for r in rules.rules if isinstance(r, RepeatRule)]
    return timedelta(days=max(days)) if days else None


def has_drop_rule(rules: RuleBook) -> bool:
    return any(isinstance(r, DropRule) for r in rules.rules)


def response_alerts(
    rules: RuleBook,
    scored: Sequence[Scored],
    stored_earlier: Mapping[str, Sequence[tuple[str, datetime, str | None]]],
    now: datetime,
    settings: Settings,
) -> list[NewAlert]:
    """The alerts of a batch's responses. A customer's dissatisfied responses earlier in the
    same batch count as earlier ones, like those already stored.

    A response submitted more than VOC_ALERT_MAX_AGE_HOURS before `now` (an imported history, a
    survey tool's late backlog) raises nothing: a call-back deadline counted from its arrival
    would escalate a complaint that is long over. It still counts as an earlier one.

    An alert whose customer had an alert inside the repeat window joins that alert's case, so
    the inbox shows the customer once with their history.
    """
    earlier: dict[str, list[Earlier]] = {
        ref: [Earlier(*e) for e in found] for ref, found in stored_earlier.items()
    }
    for item in scored:
        ref = item.response.customer_ref
        if ref is not None and item.assessment.dissatisfied:
            earlier.setdefault(ref, []).append(
                Earlier(item.response.response_id, item.response.submitted_at)
            )
    cases = {e.response_id: e.case_key for found in earlier.values() for e in found if e.case_key}
    window = repeat_window(rules)
    oldest = now - timedelta(hours=settings.alert_max_age_hours)
    raised: dict[int, NewAlert] = {}
    # Oldest answer first, so a customer's second alert finds the case of the first.
    for index, item in sorted(enumerate(scored), key=lambda i: i[1].response.submitted_at):
        r = item.response
        if r.submitted_at < oldest:
            continue
        mine = earlier.get(r.customer_ref, []) if r.customer_ref else []
        trigger = assess_response(rules, r, item.assessment, mine)
        if trigger is None:
            continue
        case = _case_of(r, mine, cases, window)
        alert = new_alert(trigger, now, settings, r, case)
        cases[r.response_id] = case or alert.dedup_key
        raised[index] = alert
    return [raised[i] for i in sorted(raised)]


def _case_of(
    response: SurveyResponse,
    earlier: Sequence[Earlier],
    cases: Mapping[str, str],
    window: timedelta | None,
) -> str | None:
    """The case of the customer's latest earlier alert inside the repeat window, if any."""
    if window is None:
        return None
    since = response.submitted_at - window
    prior = [
        e
        for e in earlier
        if e.response_id != response.response_id
        and e.response_id in cases
        and since <= e.submitted_at <= response.submitted_at
    ]
    if not prior:
        return None
    return cases[max(prior, key=lambda e: e.submitted_at).response_id]


def unit_alerts(
    rules: RuleBook,
    hours: Mapping[str, Counts],
    weeks: Mapping[str, Counts],
    units: Iterable[str],
    now: datetime,
    settings: Settings,
    *,
    themes: Mapping[str, ThemeTally] | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> list[NewAlert]:
    """Drop alerts of `units`, given each unit's counts over the HOUR and WEEK windows; each
    names the themes its customers talk about more lately (`themes`, named by `names`)."""
    drops = [r for r in rules.rules if isinstance(r, DropRule)]
    if not drops:
        return []
    # Most units answer a few times an hour: too few for any drop rule, so no figures to build.
    fewest = min(r.min_responses for r in drops)
    raised = []
    for unit in sorted(set(units)):
        if hours.get(unit, Counts()).nps_responses < fewest:
            continue
        windows = {
            Window.HOUR: figures(hours.get(unit, Counts())),
            Window.TODAY: Barometer(),
            Window.WEEK: figures(weeks.get(unit, Counts())),
        }
        snapshot = BarometerSnapshot(
            org_unit=unit, touchpoint=None, as_of=now, windows=windows, trend=[]
        )
        tally = (themes or {}).get(unit)
        grew = grown(tally.recent, tally.week) if tally is not None else []
        for trigger in assess_unit(rules, snapshot):
            if grew:
                trigger = _naming(trigger, grew, names or {})
            raised.append(new_alert(trigger, now, settings))
    return raised


def _naming(
    trigger: Trigger, grew: list[tuple[str, float, float]], names: Mapping[str, Mapping[str, str]]
) -> Trigger:
    """The drop's reasons with the themes that grew: id, names, share lately and over 7 days."""
    listed = [
        {
            "theme": theme,
            "names": dict(names.get(theme) or {"en": theme}),
            "recent": now,
            "week": week,
        }
        for theme, now, week in grew
    ]
    reasons = {rule: {**found, "themes_grown": listed} for rule, found in trigger.reasons.items()}
    return replace(trigger, reasons=reasons)


def new_alert(
    trigger: Trigger,
    now: datetime,
    settings: Settings,
    response: SurveyResponse | None = None,
    case_key: str | None = None,
) -> NewAlert:
    due_ack, due_resolve = deadlines(
        trigger.severity, now, settings.alert_ack_minutes, settings.alert_resolve_hours
    )
    return NewAlert(
        dedup_key=trigger.dedup_key,
        org_unit=trigger.org_unit,
        touchpoint=trigger.touchpoint,
        response_id=trigger.response_id,
        rules=trigger.rules,
        rules_version=trigger.rules_version,
        severity=trigger.severity,
        reasons=trigger.reasons,
        created_at=now,
        due_ack_at=due_ack,
        due_resolve_at=due_resolve,
        submitted_at=response.submitted_at if response is not None else None,
        detractor=response is not None and is_detractor(response.score_kind, response.score),
        customer_ref=response.customer_ref if response is not None else None,
        case_key=case_key,
    )
