"""The engine, migrations, and every query the app and the workers make."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from app.core.events import Channel, ScoreKind
from app.db import search
from app.db.models import ResponseRow, ResponseThemeRow

_TABLE = SQLModel.metadata.tables[ResponseRow.__tablename__]
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant of our own: the PostgreSQL advisory lock migrations hold ("voc" in ASCII).
_MIGRATION_LOCK = 0x766F63


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the API read while a worker thread writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Instances and workers starting together would race to create the same tables:
            # the first migrates, the others wait for its commit and find nothing left to do.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ping(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


# SQLSTATE classes in which PostgreSQL blames the values: data exceptions, integrity
# constraint violations, and PL/pgSQL's RAISE (a trigger refusing the row).
_ROW_SQLSTATE_CLASSES = frozenset({"22", "23", "P0"})


def refuses_row(exc: BaseException) -> bool:
    """Whether the database refused a row's values, rather than failing whatever the values.

    PostgreSQL says which in the SQLSTATE: a missing table or column (class 42) is a
    ProgrammingError too, but would refuse every row. Without a SQLSTATE (SQLite, or a value
    the driver could not convert), a data, integrity or programming error (an unbindable value)
    blames the row; an operational or interface error means the database is unreachable.
    """
    if isinstance(exc, OverflowError):
        # sqlite3 raises it unwrapped for an integer beyond 64 bits.
        return True
    if not isinstance(exc, sa.exc.StatementError):
        return False
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if isinstance(state, str):
        return state[:2] in _ROW_SQLSTATE_CLASSES
    if isinstance(exc, sa.exc.DBAPIError):
        return isinstance(exc, sa.exc.DataError | sa.exc.IntegrityError | sa.exc.ProgrammingError)
    # A bare StatementError: a value failed conversion before it reached the database.
    return True


def error_text(exc: BaseException) -> str:
    """The database's own words, without the statement and parameters SQLAlchemy appends."""
    cause = exc.orig if isinstance(exc, sa.exc.StatementError) else exc
    return str(cause).strip() or type(cause).__name__


@dataclass(frozen=True)
class ResponseFilter:
    """Empty tuples match everything."""

    org_units: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    channel: Channel | None = None
    flagged: bool | None = None
    since: datetime | None = None
    score_kind: ScoreKind | None = None
    # Words the comment must all hold (app/db/search.py); None: any comment, or none.
    text: str | None = None
    # A theme the comment names (or one below it); None: any.
    theme: str | None = None


def _encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"r{row_id}".encode()).decode().rstrip("=")


# Row ids are INTEGER columns: 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1


def decode_cursor(cursor: str) -> int:
    """Raises ValueError on a cursor this API did not hand out."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    if not raw.startswith("r"):
        raise ValueError("not a cursor")
    row_id = int(raw[1:])
    if not 0 < row_id <= MAX_ID:
        raise ValueError("not a cursor")
    return row_id


def get_response(session: Session, response_id: str) -> ResponseRow | None:
    return session.exec(select(ResponseRow).where(ResponseRow.response_id == response_id)).first()


def list_responses(
    *, session: Session, where: ResponseFilter, before: int | None, limit: int
) -> tuple[list[ResponseRow], str | None]:
    """Newest first (by storage order); the cursor resumes strictly after the last row given."""
    query = select(ResponseRow)
    if where.org_units:
        query = query.where(col(ResponseRow.org_unit).in_(where.org_units))
    if where.touchpoints:
        query = query.where(col(ResponseRow.touchpoint).in_(where.touchpoints))
    if where.channel is not None:
        query = query.where(ResponseRow.channel == where.channel.value)
    if where.score_kind is not None:
        query = query.where(ResponseRow.score_kind == where.score_kind.value)
    if where.flagged is not None:
        query = query.where(ResponseRow.dissatisfied == where.flagged)
    if where.since is not None:
        query = query.where(ResponseRow.submitted_at >= where.since)
    if where.text is not None:
        query = query.where(search.matches(session.get_bind().dialect.name, where.text))
    if where.theme is not None:
        named = select(ResponseThemeRow.response_row).where(ResponseThemeRow.theme == where.theme)
        if where.org_units:
            named = named.where(col(ResponseThemeRow.org_unit).in_(where.org_units))
        query = query.where(col(ResponseRow.id).in_(named))
    if before is not None:
        query = query.where(col(ResponseRow.id) < before)
    rows = list(session.exec(query.order_by(col(ResponseRow.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last_id = rows[-1].id if rows else None
    return rows, _encode_cursor(last_id) if more and last_id is not None else None
