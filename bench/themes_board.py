"""The Themes screen at a company's scale: `GET /api/v1/themes` over weeks of aggregate rows.

The target: a company of 500 units and 1,000,000 responses in 7 days shows its Themes screen with
a p95 of at most 100 ms, read from aggregate rows only. For each database (SQLite, PostgreSQL):
a new database holding a generated company's org tree (app/company.py: 500 stores in 10
regions), then the aggregate rows of --responses responses in the last 7 days and as many in
each week before (--weeks 2: the 7d board's period before; 8: all the 28d board and its period
before read, as in a database two months old). No response is stored: each is made up as the
aggregates count one (`Counted`: its tally and 0-3 themes of the default taxonomy, a few themes
named far more than others, in a tone that follows the score), summed a day at a time by the
product's own `increments()`, and the rows written straight into the empty tables (PostgreSQL:
COPY; SQLite: executemany, one transaction a day): a day's rows hold its hours only, so no two
days add to the same row. One `voc api` process (no worker) then serves an admin, who asks for
the board of the company, a region and a store for 7d, today and 28d, --requests times each or
until --seconds have passed, one request at a time; the same boards are also computed in this
process with `rollups.theme_board` (no HTTP), to show how much of a request the database and
the board's arithmetic take.

    python bench/themes_board.py [--responses 1000000] [--weeks 2] [--units 500]
        [--databases sqlite,postgresql] [--requests 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import multiprocessing
import os
import random
import signal
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import company  # noqa: E402
from app.core.access import Role  # noqa: E402
from app.core.aggregates import (  # noqa: E402
    COUNT_FIELDS,
    THEME_COUNT_FIELDS,
    Counted,
    Increments,
    increments,
)
from app.core.barometer import Tally  # noqa: E402
from app.core.events import ScoreKind, ThemeMention, Tone  # noqa: E402
from app.core.org import OrgTree  # noqa: E402
from app.core.theme_board import Period, ThemeBoard  # noqa: E402
from app.db import directory, rollups, store  # noqa: E402
from app.db.aggregates import (  # noqa: E402
    HOURS,
    MINUTES,
    ROLLUP_HOURS,
    ROLLUP_MINUTES,
    ROLLUP_THEME_HOURS,
    THEME_HOURS,
)
from app.demo import TOUCHPOINTS  # noqa: E402
from app.orgfile import read_units  # noqa: E402
from bench.stack import api, backends, databases, embedded_broker, percentile, scratch  # noqa: E402
from sentiment import themes as taxonomy  # noqa: E402

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SEED = 1
WEEK = 7 * 24
# Hours summed and written at a time: a day of the history (bounds memory, and no two chunks
# add to the same row).
CHUNK_HOURS = 24
PERIODS = (Period.WEEK, Period.TODAY, Period.FOUR_WEEKS)
TARGET_MS = 100
# Themes named by a comment: 0 to 3.
THEMES_NAMED = {0: 30, 1: 42, 2: 20, 3: 8}
# Each theme's weight is 1 / rank ** SKEW in the taxonomy's order, and the theme of a
# touchpoint's own trade is named TRADE_BOOST times more there.
SKEW = 1.0
TRADE_BOOST = 3.0
TRADE = {
    "purchase": "availability-stock",
    "delivery": "delivery",
    "installation": "appointments-installation",
    "support": "waiting-reachability",
    "billing": "billing-price",
}
# This week against the one before: deliveries got worse, outages fewer.
THIS_WEEK = {"delivery": 1.6, "network-outages": 0.6}
# The tone a theme is named in, by the customer's mood: (negative, neutral, positive, unread).
TONES = {
    "unhappy": (75, 18, 4, 3),
    "neutral": (30, 47, 20, 3),
    "happy": (5, 22, 70, 3),
}
TONE_ORDER = (Tone.NEGATIVE, Tone.NEUTRAL, Tone.POSITIVE, None)
# A comment naming a theme and its parent in different tones: the one that matters most wins.
PRECEDENCE = {Tone.NEGATIVE: 3, Tone.POSITIVE: 2, Tone.NEUTRAL: 1, None: 0}
POLARITY = {"unhappy": -0.55, "neutral": 0.0, "happy": 0.6}

T = TypeVar("T")
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Hour:
    start: datetime
    seconds: int
    """How much of it lies before the end (the current hour is under way)."""
    responses: int


def history(end: datetime, per_week: int, weeks: int) -> list[Hour]:
    """The UTC hours of `weeks` weeks up to `end`'s (the last 168 are what the 7d board reads),
    `per_week` responses in each week, more by day than by night in the stores' local time."""
    first = company.history_start(end, 7 * weeks)
    starts = [first + timedelta(hours=h) for h in range(weeks * WEEK)]
    found = []
    for week in (starts[w * WEEK : (w + 1) * WEEK] for w in range(weeks)):
        seconds = [min(3600, int((end - s).total_seconds()) + 1) for s in week]
        weights = [
            company.DAILY_RHYTHM[s.astimezone(company.TIMEZONE).hour] * n / 3600
            for s, n in zip(week, seconds, strict=True)
        ]
        counts = apportion(per_week, weights)
        found += [Hour(*hour) for hour in zip(week, seconds, counts, strict=True)]
    return found


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


