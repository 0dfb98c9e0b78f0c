"""The daily digest's edges: who is due now, what their scope did the day before (read from the
database), claiming that day so that one instance alone sends it, and the e-mail. What it
says, and when it is due, is decided in `alerts.digest`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import SQLModel
from starlette.concurrency import run_in_threadpool

from alerts import digest as words
from alerts.notify import EmailNotifier
from alerts.notify.retry import Attempt
from app.core.barometer import PROMOTER_FROM, Counts
from app.core.events import ScoreKind
from app.core.languages import choose
from app.core.org import OrgTree
from app.core.settings import Settings
from app.db import aggregates, alerting, directory
from app.db.models import AlertRow, DigestSentRow, PraiseRow, ResponseRow, UserRow
from app.notifications import email_relay

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_T = SQLModel.metadata.tables
_SENT = _T[DigestSentRow.__tablename__]
_RESPONSES = _T[ResponseRow.__tablename__]
_ALERTS = _T[AlertRow.__tablename__]
_PRAISE = _T[PraiseRow.__tablename__]

# A send that failed for a reason a later try could overcome (the relay unreachable, a 4xx
# reply) gives its day back, and a later round tries again: at most this many times per
# instance, so that a relay down for a few minutes does not cost the day's digest while a
# recipient refused all day is not retried every minute. Then the claim stays: given up.
# A connection lost after the relay took the message can make a retry a second copy: rarer
# and cheaper than a lost day (docs/digest.md).
MAX_TRIES = 5
# Claims are a month's record of who was sent which day; older ones are deleted.
CLAIMS_KEPT = timedelta(days=31)
WORST_COMMENTS = 2


class Mailer(Protocol):
    """What sending needs: one try at a ready message (`EmailNotifier.send_once`)."""

    def send_once(self, message: EmailMessage) -> Attempt: ...


def mailer(settings: Settings) -> EmailNotifier | None:
    """The SMTP relay of VOC_SMTP_*, or None without VOC_SMTP_HOST (then no digest is sent)."""
    return email_relay(settings, channel="digest")


# Reading the day


def gather(
    connection: sa.Connection,
    tree: OrgTree,
    settings: Settings,
    user: UserRow,
    day: date,
    now: datetime,
) -> words.Digest | None:
    """`user`'s digest of the local `day`, with overdue alerts as of `now`; None when their
    scope holds no unit (nothing to report)."""
    visible = directory.principal(user).visible(tree)
    if visible is not None and not visible:
        return None
    tz = words.zone(user.timezone, settings.timezone)
    start, end = words.day_bounds(day, tz)
    week_start, _ = words.day_bounds(day - timedelta(days=words.WEEK_DAYS - 1), tz)
    day_counts, week_counts = _touchpoints(connection, tree, visible, start, end, week_start)
    units = sorted(visible) if visible is not None else None
    tops = tree.tops(user.units if visible is not None else None)
    return words.Digest(
        display_name=user.display_name,
        email=user.email or "",
        scope=tuple(_name(tree, u) for u in tops),
        day=day,
        hour=user.digest_hour,
        timezone=tz.key,
        nps_day=words.Nps.of(_total(day_counts.values())),
        nps_week=words.Nps.of(_total(week_counts.values())),
        alerts=_alerts(connection, units, start, end, now),
        praise=_praise(connection, units, start, end),
        broken=words.broken_touchpoint(day_counts, week_counts, settings.journey),
        comments=_comments(connection, tree, units, start, end, settings.public_url),
        cockpit=f"{settings.public_url.rstrip('/')}/" if settings.public_url else None,
        # Mail is sent with no browser to ask: the user's own choice, else the language their
        # browser asked for at their last sign-in, else the organisation's.
        language=choose(user.language, user.browser_language, settings.default_language),
    )


def _touchpoints(
    connection: sa.Connection,
    tree: OrgTree,
    visible: frozenset[str] | None,
    start: datetime,
    end: datetime,
    week_start: datetime,
) -> tuple[dict[str, Counts], dict[str, Counts]]:
    """The scope's counts per touchpoint on the day and over the 7 days ending with it, summed
    from the aggregates' hour rows."""
    day_from, until = words.hour_span(start, end)
    week_from, _ = words.hour_span(week_start, end)
    sums = aggregates.scope_sums(
        connection,
        tree,
        covered=sorted(visible) if visible is not None else None,
        touchpoints=(),
        since_hour=week_from,
        # Minute rows hold the last hours only, all of them in hour rows too: none is needed.
        since_minute=until * 60,
    )
    day: dict[str, Counts] = {}
    week: dict[str, Counts] = {}
    for touchpoint, hour, counts in sums.hours:
        if hour >= until:
            continue
        week.setdefault(touchpoint, Counts()).merge(counts)
        if hour >= day_from:
            day.setdefault(touchpoint, Counts()).merge(counts)
    return day, week


def _total(parts: Collection[Counts]) -> Counts:
    total = Counts()
    for counts in parts:
        total.merge(counts)
    return total


