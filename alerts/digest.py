"""The daily digest: what it holds, who is due for it and when, which touchpoint broke the
corridor, and its words (subject, plain text and HTML). Pure: app/digests.py reads the
database, claims the day and sends."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.access import Role
from app.core.barometer import Counts, nps

# "The touchpoint that broke the corridor": the journey touchpoint whose NPS yesterday fell
# furthest below its NPS over the 7 days, counting only touchpoints with at least
# CORRIDOR_MIN_ANSWERS NPS answers yesterday (3 answers do not make a trend) and a fall of at
# least CORRIDOR_MIN_FALL points (a few points are noise at these counts). Equal falls: the
# earlier step of the journey, where customers meet the problem first.
CORRIDOR_MIN_ANSWERS = 5
CORRIDOR_MIN_FALL = 10.0
# Comments longer than this are cut in the e-mail; the link opens the whole of it.
EXCERPT_CHARS = 280
WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class Nps:
    """An NPS figure and the answers it comes from; `value` is None without answers."""

    value: float | None
    answers: int
    promoters: int = 0
    detractors: int = 0

    @classmethod
    def of(cls, counts: Counts) -> Nps:
        return cls(nps(counts), counts.nps_responses, counts.promoters, counts.detractors)


@dataclass(frozen=True, slots=True)
class AlertCounts:
    """Alerts of the scope: opened and closed (resolved) on the day, and overdue when sent."""

    opened: int
    closed: int
    overdue: int


@dataclass(frozen=True, slots=True)
class Broken:
    """The touchpoint that broke the corridor, with its figures on the day and over 7 days."""

    touchpoint: str
    day: Nps
    week: Nps

    @property
    def fall(self) -> float:
        assert self.day.value is not None and self.week.value is not None
        return self.week.value - self.day.value


@dataclass(frozen=True, slots=True)
class Comment:
    kind: Literal["worst", "best"]
    response_id: str
    unit_name: str
    touchpoint: str
    score_kind: str
    score: int
    text: str
    # Opens the response in the cockpit; None without VOC_PUBLIC_URL.
    link: str | None


@dataclass(frozen=True, slots=True)
class Digest:
    """One user's digest of one local day (the day before it is sent)."""

    display_name: str
    email: str
    # The units it covers, in words ("North", "Store 12, Store 14").
    scope: str
    day: date
    hour: int
    timezone: str
    nps_day: Nps
    nps_week: Nps
    alerts: AlertCounts
    praise: int
    broken: Broken | None
    comments: tuple[Comment, ...]
    cockpit: str | None


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


# Who gets it, and when


def wants_digest(role: Role | str, choice: bool | None) -> bool:
    """The user's choice, or their role's default: managers and admins get it, frontline staff
    only once they opt in (the tool informs them, it does not fill their inbox unasked)."""
    if choice is not None:
        return choice
    return Role(role) is not Role.FRONTLINE


def known_timezone(name: str) -> str:
    """`name` if it is an IANA timezone; ValueError naming it otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {name!r}, e.g. Europe/Paris") from exc
    return name


def zone(name: str | None, default: str) -> ZoneInfo:
    """The user's timezone, or the organisation's (`default`) when they chose none or what they
    chose is no longer known to this system's timezone database."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default)


def due_day(now: datetime, tz: ZoneInfo, hour: int) -> date | None:
    """The local day whose digest is due at `now`: today, once the local clock has reached
    `hour`; None before. An hour that a change to summer time skips is reached at the first
    hour after it; an hour lived twice when clocks go back is reached the first time (the
    day's claim keeps the second from sending again). Late (the service was down at that
    hour) is still due, until the local day ends."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else None


def reported_day(sent_on: date) -> date:
    """The day a digest sent on `sent_on` reports: the one before."""
    return sent_on - timedelta(days=1)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight of `day` to the next one, in UTC: 23 or 25 hours when clocks change."""
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def hour_span(start: datetime, end: datetime) -> tuple[int, int]:
    """The epoch hours aggregates cover from `start` to before `end`. Hour rows are UTC hours:
    where the offset is not a whole hour, a local day starts at the UTC hour holding its
    midnight, as the cockpit's TODAY window does."""
    return int(start.timestamp() // 3600), int(end.timestamp() // 3600)


# What it says


def broken_touchpoint(
    day: Mapping[str, Counts], week: Mapping[str, Counts], journey: Sequence[str]
) -> Broken | None:
    """The journey touchpoint that broke the corridor on the day (see CORRIDOR_MIN_ANSWERS);
    None when none fell far enough on enough answers."""
    found: Broken | None = None
    for touchpoint in journey:
        counts = day.get(touchpoint)
        if counts is None or counts.nps_responses < CORRIDOR_MIN_ANSWERS:
            continue
        candidate = Broken(touchpoint, Nps.of(counts), Nps.of(week.get(touchpoint, counts)))
        if candidate.fall >= CORRIDOR_MIN_FALL and (found is None or candidate.fall > found.fall):
            found = candidate
    return found


def response_link(public_url: str | None, response_id: str) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/?response={quote(response_id, safe='')}"


def scope_label(unit_names: Sequence[str]) -> str:
    names = [" ".join(n.split()) for n in unit_names]
    if not names:
        return "no units"
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:2])} and {len(names) - 2} more units"