class Customers:
    """Responses as the aggregates count them, made up in the company's proportions (its stores'
    sizes and moods, touchpoints, score kinds and comments: app/company.py), with the themes the
    default taxonomy would find in their comments. Deterministic for a seed."""

    def __init__(self, firm: company.Company, tree: OrgTree, *, week_starts: datetime) -> None:
        self._stores = firm.stores
        self._rolled = [tree.rolled_into(s.id) for s in firm.stores]
        self._store_cum = list(itertools.accumulate(s.volume for s in firm.stores))
        self._touchpoint_cum = list(
            itertools.accumulate(company.TOUCHPOINT_SHARE[tp] for tp in TOUCHPOINTS)
        )
        self._kinds = [ScoreKind(k) for k in company.KIND_SHARE]
        self._kind_cum = list(itertools.accumulate(company.KIND_SHARE.values()))
        self._named_cum = list(itertools.accumulate(THEMES_NAMED.values()))
        self._tone_cum = {mood: list(itertools.accumulate(w)) for mood, w in TONES.items()}
        self._week_starts = week_starts
        themes = taxonomy.load().themes
        self._ids = [t.id for t in themes]
        parents = {t.id: t.parent for t in themes}
        self._lineage = {t: _lineage(parents, t) for t in self._ids}
        self._theme_cum = {
            (week, tp): list(itertools.accumulate(self._weights(tp, week)))
            for week in (False, True)
            for tp in TOUCHPOINTS
        }
        # Immutable: one object for each theme and tone, shared by every response naming it.
        self._mentions = {
            (t, tone): ThemeMention(theme=t, tone=tone) for t in self._ids for tone in TONE_ORDER
        }

    def _weights(self, touchpoint: str, this_week: bool) -> list[float]:
        weights = []
        for rank, theme in enumerate(self._ids, start=1):
            weight = 1 / rank**SKEW
            weight *= TRADE_BOOST if TRADE.get(touchpoint) == theme else 1
            weight *= THIS_WEEK.get(theme, 1) if this_week else 1
            weights.append(weight)
        return weights

    def of(self, hours: Sequence[Hour]) -> Iterator[Counted]:
        """The responses of `hours`: the same whichever process makes them."""
        rng = random.Random(f"themes-{SEED}-{hours[0].start.isoformat()}")
        random_, choice, gauss, bisect_ = rng.random, rng.choice, rng.gauss, bisect.bisect
        last_store, total_volume = len(self._stores) - 1, self._store_cum[-1]
        touchpoint_cum, last_touchpoint = self._touchpoint_cum, len(TOUCHPOINTS) - 1
        for hour in hours:
            week = hour.start >= self._week_starts
            for _ in range(hour.responses):
                s = bisect_(self._store_cum, random_() * total_volume, 0, last_store)
                t = bisect_(touchpoint_cum, random_() * touchpoint_cum[-1], 0, last_touchpoint)
                touchpoint = TOUCHPOINTS[t]
                kind = self._kinds[bisect_(self._kind_cum, random_() * self._kind_cum[-1], 0, 2)]
                unhappy, roll = self._stores[s].unhappy[t], random_()
                if roll < unhappy:
                    mood = "unhappy"
                else:
                    mood = "neutral" if roll < unhappy + company.NEUTRAL_SHARE else "happy"
                commented = random_() >= company.NO_COMMENT
                polarity = None
                mentions: tuple[ThemeMention, ...] = ()
                if commented:
                    polarity = max(-1.0, min(1.0, POLARITY[mood] + gauss(0, 0.25)))
                    mentions = self._themes(rng, self._theme_cum[week, touchpoint], mood)
                tally = Tally(
                    org_unit=self._stores[s].id,
                    touchpoint=touchpoint,
                    submitted_at=hour.start + timedelta(seconds=int(random_() * hour.seconds)),
                    score_kind=kind,
                    score=choice(company.SCORES[kind][mood]),
                    polarity=polarity,
                    dissatisfied=mood == "unhappy",
                    negative_comment=commented and mood == "unhappy",
                )
                yield Counted("", tally, self._rolled[s], mentions)

    def _themes(self, rng: random.Random, cum: list[float], mood: str) -> tuple[ThemeMention, ...]:
        random_, bisect_ = rng.random, bisect.bisect
        named = bisect_(self._named_cum, random_() * self._named_cum[-1])
        if named == 0:
            return ()
        last, tone_cum = len(self._ids) - 1, self._tone_cum[mood]
        tones: dict[str, Tone | None] = {}
        for _ in range(named):
            theme = self._ids[bisect_(cum, random_() * cum[-1], 0, last)]
            tone = TONE_ORDER[bisect_(tone_cum, random_() * tone_cum[-1], 0, 3)]
            for named_or_above in self._lineage[theme]:
                said = tones.get(named_or_above, tone)
                tones[named_or_above] = max(tone, said, key=PRECEDENCE.__getitem__)
        return tuple(self._mentions[theme, tone] for theme, tone in tones.items())