def _name(tree: OrgTree, unit_id: str) -> str:
    unit = tree.get(unit_id)
    return unit.name if unit is not None else unit_id


def _alerts(
    connection: sa.Connection,
    units: list[str] | None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> words.AlertCounts:
    """Opened on the day; closed on the day, which is when the loop closed with a resolution
    (an alert closed later counts on the day it was resolved); overdue as of `now`."""
    a = _ALERTS.c
    opened = sa.and_(a.created_at >= start, a.created_at < end)
    resolved = sa.and_(a.resolved_at >= start, a.resolved_at < end)
    query = sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((opened, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((resolved, 1), else_=0)), 0),
    ).where(sa.or_(opened, resolved))
    if units is not None:
        query = query.where(a.org_unit.in_(units))
    found = connection.execute(query).one()
    overdue, _ = alerting.open_now(connection, org_units=units or [], now=now)
    return words.AlertCounts(opened=int(found[0]), closed=int(found[1]), overdue=overdue)


def _praise(
    connection: sa.Connection, units: list[str] | None, start: datetime, end: datetime
) -> int:
    p = _PRAISE.c
    query = sa.select(sa.func.count()).where(p.submitted_at >= start, p.submitted_at < end)
    if units is not None:
        query = query.where(p.org_unit.in_(units))
    return int(connection.execute(query).scalar_one())


def _comments(
    connection: sa.Connection,
    tree: OrgTree,
    units: list[str] | None,
    start: datetime,
    end: datetime,
    public_url: str | None,
) -> tuple[words.Comment, ...]:
    """The two worst comments of the day (dissatisfied customers, the most negative reading
    first) and the best (a promoter, the most positive reading first). Unread comments
    (polarity unknown) come after the read ones; a few rows through the day's index."""
    r = _RESPONSES.c
    base = sa.select(
        r.response_id, r.org_unit, r.touchpoint, r.score_kind, r.score, r.comment
    ).where(r.submitted_at >= start, r.submitted_at < end, r.comment.is_not(None))
    if units is not None:
        base = base.where(r.org_unit.in_(units))
    unread_last = sa.case((r.polarity.is_(None), 1), else_=0)
    worst = (
        base.where(r.dissatisfied.is_(True))
        .order_by(unread_last, r.polarity, r.score, r.response_id)
        .limit(WORST_COMMENTS)
    )
    best = (
        base.where(r.score_kind == ScoreKind.NPS.value, r.score >= PROMOTER_FROM)
        .order_by(unread_last, r.polarity.desc(), r.score.desc(), r.response_id)
        .limit(1)
    )
    found: list[words.Comment] = []
    for kind, query in (("worst", worst), ("best", best)):
        for row in connection.execute(query):
            found.append(
                words.Comment(
                    kind=kind,  # type: ignore[arg-type]
                    response_id=row.response_id,
                    unit_name=_name(tree, row.org_unit),
                    touchpoint=row.touchpoint,
                    score_kind=row.score_kind,
                    score=row.score,
                    text=row.comment,
                    link=words.response_link(public_url, row.response_id),
                )
            )
    return tuple(found)


# Claiming a day


def claim(engine: sa.Engine, user_id: int, day: str, at: datetime) -> bool:
    """Take `user_id`'s digest of the local `day` (the day it is sent on), in a transaction of
    its own, before sending: False when another instance (or an earlier round) has it."""
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(_SENT).values(user_id=user_id, day=day, sent_at=at))
    except sa.exc.IntegrityError:
        return False
    return True


def release(engine: sa.Engine, user_id: int, day: str) -> None:
    """Give the day back after a send that may succeed later."""
    with engine.begin() as connection:
        connection.execute(sa.delete(_SENT).where(_SENT.c.user_id == user_id, _SENT.c.day == day))


def prune(engine: sa.Engine, now: datetime) -> None:
    """Delete claims older than CLAIMS_KEPT (days compare as their ISO text)."""
    oldest = (now.astimezone(UTC) - CLAIMS_KEPT).date().isoformat()
    with engine.begin() as connection:
        connection.execute(sa.delete(_SENT).where(_SENT.c.day < oldest))


