"""The ingest pipeline: pure functions from a polled batch to what it writes and publishes.

    prepare(messages)          decode, validate, drop repeats, score; the dead letters; the
                               facts the batch needs to know (one FactsQuery)
    plan(prepared, facts)      the alerts it raises and the aggregates it adds: one Writes,
                               committed by the store in one transaction
    publication(plan, done)    the hub events and alerts of what the store says it wrote

No Kafka, no SQL, no clock: the worker (ingest/worker.py) runs them between its ports and
decides what a failure means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alerts.praise import is_praise
from alerts.rules import RuleBook
from app.core.aggregates import Counted, epoch_minute
from app.core.barometer import TREND_MINUTES, WEEK_HOURS, Counts, Tally
from app.core.emerging import epoch_day
from app.core.events import (
    AlertEvent,
    AlertView,
    CommentEvent,
    FlagEvent,
    PraiseEvent,
    PraiseView,
    ResponseView,
    SurveyResponse,
)
from app.core.org import OrgTree
from app.core.ports import Scorer
from app.core.settings import Settings
from app.core.writes import (
    Committed,
    Facts,
    FactsQuery,
    NewAlert,
    Said,
    Scored,
    ThemeTally,
    Writes,
)
from ingest.alerting import has_drop_rule, repeat_window, response_alerts, unit_alerts
from ingest.decode import Rejected, decode
from sentiment.phrases import STOP_WORDS, phrases


@dataclass(frozen=True, slots=True)
class Message:
    """A consumed record, as the pipeline needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    # The broker's (or producer's) timestamp, in epoch milliseconds; None or <= 0: unknown.
    timestamp_ms: int | None = None

    @property
    def source(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def received_at(self, now: datetime) -> datetime:
        if self.timestamp_ms and self.timestamp_ms > 0:
            return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        return now


@dataclass(frozen=True)
class Prepared:
    tree: OrgTree
    scored: list[Scored]
    # Each stored-to-be response's message, to dead-letter it should the database refuse it.
    sources: dict[str, Message]
    rejected: list[tuple[Message, Rejected]]
    # Units named by valid responses that the tree does not hold (rejected as unknown).
    unknown_units: frozenset[str]
    # Valid responses of known units, repeats within the batch included.
    valid: int
    query: FactsQuery
    # Messages that made decode() or the scorer raise: a bug, dead-lettered as `undecodable`
    # or `unscorable`.
    crashed: list[Message] = field(default_factory=list)
    # The names of the themes the scorer assigns, by theme: what a drop alert names them by.
    theme_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def prepare(
    messages: Sequence[Message],
    *,
    tree: OrgTree,
    scorer: Scorer,
    rules: RuleBook,
    max_bytes: int,
    now: datetime,
) -> Prepared:
    rejected: list[tuple[Message, Rejected]] = []
    crashed: list[Message] = []
    scored: list[Scored] = []
    sources: dict[str, Message] = {}
    unknown: set[str] = set()
    valid = 0
    for message in messages:
        result = _decode(message, max_bytes)
        if isinstance(result, Rejected):
            rejected.append((message, result))
            if result.reason == UNDECODABLE:
                crashed.append(message)
            continue
        if result.org_unit not in tree:
            unknown.add(result.org_unit)
            rejected.append((message, _unknown_unit(result.org_unit)))
            continue
        valid += 1
        if result.response_id in sources:
            continue  # a repeat within the batch: its first copy is kept
        try:
            assessment = scorer.assess(result)
        except Exception as exc:
            # Like a decode crash: the scorer's bug, paid for by this message alone.
            rejected.append((message, Rejected(UNSCORABLE, f"{type(exc).__name__}: {exc}")))
            crashed.append(message)
            continue
        sources[result.response_id] = message
        scored.append(Scored(result, assessment, message.received_at(now)))
    return Prepared(
        tree=tree,
        scored=scored,
        sources=sources,
        rejected=rejected,
        unknown_units=frozenset(unknown),
        valid=valid,
        query=_facts_query(scored, rules, now),
        crashed=crashed,
        theme_names=scorer.theme_names(),
    )


UNDECODABLE = "undecodable"
UNSCORABLE = "unscorable"


def _decode(message: Message, max_bytes: int) -> SurveyResponse | Rejected:
    try:
        return decode(message.value, max_bytes=max_bytes)
    except Exception as exc:
        # decode() must not raise on bad input; if some input still makes it, that input is
        # dead-lettered for the bug to be fixed, rather than stalling its partition.
        return Rejected(UNDECODABLE, f"{type(exc).__name__}: {exc}")


def _unknown_unit(org_unit: str) -> Rejected:
    return Rejected(
        "unknown_org_unit",
        f"org_unit: {org_unit!r} is not in the org tree; add the unit, then replay this message",
    )


def _hour_window_start(now: datetime) -> int:
    """The first epoch minute of the HOUR window as of `now` (see BarometerBook)."""
    return epoch_minute(now) - TREND_MINUTES + 1


def _week_window_start(now: datetime) -> int:
    """The first epoch hour of the WEEK window as of `now`."""
    return epoch_minute(now) // 60 - WEEK_HOURS + 1


def _facts_query(scored: Sequence[Scored], rules: RuleBook, now: datetime) -> FactsQuery:
    customers: frozenset[str] = frozenset()
    since = None
    window = repeat_window(rules)
    if window is not None:
        customers = frozenset(
            s.response.customer_ref
            for s in scored
            if s.assessment.dissatisfied and s.response.customer_ref is not None
        )
        if customers:
            since = min(s.response.submitted_at for s in scored) - window
    units = frozenset(s.response.org_unit for s in scored) if has_drop_rule(rules) else frozenset()
    return FactsQuery(
        customers=customers,
        customers_since=since,
        units=units,
        since_minute=_hour_window_start(now),
        since_hour=_week_window_start(now),
        recent_hour=epoch_minute(now) // 60 - 1,
    )


@dataclass(frozen=True)
class Plan:
    prepared: Prepared
    writes: Writes


def plan(
    prepared: Prepared, facts: Facts, *, rules: RuleBook, settings: Settings, now: datetime
) -> Plan:
    """What the batch writes: its responses, the alerts they and their units raise, and the
    aggregates they add."""
    scored = prepared.scored
    alerts = response_alerts(rules, scored, facts.earlier, now, settings)
    if prepared.query.units:
        hours, weeks, themes = _with_batch(scored, facts, prepared.query)
        alerts += unit_alerts(
            rules,
            hours,
            weeks,
            prepared.query.units,
            now,
            settings,
            themes=themes,
            names=prepared.theme_names,
        )
    counted = [counted_of(s, prepared.tree) for s in scored]
    praise = frozenset(
        s.response.response_id
        for s in scored
        if is_praise(s.response, s.assessment, settings.praise_from)
    )
    writes = Writes(
        responses=scored,
        alerts=alerts,
        counted=counted,
        tree_version=prepared.tree.version,
        praise=praise,
        said={s.response.response_id: said for s in scored if (said := said_of(s)) is not None},
    )
    return Plan(prepared, writes)


def _with_batch(
    scored: Sequence[Scored], facts: Facts, query: FactsQuery
) -> tuple[dict[str, Counts], dict[str, Counts], dict[str, ThemeTally]]:
    """Each unit's HOUR and WEEK counts, and its theme mentions: what is stored, and this batch."""
    hours: dict[str, Counts] = {}
    weeks: dict[str, Counts] = {}
    themes: dict[str, ThemeTally] = {}
    for unit in query.units:
        hours[unit], weeks[unit] = Counts(), Counts()
        for stored, into in ((facts.unit_minutes, hours), (facts.unit_hours, weeks)):
            if unit in stored:
                into[unit].merge(stored[unit])
        known = facts.unit_themes.get(unit, ThemeTally())
        themes[unit] = ThemeTally(dict(known.recent), dict(known.week))
    for item in scored:
        r, a = item.response, item.assessment
        minute = epoch_minute(r.submitted_at)
        for start, into in ((query.since_minute, hours), (query.since_hour * 60, weeks)):
            if minute >= start:
                into[r.org_unit].record(
                    r.score_kind, r.score, a.polarity, a.dissatisfied, a.negative_comment
                )
        if minute >= query.since_hour * 60:
            for mention in a.themes:
                themes[r.org_unit].add(mention.theme, recent=minute >= query.recent_hour * 60)
    return hours, weeks, themes


@dataclass(frozen=True)
class Publication:
    """What to tell the world of a committed batch."""

    stored: list[Scored]
    # Hub events, serialized: each comment (and its flag or praise), then each alert raised.
    payloads: list[bytes]
    alerts: list[AlertView]
    # Valid responses that were not stored: already stored, or repeats within the batch.
    duplicates: int


def publication(planned: Plan, committed: Committed) -> Publication:
    stored = [s for s in planned.writes.responses if s.response.response_id in committed.stored]
    views = {s.response.response_id: s.view() for s in stored}
    payloads: list[bytes] = []
    for item in stored:
        r, view = item.response, views[item.response.response_id]
        payloads.append(
            CommentEvent(org_unit=r.org_unit, touchpoint=r.touchpoint, data=view)
            .model_dump_json()
            .encode()
        )
        if item.assessment.dissatisfied:
            payloads.append(
                FlagEvent(org_unit=r.org_unit, touchpoint=r.touchpoint, data=view)
                .model_dump_json()
                .encode()
            )
        if r.response_id in planned.writes.praise:
            payloads.append(PraiseEvent.payload(PraiseView(response=view)))
    alerts = [
        _raised(alert, committed.alerts[alert.dedup_key], views)
        for alert in planned.writes.alerts
        if alert.dedup_key in committed.alerts
    ]
    payloads += [AlertEvent.payload(v) for v in alerts]
    duplicates = planned.prepared.valid - len(stored) - len(committed.refused)
    return Publication(stored, payloads, alerts, duplicates)


def _raised(alert: NewAlert, alert_id: int, views: dict[str, ResponseView]) -> AlertView:
    response = views.get(alert.response_id) if alert.response_id else None
    return alert.view(alert_id, response)


def tally(item: Scored) -> Tally:
    """What the barometers count of a stored response."""
    r, a = item.response, item.assessment
    return Tally(
        org_unit=r.org_unit,
        touchpoint=r.touchpoint,
        submitted_at=r.submitted_at,
        score_kind=r.score_kind,
        score=r.score,
        polarity=a.polarity,
        dissatisfied=a.dissatisfied,
        negative_comment=a.negative_comment,
    )


def counted_of(item: Scored, tree: OrgTree) -> Counted:
    """What the aggregates count of a response, with the units it rolls up into."""
    unit = item.response.org_unit
    return Counted(
        item.response.response_id,
        tally(item),
        tree.rolled_into(unit),
        tuple(item.assessment.themes),
    )


def said_of(item: Scored) -> Said | None:
    """The phrases of a response's comment, in a language whose stop words are known."""
    comment, language = item.response.comment, item.assessment.comment_language
    if not comment or language not in STOP_WORDS:
        return None
    return Said(language, epoch_day(item.response.submitted_at), phrases(comment, language))