def _lineage(parents: dict[str, str | None], theme: str) -> tuple[str, ...]:
    """A theme and the themes above it: a comment about refunds is about billing too."""
    found = [theme]
    while (parent := parents.get(found[-1])) is not None and parent not in found:
        found.append(parent)
    return tuple(found)


Rows = list[tuple[str, list[str], list[Row]]]


def table_rows(added: Increments) -> Rows:
    """Each table's rows of `added` as (table, columns, values), in key order."""
    key = attrgetter("org_unit", "touchpoint", "score_kind", "at")
    theme_key = attrgetter("org_unit", "touchpoint", "theme", "hour")
    counts, theme_counts = attrgetter(*COUNT_FIELDS), attrgetter(*THEME_COUNT_FIELDS)
    tables = {"hours": HOURS, "minutes": MINUTES}
    tables |= {"rollup_hours": ROLLUP_HOURS, "rollup_minutes": ROLLUP_MINUTES}
    found: Rows = []
    for name, rows in added.tables():
        grain = "minute" if name.endswith("minutes") else "hour"
        columns = ["org_unit", "touchpoint", "score_kind", grain, *COUNT_FIELDS]
        values = sorted((*key(b), *counts(c)) for b, c in rows.items())
        found.append((tables[name].name, columns, values))
    for table, theme_rows in (
        (THEME_HOURS, added.themes),
        (ROLLUP_THEME_HOURS, added.rollup_themes),
    ):
        columns = ["org_unit", "touchpoint", "theme", "hour", *THEME_COUNT_FIELDS]
        values = sorted((*theme_key(b), *theme_counts(c)) for b, c in theme_rows.items())
        found.append((table.name, columns, values))
    return found


def write(connection: sa.Connection, table: str, columns: list[str], rows: list[Row]) -> None:
    """Insert rows into a table holding none of their keys."""
    if not rows:
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    driver.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


# What the processes making rows share (inherited when they fork).
_making: tuple[Customers, list[Hour], datetime] | None = None


def _make(first: int) -> tuple[Rows, float]:
    """The rows of the responses of a chunk of hours, and the seconds it took."""
    assert _making is not None
    customers, hours, end = _making
    started = time.process_time()
    chunk = hours[first : first + CHUNK_HOURS]
    added = increments(customers.of(chunk), now=end)
    return table_rows(added), time.process_time() - started


@dataclass
class Loaded:
    made_s: float = 0.0
    """CPU time making up the responses and summing them into rows (once for all databases)."""
    written_s: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0


