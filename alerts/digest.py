"""The daily digest: what it holds, who is due for it and when, which touchpoint broke the
corridor, and its words in the reader's language (subject, plain text and HTML). Pure:
app/digests.py reads the database, claims the day and sends."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

from app.core.access import Role
from app.core.barometer import Counts, nps
from app.core.i18n import Texts, texts
from app.core.i18n import quote as quoted
from app.core.languages import Language

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
    # The names of the units it covers ("North"; "Store 12", "Store 14").
    scope: tuple[str, ...]
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
    # The language it is written in: the user's own choice, else the organisation's.
    language: Language = "en"


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


def scope_label(unit_names: Sequence[str], words: Texts) -> str:
    names = [" ".join(n.split()) for n in unit_names]
    if not names:
        return words.t("no units")
    if len(names) <= 3:
        return ", ".join(names)
    more = len(names) - 2
    return words.tn(
        "{units} and {n} more unit", "{units} and {n} more units", more, units=", ".join(names[:2])
    )


def heading_day(day: date, words: Texts) -> str:
    """Sunday 6 December 2026; dimanche 6 décembre 2026; domenica 6 dicembre 2026."""
    # One pattern, the names the locale's: it is how French and Italian write a day in full,
    # and English as the digest always did (CLDR's full English date is American).
    return format_date(day, "EEEE d MMMM y", locale=words.language)


def render(digest: Digest) -> Rendered:
    """The digest in its language (`Digest.language`)."""
    d = digest
    words = texts(d.language)
    scope = scope_label(d.scope, words)
    when = heading_day(d.day, words)
    subject = words.t(
        "Daily digest for {scope}, {day}: {headline}",
        scope=scope,
        day=when,
        headline=_headline(d.nps_day, words),
    )
    return Rendered(
        subject=" ".join(subject.split()),
        text=_text(d, words, scope, when),
        html=_html(d, words, scope, when, subject),
    )


def _headline(figure: Nps, words: Texts) -> str:
    if figure.value is None:
        return words.t("no NPS answers")
    return words.t("NPS {figure}", figure=_nps(figure, words))


def _signed(value: float) -> str:
    # Half away from zero, never "-0": NPS is read as a whole number.
    whole = int(math.copysign(math.floor(abs(value) + 0.5), value))
    return "0" if whole == 0 else f"{whole:+d}"


def _nps(figure: Nps, words: Texts) -> str:
    """`+12 on 34 answers`: the count always beside the figure, no figure without answers."""
    if figure.value is None:
        return words.t("no answers")
    return words.tn(
        "{nps} on {n} answer", "{nps} on {n} answers", figure.answers, nps=_signed(figure.value)
    )


def _nps_detail(figure: Nps, words: Texts) -> str:
    if figure.value is None:
        return words.t("no answers")
    return words.t(
        "{figure} ({promoters}, {detractors})",
        figure=_nps(figure, words),
        promoters=words.tn("{n} promoter", "{n} promoters", figure.promoters),
        detractors=words.tn("{n} detractor", "{n} detractors", figure.detractors),
    )


def _facts(d: Digest, words: Texts) -> list[tuple[str, str]]:
    a, t, tn = d.alerts, words.t, words.tn
    broken = t(
        "no touchpoint fell {points} points below its 7 days on {answers} answers or more",
        points=words.number(CORRIDOR_MIN_FALL),
        answers=words.number(CORRIDOR_MIN_ANSWERS),
    )
    if d.broken is not None:
        b = d.broken
        broken = t(
            "{touchpoint}: NPS {day}, against {week} over 7 days",
            touchpoint=b.touchpoint,
            day=_nps(b.day, words),
            week=_nps(b.week, words),
        )
    alerts = t(
        "{opened}, {closed}; {overdue}",
        opened=tn("{n} opened", "{n} opened", a.opened),
        closed=tn("{n} closed", "{n} closed", a.closed),
        overdue=tn("{n} overdue now", "{n} overdue now", a.overdue),
    )
    return [
        (t("NPS yesterday"), _nps_detail(d.nps_day, words)),
        (t("NPS over 7 days"), _nps_detail(d.nps_week, words)),
        (t("Alerts yesterday"), alerts),
        (t("Praise yesterday"), words.number(d.praise)),
        (t("Where the corridor broke"), broken),
    ]


def _about(c: Comment, words: Texts) -> str:
    said = {
        "kind": c.score_kind.upper(),
        "score": words.number(c.score),
        "unit": c.unit_name,
        "touchpoint": c.touchpoint,
    }
    if c.kind == "worst":
        return words.t("Worst: {kind} {score} at {unit}, {touchpoint}", **said)
    return words.t("Best: {kind} {score} at {unit}, {touchpoint}", **said)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"


def _footer(d: Digest, words: Texts) -> str:
    hour = format(d.hour, "02d") + ":00"
    return words.t(
        "Sent every day at {hour} ({timezone}) to {email}. Change the hour or stop it in the "
        "cockpit (PUT /api/v1/me/digest).",
        hour=hour,
        timezone=d.timezone,
        email=d.email,
    )


def _text(d: Digest, words: Texts, scope: str, when: str) -> str:
    t = words.t
    lines = [t("Hello {name},", name=d.display_name), "", f"{scope}, {when}", ""]
    lines += [t("{label}: {value}", label=label, value=value) for label, value in _facts(d, words)]
    lines += ["", t("Comments that matter")]
    if not d.comments:
        lines.append(t("No comment yesterday."))
    for c in d.comments:
        lines += [_about(c, words), "  " + words.say(quoted(_excerpt(c.text)))]
        if c.link:
            lines.append("  " + t("Open it: {link}", link=c.link))
    if d.cockpit:
        lines += ["", t("Open the cockpit: {link}", link=d.cockpit)]
    lines += ["", _footer(d, words)]
    return "\n".join(lines) + "\n"


def _html(d: Digest, words: Texts, scope: str, when: str, subject: str) -> str:
    e, t = html.escape, words.t
    rows = "".join(
        f'<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">{e(label)}</th>'
        f"<td>{e(value)}</td></tr>"
        for label, value in _facts(d, words)
    )
    open_it = e(t("Open it in the cockpit"))
    items = []
    for c in d.comments:
        link = f'<br><a href="{e(c.link)}">{open_it}</a>' if c.link else ""
        items.append(
            f"<li><strong>{e(_about(c, words))}</strong><br><q>{e(_excerpt(c.text))}</q>{link}</li>"
        )
    none = e(t("No comment yesterday."))
    comments = f"<ul>{''.join(items)}</ul>" if items else f"<p>{none}</p>"
    cockpit = ""
    if d.cockpit:
        label = e(t("Open the cockpit"))
        cockpit = f'<p><a href="{e(d.cockpit)}">{label}</a></p>'
    hello = e(t("Hello {name},", name=d.display_name))
    matter = e(t("Comments that matter"))
    return (
        f'<!DOCTYPE html><html lang="{words.language}"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;line-height:1.4;color:#1a1a1a">'
        f"<p>{hello}</p>"
        f'<h1 style="font-size:1.25em">{e(scope)}, {e(when)}</h1>'
        f'<table role="presentation">{rows}</table>'
        f'<h2 style="font-size:1.1em">{matter}</h2>{comments}{cockpit}'
        f'<p style="color:#555;font-size:0.9em">{e(_footer(d, words))}</p>'
        "</body></html>\n"
    )