def render(digest: Digest) -> Rendered:
    d = digest
    when = f"{d.day:%A} {d.day.day} {d.day:%B %Y}"
    subject = f"Daily digest for {d.scope}, {when}: {_headline(d.nps_day)}"
    return Rendered(
        subject=" ".join(subject.split()),
        text=_text(d, when),
        html=_html(d, when, subject),
    )


def _headline(figure: Nps) -> str:
    return "no NPS answers" if figure.value is None else f"NPS {_nps(figure)}"


def _signed(value: float) -> str:
    # Half away from zero, never "-0": NPS is read as a whole number.
    whole = int(math.copysign(math.floor(abs(value) + 0.5), value))
    return "0" if whole == 0 else f"{whole:+d}"


def _many(count: int, what: str) -> str:
    return f"{count} {what}{'s' if count != 1 else ''}"


def _answers(count: int) -> str:
    return _many(count, "answer")


def _nps(figure: Nps) -> str:
    """`+12 on 34 answers`: the count always beside the figure, no figure without answers."""
    if figure.value is None:
        return "no answers"
    return f"{_signed(figure.value)} on {_answers(figure.answers)}"


def _nps_detail(figure: Nps) -> str:
    if figure.value is None:
        return "no answers"
    promoters, detractors = (
        _many(figure.promoters, "promoter"),
        _many(figure.detractors, "detractor"),
    )
    return f"{_nps(figure)} ({promoters}, {detractors})"


def _facts(d: Digest) -> list[tuple[str, str]]:
    a = d.alerts
    broken = "no touchpoint fell " + (
        f"{CORRIDOR_MIN_FALL:.0f} points below its 7 days on {CORRIDOR_MIN_ANSWERS} answers or more"
    )
    if d.broken is not None:
        b = d.broken
        broken = f"{b.touchpoint}: NPS {_nps(b.day)}, against {_nps(b.week)} over 7 days"
    return [
        ("NPS yesterday", _nps_detail(d.nps_day)),
        ("NPS over 7 days", _nps_detail(d.nps_week)),
        ("Alerts yesterday", f"{a.opened} opened, {a.closed} closed; {a.overdue} overdue now"),
        ("Praise yesterday", str(d.praise)),
        ("Where the corridor broke", broken),
    ]


def _about(c: Comment) -> str:
    label = "Worst" if c.kind == "worst" else "Best"
    return f"{label}: {c.score_kind.upper()} {c.score} at {c.unit_name}, {c.touchpoint}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"


def _footer(d: Digest) -> str:
    return (
        f"Sent every day at {d.hour:02d}:00 ({d.timezone}) to {d.email}. Change the hour or "
        "stop it in the cockpit (PUT /api/v1/me/digest)."
    )


def _text(d: Digest, when: str) -> str:
    lines = [f"Hello {d.display_name},", "", f"{d.scope}, {when}", ""]
    lines += [f"{label}: {value}" for label, value in _facts(d)]
    lines += ["", "Comments that matter"]
    if not d.comments:
        lines.append("No comment yesterday.")
    for c in d.comments:
        lines += [_about(c), f"  “{_excerpt(c.text)}”"]
        if c.link:
            lines.append(f"  Open it: {c.link}")
    if d.cockpit:
        lines += ["", f"Open the cockpit: {d.cockpit}"]
    lines += ["", _footer(d)]
    return "\n".join(lines) + "\n"


def _html(d: Digest, when: str, subject: str) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">{e(label)}</th>'
        f"<td>{e(value)}</td></tr>"
        for label, value in _facts(d)
    )
    items = []
    for c in d.comments:
        link = f'<br><a href="{e(c.link)}">Open it in the cockpit</a>' if c.link else ""
        items.append(
            f"<li><strong>{e(_about(c))}</strong><br><q>{e(_excerpt(c.text))}</q>{link}</li>"
        )
    comments = f"<ul>{''.join(items)}</ul>" if items else "<p>No comment yesterday.</p>"
    cockpit = f'<p><a href="{e(d.cockpit)}">Open the cockpit</a></p>' if d.cockpit else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;line-height:1.4;color:#1a1a1a">'
        f"<p>Hello {e(d.display_name)},</p>"
        f'<h1 style="font-size:1.25em">{e(d.scope)}, {e(when)}</h1>'
        f'<table role="presentation">{rows}</table>'
        f'<h2 style="font-size:1.1em">Comments that matter</h2>{comments}{cockpit}'
        f'<p style="color:#555;font-size:0.9em">{e(_footer(d))}</p>'
        "</body></html>\n"
    )