def _claimed(engine: sa.Engine, wanted: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
    if not wanted:
        return set()
    days = sorted({day for _, day in wanted})
    query = sa.select(_SENT.c.user_id, _SENT.c.day).where(_SENT.c.day.in_(days))
    with engine.connect() as connection:
        return {(row.user_id, row.day) for row in connection.execute(query)}


# Sending


def message(digest: words.Digest, sender: str, now: datetime) -> EmailMessage:
    """The e-mail, in the digest's language: plain text, and HTML as its alternative.
    ValueError for an address that cannot go in a header."""
    rendered = words.render(digest)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr((digest.display_name, digest.email))
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(now.astimezone(UTC), usegmt=True)
    # The sender's domain, not make_msgid's default: that one is a DNS lookup each time.
    mail["Message-ID"] = make_msgid("voc-digest", domain=parseaddr(sender)[1].rpartition("@")[2])
    # Out-of-office robots must not answer an automatic message (RFC 3834).
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    # After the content: setting it clears the Content-* headers.
    mail["Content-Language"] = digest.language
    return mail


@dataclass
class Round:
    """What one round did, by username."""

    sent: list[str] = field(default_factory=list)
    # Due, but another instance (or an earlier round) claimed the day first.
    taken: list[str] = field(default_factory=list)
    # Failed; given back to be tried again by a later round.
    retrying: list[str] = field(default_factory=list)
    # Failed for good, or too many times: the day is not sent.
    failed: list[str] = field(default_factory=list)


class DigestSender:
    """Sends each user their digest once a day at their local hour. Every instance may run it:
    the day's claim (`claim`) lets one of them send and the others skip."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        units: directory.TreeCache,
        *,
        send: Mailer | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._settings, self._engine, self._units = settings, engine, units
        self._mailer = send if send is not None else mailer(settings)
        self._clock = clock
        # Failed tries per (user id, day) on this instance.
        self._tries: dict[tuple[int, str], int] = {}
        self._pruned_on: date | None = None

    def due(self, now: datetime) -> list[tuple[UserRow, date]]:
        """Users whose digest of a local day is due at `now` and not claimed yet, with that
        day (the day it is sent on)."""
        candidates: list[tuple[UserRow, date]] = []
        for user in directory.list_users(self._engine):
            if user.id is None or user.disabled or not user.email:
                continue
            if not words.wants_digest(user.role, user.digest):
                continue
            tz = words.zone(user.timezone, self._settings.timezone)
            day = words.due_day(now, tz, user.digest_hour)
            if day is not None:
                candidates.append((user, day))
        keys = {(u.id, d.isoformat()) for u, d in candidates if u.id is not None}
        claimed = _claimed(self._engine, keys)
        # A user no longer due (sent, or the day is over) needs no count of tries.
        self._tries = {k: n for k, n in self._tries.items() if k in keys and k not in claimed}
        return [(u, d) for u, d in candidates if (u.id, d.isoformat()) not in claimed]

    def send_due(self) -> Round:
        """One round: claim, gather and send each digest due now."""
        done = Round()
        if self._mailer is None:
            return done
        now = self._clock()
        if self._pruned_on != now.date():
            prune(self._engine, now)
            self._pruned_on = now.date()
        for user, day in self.due(now):
            if not self._send(user, day, now, done):
                # Nothing answered: the relay is down or unreachable. The others would wait for
                # the same timeout each; they keep their turn for the next round.
                break
        return done

    async def run(self, every_s: float) -> None:
        """Until cancelled: a round every `every_s` seconds; a failed round is logged and tried
        again next time."""
        if self._mailer is None:
            log.info("no VOC_SMTP_HOST: daily digests are not sent")
            return
        while True:
            try:
                await run_in_threadpool(self.send_due)
            except Exception:
                log.exception("digest round failed")
            await asyncio.sleep(every_s)

    def _send(self, user: UserRow, sent_on: date, now: datetime, done: Round) -> bool:
        """Claim, gather, send one digest; False when the relay could not be reached."""
        assert user.id is not None and self._mailer is not None
        key = (user.id, sent_on.isoformat())
        if not claim(self._engine, user.id, key[1], now):
            done.taken.append(user.username)
            return True
        try:
            with self._engine.connect() as connection:
                tree = self._units.get()
                day = words.reported_day(sent_on)
                digest = gather(connection, tree, self._settings, user, day, now)
            if digest is None:
                return True  # no units, nothing to say: the day stays claimed
            mail = message(digest, self._settings.smtp_sender, now)
        except ValueError as exc:  # an address that cannot go in a header: no try would do
            self._failed(key, user, done, Attempt(False, error=str(exc)))
            return True
        except Exception as exc:
            # A query failed: a later round may do better. One user's failure is not the others'.
            log.exception("digest not gathered", extra={"user": user.username})
            self._failed(key, user, done, Attempt(False, True, error=repr(exc)))
            return True
        attempt = self._mailer.send_once(mail)
        if not attempt.ok:
            self._failed(key, user, done, attempt)
            return not (attempt.retryable and attempt.status_code is None)
        self._tries.pop(key, None)
        done.sent.append(user.username)
        log.info("digest sent", extra={"user": user.username, "day": key[1]})
        return True

    def _failed(self, key: tuple[int, str], user: UserRow, done: Round, attempt: Attempt) -> None:
        tries = self._tries[key] = self._tries.get(key, 0) + 1
        detail = {"user": user.username, "day": key[1], "tries": tries, "error": attempt.error}
        if attempt.retryable and tries < MAX_TRIES:
            release(self._engine, *key)
            done.retrying.append(user.username)
            log.warning("digest not sent; trying again next round", extra=detail)
        else:
            self._tries.pop(key, None)
            done.failed.append(user.username)
            log.error("digest not sent; given up for the day", extra=detail)