def load(
    engines: dict[str, sa.Engine], customers: Customers, hours: list[Hour], end: datetime
) -> Loaded:
    """The aggregate rows of `hours`' responses, written into every engine's database: a process
    a core makes the rows of a chunk of hours while this one writes the chunk before."""
    global _making
    started = time.perf_counter()
    loaded = Loaded(written_s=dict.fromkeys(engines, 0.0))
    _making = (customers, hours, end)
    workers = os.cpu_count() or 1
    firsts = iter(range(0, len(hours), CHUNK_HOURS))
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            # A chunk a process ahead of the writes, no more: memory holds a few days' rows.
            pending = deque(
                pool.apply_async(_make, (f,)) for f in itertools.islice(firsts, workers)
            )
            while pending:
                made, seconds = pending.popleft().get()
                if (first := next(firsts, None)) is not None:
                    pending.append(pool.apply_async(_make, (first,)))
                loaded.made_s += seconds
                for table, _, rows in made:
                    loaded.rows[table] = loaded.rows.get(table, 0) + len(rows)
                for backend, engine in engines.items():
                    t0 = time.perf_counter()
                    with engine.begin() as connection:
                        for table, columns, rows in made:
                            write(connection, table, columns, rows)
                    loaded.written_s[backend] += time.perf_counter() - t0
    finally:
        _making = None
    for backend, engine in engines.items():
        if backend == "postgresql":
            # What autovacuum does within a minute of so many new rows: fresh statistics, and
            # the visibility map index-only scans rely on.
            t0 = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
            loaded.written_s[backend] += time.perf_counter() - t0
    loaded.wall_s = time.perf_counter() - started
    return loaded


@dataclass(frozen=True)
class Scope:
    name: str
    unit: str | None


@dataclass(frozen=True)
class Reads:
    backend: str
    scope: str
    period: Period
    http_ms: list[float]
    direct_ms: list[float]
    themes: int
    comments: int


def timed(call: Callable[[], T], args: argparse.Namespace) -> tuple[list[float], T]:
    """Milliseconds of each call, one at a time after one to warm up, sorted; the last answer."""
    answer = call()
    times: list[float] = []
    started = time.monotonic()
    while len(times) < args.requests and (not times or time.monotonic() - started < args.seconds):
        t0 = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times), answer


def read(
    backend: str,
    url: str,
    tree_file: Path,
    scopes: list[Scope],
    tmp: Path,
    args: argparse.Namespace,
) -> list[Reads]:
    engine = store.make_engine(url)
    tree = directory.load_tree(engine)
    direct: dict[tuple[str, Period], list[float]] = {}
    for scope, period in itertools.product(scopes, PERIODS):
        covered = sorted(tree.covering([scope.unit])) if scope.unit else []

        def board(
            covered: list[str] = covered, scope: Scope = scope, period: Period = period
        ) -> ThemeBoard:
            return rollups.theme_board(
                engine,
                tree,
                company.TIMEZONE,
                covered=covered,
                touchpoints=(),
                label=scope.unit,
                period=period,
                now=datetime.now(UTC),
            )

        direct[scope.name, period], _ = timed(board, args)
    engine.dispose()
    found = []
    env = {"VOC_EMBEDDED_WORKERS": "0", "VOC_TIMEZONE": company.TIMEZONE.key}
    with (
        embedded_broker(tmp) as bootstrap,
        api(bootstrap, url, tmp, org_tree=tree_file, env=env) as stack,
    ):
        auth = stack.sign_in("bench.admin", Role.ADMIN)
        with httpx.Client(base_url=stack.url, headers=auth, timeout=60) as client:
            for scope, period in itertools.product(scopes, PERIODS):
                params = {"period": period.value}
                if scope.unit:
                    params["org_unit"] = scope.unit

                def get(params: dict[str, str] = params) -> dict[str, Any]:
                    response = client.get("/api/v1/themes", params=params)
                    if response.status_code != 200:
                        raise SystemExit(f"{params}: {response.status_code} {response.text[:500]}")
                    answer: dict[str, Any] = response.json()
                    return answer

                ms, answer = timed(get, args)
                found.append(
                    Reads(
                        backend,
                        scope.name,
                        period,
                        ms,
                        direct[scope.name, period],
                        len(answer["themes"]),
                        answer["comments"],
                    )
                )
    return found


