"""What a batch raises: alert rows for the rules its responses (and their units) fire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from alerts.engine import Earlier, Trigger, assess_response, assess_unit
from alerts.lifecycle import deadlines
from alerts.rules import DropRule, RepeatRule, RuleBook
from app.core.barometer import BarometerBook
from app.core.events import AlertEvent, AlertState, AlertView
from app.core.settings import Settings
from ingest.batch import Scored


def repeat_window(rules: RuleBook) -> timedelta | None:
    """How far back a repeat rule looks; None without one."""
    days = [r.within_days for r in rules.rules if isinstance(r, RepeatRule)]
    return timedelta(days=max(days)) if days else None


def response_alerts(
    rules: RuleBook,
    scored: Sequence[Scored],
    stored_earlier: Mapping[str, Sequence[tuple[str, datetime]]],
    now: datetime,
    settings: Settings,
) -> dict[str, dict[str, Any]]:
    """Alert rows by response id. A customer's dissatisfied responses earlier in the same batch
    count as earlier ones, like those already stored.

    A response submitted more than VOC_ALERT_MAX_AGE_HOURS before `now` (an imported history, a
    survey tool's late backlog) raises nothing: a call-back deadline counted from its arrival
    would escalate a complaint that is long over. It still counts as an earlier one.
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
    oldest = now - timedelta(hours=settings.alert_max_age_hours)
    rows = {}
    for item in scored:
        if item.response.submitted_at < oldest:
            continue
        ref = item.response.customer_ref
        trigger = assess_response(
            rules, item.response, item.assessment, earlier.get(ref, []) if ref else []
        )
        if trigger is not None:
            rows[item.response.response_id] = alert_row(trigger, now, settings)
    return rows


def unit_alerts(
    rules: RuleBook, book: BarometerBook, units: Iterable[str], now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    if not any(isinstance(r, DropRule) for r in rules.rules):
        return []
    return [
        alert_row(trigger, now, settings)
        for unit in sorted(set(units))
        for trigger in assess_unit(rules, book.snapshot(unit, None, now))
    ]


def alert_row(trigger: Trigger, now: datetime, settings: Settings) -> dict[str, Any]:
    due_ack, due_resolve = deadlines(
        trigger.severity, now, settings.alert_ack_minutes, settings.alert_resolve_hours
    )
    return {
        "dedup_key": trigger.dedup_key,
        "org_unit": trigger.org_unit,
        "touchpoint": trigger.touchpoint,
        "response_id": trigger.response_id,
        "rules": list(trigger.rules),
        "rules_version": trigger.rules_version,
        "severity": trigger.severity.value,
        "reasons": trigger.reasons,
        "state": AlertState.OPEN.value,
        "assignee": None,
        "created_at": now,
        "due_ack_at": due_ack,
        "due_resolve_at": due_resolve,
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "root_cause": None,
        "resolution_note": None,
        "escalations": 0,
    }


def alert_payloads(views: Sequence[AlertView]) -> list[bytes]:
    return [
        AlertEvent(org_unit=v.org_unit, touchpoint=v.touchpoint, data=v).model_dump_json().encode()
        for v in views
    ]
