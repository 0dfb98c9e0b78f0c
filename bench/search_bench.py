"""Comment search at scale: a region's word query over N comments on PostgreSQL.

Fills a scratch database (created, then dropped, by this script) with --comments responses
whose comments are real texts taken in rotation: the English, French and Italian comments of
bench/data/*.tsv and, when --data holds them, the UCI sentences and airline tweets of
../shared/data (English). They go to the stores of a generated company (app/company.py: 500
stores in 10 regions), newest last, loaded with COPY at schema revision 0012 (the org tree
itself is not stored: a region's scope is its units, as the API resolves them). Then the
search migration (0013) indexes the rows already there, as a production table's, and is timed.

Then, as the read API asks it (`store.list_responses`, ORM rows included; HTTP aside): the
first page (50 rows, newest first) of each query in one region's scope, one at a time,
--requests times or until --seconds have passed. Prints each query's matches in the whole
table and in the region, and its p50, p95 and p99 in ms; the naive ILIKE it replaces is timed
for a common and a rare word.

    python bench/search_bench.py [--comments 1000000] [--server postgresql://...]
        [--data ../shared/data] [--requests 200] [--seconds 20]

Without --server it starts a throwaway PostgreSQL cluster (as the tests do); with it, the
role in the URL must be allowed to create databases.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import company  # noqa: E402
from app.db import search, store  # noqa: E402
from app.db.models import ResponseRow  # noqa: E402
from bench.stack import percentile, scratch  # noqa: E402

REGION = "region-03"
PAGE = 50
BEFORE_SEARCH = "0012"
# (what it shows, the query typed)
QUERIES = [
    ("common word", "service"),
    ("two words", "customer service"),
    ("rare word", "bizarre"),
    ("French word", "remboursement"),
    ("French word, plural", "remboursements"),
    ("French, accents left out", "decu"),
    ("Italian word", "consegna"),
    ("no match", "zyxwvut"),
]
# The naive search this replaces, for a common and a rare word.
BEFORE = ["service", "bizarre"]
LANGUAGES = {"en_": "en", "fr_": "fr", "it_": "it"}
COLUMNS = [
    "response_id",
    "survey_id",
    "submitted_at",
    "received_at",
    "score",
    "score_kind",
    "comment",
    "language",
    "channel",
    "touchpoint",
    "org_unit",
    "customer_type",
    "metadata",
    "dissatisfied",
    "severity",
    "comment_language",
    "negative_comment",
]
TOUCHPOINTS = ["purchase", "delivery", "installation", "support", "billing", "renewal"]
CHANNELS = ["web", "email", "sms", "app", "phone", "store"]


def texts(data: Path | None) -> list[tuple[str, str]]:
    """(comment, language) of every real comment at hand, interleaved by source."""
    sources: list[list[tuple[str, str]]] = []
    for path in sorted((ROOT / "bench" / "data").glob("*.tsv")):
        language = next(v for k, v in LANGUAGES.items() if path.name.startswith(k))
        lines = path.read_text(encoding="utf-8").splitlines()
        sources.append([(line.split("\t")[0], language) for line in lines if line.strip()])
    if data is not None and data.is_dir():
        for path in sorted(data.glob("uci_*_labelled.txt")):
            lines = path.read_text(encoding="utf-8").splitlines()
            sources.append([(line.split("\t")[0].strip(), "en") for line in lines if line.strip()])
        tweets = data / "airline_tweets.csv"
        if tweets.exists():
            with tweets.open(encoding="utf-8", newline="") as f:
                sources.append([(row["text"], "en") for row in csv.DictReader(f)])
    mixed = [text for source in sources for text in source if text[0]]
    random.Random(7).shuffle(mixed)
    return mixed


@contextmanager
def scratch_database(server: str | None) -> Iterator[str]:
    """A new database on `server` (or on a throwaway cluster), dropped afterwards."""
    stop = None
    if server is None:
        from tests.pg import start_postgres

        server, stop = start_postgres()
    name = f"voc_search_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield server.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with psycopg.connect(server, autocommit=True) as connection:
                drop = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                connection.execute(drop)
    finally:
        if stop is not None:
            stop()


def upgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def load(url: str, firm: company.Company, comments: list[tuple[str, str]], count: int) -> None:
    """`count` responses with comments, newest last, with COPY."""
    rng = random.Random(1)
    stores = [s.id for s in firm.stores]
    weights = [s.volume for s in firm.stores]
    end = datetime.now(UTC)
    start = end - timedelta(days=90)
    step = (end - start) / count
    copy = f"COPY responses ({', '.join(COLUMNS)}) FROM STDIN"
    with (
        psycopg.connect(url) as connection,
        connection.cursor() as cursor,
        cursor.copy(copy) as out,
    ):
        for i, unit in enumerate(rng.choices(stores, weights, k=count)):
            comment, language = comments[i % len(comments)]
            at = start + i * step
            score = rng.randrange(11)
            channel, touchpoint = CHANNELS[i % len(CHANNELS)], TOUCHPOINTS[i % len(TOUCHPOINTS)]
            severity = "high" if score <= 3 else "none"
            row = [f"bench-{i}", "nps-bench", at, at, score, "nps", comment, language, channel]
            row += [touchpoint, unit, "person", "{}", score <= 6, severity, language, False]
            out.write_row(row)


def region_units(firm: company.Company) -> tuple[str, ...]:
    """The units a region manager's read covers: the region and its stores."""
    return tuple(sorted([REGION, *(s.id for s in firm.stores if s.region == REGION)]))