def report(loaded: Loaded, reads: list[Reads], end: datetime, args: argparse.Namespace) -> None:
    print(
        f"\nAggregate rows of {args.responses:,} responses a week over {args.weeks} weeks, "
        f"{args.units} stores"
    )
    print("  rows: " + ", ".join(f"{name} {n:,}" for name, n in loaded.rows.items()))
    print(f"  loaded in {loaded.wall_s:.1f} s: responses made up and summed by increments() in")
    print(f"  {loaded.made_s:.1f} s of CPU (once for every database, {os.cpu_count()} processes),")
    print("  while the rows of the chunk before were written:")
    for backend, seconds in loaded.written_s.items():
        how = "COPY, then VACUUM ANALYZE" if backend == "postgresql" else "executemany"
        print(f"  written to {NAMES[backend]}: {seconds:.1f} s ({how})")
    print(f"\nGET /api/v1/themes as an admin, one at a time, at most {args.requests} requests or")
    print(
        f"{args.seconds:.0f} s a line after one to warm up; in-process: rollups.theme_board alone"
    )
    header = f"{'database':<11}{'scope':<19}{'period':<7}{'n':>4}"
    header += f"{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}   {'in-process p50/p95/max ms':<26}"
    print(header + f"{'themes':>7}{'comments':>10}")
    missed = []
    for r in reads:
        http, direct = r.http_ms, r.direct_ms
        p95 = percentile(http, 0.95)
        line = f"{NAMES[r.backend]:<11}{r.scope:<19}{r.period.value:<7}{len(http):>4}"
        line += f"{statistics.median(http):>8.1f}{p95:>8.1f}{http[-1]:>8.1f}   "
        inner = (
            f"{statistics.median(direct):.1f} / {percentile(direct, 0.95):.1f} / {direct[-1]:.1f}"
        )
        print(line + f"{inner:<26}{r.themes:>7}{r.comments:>10,}")
        if p95 > TARGET_MS:
            missed.append(f"{NAMES[r.backend]} {r.scope} {r.period.value}")
    local = end.astimezone(company.TIMEZONE)
    today = (local - local.replace(hour=0, minute=0, second=0, microsecond=0)) / timedelta(hours=1)
    print(f"today: since midnight in {company.TIMEZONE.key}, {today:.1f} h before the data ends")
    print("comments: the scope's responses with a comment read in the period (what shares are of)")
    verdict = "met on every line" if not missed else "missed: " + ", ".join(missed)
    print(f"target p95 <= {TARGET_MS} ms over HTTP: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000, help="a week")
    parser.add_argument("--weeks", type=int, default=2, help="of history, 2 at least")
    parser.add_argument("--units", type=int, default=500, help="stores")
    parser.add_argument("--databases", type=backends, default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=50, help="at most, per line")
    parser.add_argument("--seconds", type=float, default=20, help="at most, per line")
    args = parser.parse_args()
    if args.weeks < 2:
        parser.error("--weeks: 2 at least (the 7d board's week and the one before)")
    # Unwind as on Ctrl-C, so every process started here is stopped (`timeout` sends SIGTERM).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    firm = company.build(args.units, seed=SEED)
    scopes = [
        Scope("company", None),
        Scope(f"region {firm.regions[0][0]}", firm.regions[0][0]),
        Scope(f"store {firm.stores[0].id}", firm.stores[0].id),
    ]
    end = datetime.now(UTC)
    hours = history(end, args.responses, args.weeks)
    reads: list[Reads] = []
    with scratch("voc-themes-") as tmp, databases(tmp, args.databases) as new_database:
        tree_file = company.write_tree(firm, tmp / "org_tree.yaml")
        urls = {backend: new_database(backend) for backend in args.databases}
        engines = {backend: store.make_engine(url) for backend, url in urls.items()}
        tree = OrgTree()
        for engine in engines.values():
            store.migrate(engine)
            tree = directory.save_units(engine, read_units(tree_file))
        customers = Customers(firm, tree, week_starts=hours[-WEEK].start)
        loaded = load(engines, customers, hours, end)
        for engine in engines.values():
            engine.dispose()
        print(f"loaded in {time.monotonic() - started:.0f} s", flush=True)
        for backend, url in urls.items():
            where = tmp / backend
            where.mkdir()
            reads += read(backend, url, tree_file, scopes, where, args)
    report(loaded, reads, end, args)
    print(f"wall time: {time.monotonic() - started:.0f} s on {os.cpu_count()} cores", end="")
    # Anything else running on the machine shows in the percentiles.
    print(f" (load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")


if __name__ == "__main__":
    main()
