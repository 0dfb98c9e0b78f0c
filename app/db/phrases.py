"""The daily phrase counts: added with each batch, read for emerging topics, pruned."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.core.emerging import (
    BEFORE_DAYS,
    DAYS_KEPT,
    WEEK_DAYS,
    Emerging,
    day_counts,
    emerging,
    epoch_day,
)
from app.core.writes import Said
from app.db import bulk
from app.db.models import CommentDayRow, PhraseDayRow

PHRASE_DAYS = SQLModel.metadata.tables[PhraseDayRow.__tablename__]
COMMENT_DAYS = SQLModel.metadata.tables[CommentDayRow.__tablename__]


def add(connection: sa.Connection, said: Iterable[Said]) -> None:
    """Count stored comments' phrases, rows in key order (as every worker locks them)."""
    phrases, comments = day_counts(said)
    if comments:
        rows = [
            {"day": day, "language": language, "comments": n}
            for (day, language), n in sorted(comments.items())
        ]
        bulk.add_counts(connection, COMMENT_DAYS, ["day", "language"], rows)
    if phrases:
        rows = [
            {"day": day, "language": language, "phrase": phrase, "comments": n}
            for (day, language, phrase), n in sorted(phrases.items())
        ]
        bulk.add_counts(connection, PHRASE_DAYS, ["day", "language", "phrase"], rows)


def prune(connection: sa.Connection, now: datetime) -> None:
    oldest = epoch_day(now) - DAYS_KEPT + 1
    for table in (PHRASE_DAYS, COMMENT_DAYS):
        connection.execute(sa.delete(table).where(table.c.day < oldest))


def find_emerging(
    engine: sa.Engine,
    now: datetime,
    *,
    known: Callable[[str, str], bool],
    min_count: int,
    min_lift: float,
) -> list[Emerging]:
    """This week (the last 7 UTC days, today included) against the 28 days before: the
    phrases said at least `min_count` times this week are summed first, then only their
    counts before are read."""
    today = epoch_day(now)
    week_from, before_from = today - WEEK_DAYS + 1, today - WEEK_DAYS - BEFORE_DAYS + 1
    p, c = PHRASE_DAYS.c, COMMENT_DAYS.c
    with engine.connect() as connection:
        week_total = sa.func.sum(p.comments)
        week = {
            (row.language, row.phrase): int(row.total)
            for row in connection.execute(
                sa.select(p.language, p.phrase, week_total.label("total"))
                .where(p.day >= week_from)
                .group_by(p.language, p.phrase)
                .having(week_total >= min_count)
            )
        }
        week_comments, before_comments = (
            {
                row.language: int(row.total)
                for row in connection.execute(
                    sa.select(c.language, sa.func.sum(c.comments).label("total"))
                    .where(c.day >= since, c.day < until)
                    .group_by(c.language)
                )
            }
            for since, until in ((week_from, today + 1), (before_from, week_from))
        )
        before: dict[tuple[str, str], int] = {}
        wanted = sorted(week)
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for row in connection.execute(
                sa.select(p.language, p.phrase, sa.func.sum(p.comments).label("total"))
                .where(
                    p.day >= before_from,
                    p.day < week_from,
                    sa.tuple_(p.language, p.phrase).in_(part),
                )
                .group_by(p.language, p.phrase)
            ):
                before[row.language, row.phrase] = int(row.total)
    return emerging(
        week,
        before,
        week_comments,
        before_comments,
        known=known,
        min_count=min_count,
        min_lift=min_lift,
    )