def first_page(engine: sa.Engine, units: tuple[str, ...], text: str) -> int:
    where = store.ResponseFilter(org_units=units, text=text)
    with Session(engine) as session:
        rows, _ = store.list_responses(session=session, where=where, before=None, limit=PAGE)
    return len(rows)


def ilike_page(engine: sa.Engine, units: tuple[str, ...], text: str) -> int:
    query = (
        select(ResponseRow)
        .where(col(ResponseRow.org_unit).in_(units), col(ResponseRow.comment).ilike(f"%{text}%"))
        .order_by(col(ResponseRow.id).desc())
        .limit(PAGE + 1)
    )
    with Session(engine) as session:
        return min(PAGE, len(list(session.exec(query))))


def timed(ask: object, requests: int, seconds: float) -> list[float]:
    assert callable(ask)
    ask()  # warm: the first read of a query's pages
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while len(times) < requests and (not times or time.monotonic() < deadline):
        started = time.perf_counter()
        ask()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def matches(engine: sa.Engine, units: tuple[str, ...], text: str) -> tuple[int, int]:
    """How many comments match `text`: in the whole table, in the region."""
    condition = search.matches("postgresql", text)
    counted = sa.select(sa.func.count()).select_from(ResponseRow).where(condition)
    with Session(engine) as session:
        everywhere = session.execute(counted).scalar_one()
        scoped = counted.where(col(ResponseRow.org_unit).in_(units))
        return everywhere, session.execute(scoped).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--server", help="a PostgreSQL URL whose role may create databases")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    firm = company.build(500)
    comments = texts(args.data)
    with scratch("voc-search-"), scratch_database(args.server) as url:
        engine = store.make_engine(url)
        upgrade(engine, BEFORE_SEARCH)
        started = time.monotonic()
        load(url, firm, comments, args.comments)
        loaded_s = time.monotonic() - started
        started = time.monotonic()
        upgrade(engine, "head")
        indexed_s = time.monotonic() - started
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE responses"))
        units = region_units(firm)
        print(
            f"{args.comments:,} comments ({len(comments):,} distinct texts) in "
            f"{len(firm.stores)} stores: loaded in {loaded_s:.0f} s, indexed by the migration "
            f"in {indexed_s:.0f} s; {REGION}: {len(units) - 1} stores",
            flush=True,
        )
        header = f"{'query':<40} {'matches':>9} {'in region':>9} {'rows':>4}"
        print(f"{header} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'n':>4}")
        for label, text in QUERIES:
            everywhere, scoped = matches(engine, units, text)
            rows = first_page(engine, units, text)
            times = timed(lambda t=text: first_page(engine, units, t), args.requests, args.seconds)
            _row(f"{label}: {text!r}", everywhere, scoped, rows, times)
        for text in BEFORE:
            rows = ilike_page(engine, units, text)
            times = timed(lambda t=text: ilike_page(engine, units, t), args.requests, args.seconds)
            _row(f"before, ILIKE: {text!r}", None, None, rows, times)
        engine.dispose()


def _row(
    label: str, everywhere: int | None, scoped: int | None, rows: int, times: list[float]
) -> None:
    found = "" if everywhere is None else f"{everywhere:,}"
    local = "" if scoped is None else f"{scoped:,}"
    figures = " ".join(f"{percentile(times, q):>7.1f}" for q in (0.5, 0.95, 0.99))
    print(f"{label:<40} {found:>9} {local:>9} {rows:>4} {figures} {len(times):>4}", flush=True)


if __name__ == "__main__":
    main()
