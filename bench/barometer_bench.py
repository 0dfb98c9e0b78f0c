"""Micro-benchmark of BarometerBook: adds/s and snapshots/s over a simulated week.

Run from the repository root: `.venv/bin/python -m bench.barometer_bench [--responses N]`.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from app.core.barometer import BarometerBook, Tally
from app.core.events import SCORE_RANGES, ScoreKind

TZ = ZoneInfo("Europe/Paris")
END = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
KINDS = [ScoreKind.NPS] * 6 + [ScoreKind.CSAT] * 3 + [ScoreKind.CES]


def simulated_week(
    org_units: int, touchpoints: int, responses: int, seed: int
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = END - timedelta(days=7)
    step = timedelta(days=7) / responses
    week = []
    for i in range(responses):
        kind = rng.choice(KINDS)
        low, high = SCORE_RANGES[kind]
        score = rng.randint(low, high)
        # A few seconds of jitter: responses do not arrive in submitted_at order.
        submitted_at = start + i * step - timedelta(seconds=rng.uniform(0, 30))
        week.append(
            {
                "org_unit": f"store-{rng.randrange(org_units)}",
                "touchpoint": f"touchpoint-{rng.randrange(touchpoints)}",
                "submitted_at": submitted_at,
                "score_kind": kind,
                "score": score,
                "polarity": rng.uniform(-1, 1) if rng.random() < 0.7 else None,
                "dissatisfied": rng.random() < 0.3,
            }
        )
    return week


def fill(book: BarometerBook, week: Sequence[dict[str, Any]]) -> None:
    for response in week:
        book.add(Tally(**response))


def snapshot_all(book: BarometerBook, scopes: Sequence[tuple[str | None, str | None]]) -> None:
    for org_unit, touchpoint in scopes:
        book.snapshot(org_unit, touchpoint, END)


def rate(action: Callable[[], object], count: int, repeat: int = 3) -> float:
    """Best of `repeat` runs, in operations per second."""
    best = min(_seconds(action) for _ in range(repeat))
    return count / best


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--org-units", type=int, default=50)
    parser.add_argument("--touchpoints", type=int, default=6)
    parser.add_argument("--responses", type=int, default=200_000, help="over the week")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    week = simulated_week(args.org_units, args.touchpoints, args.responses, args.seed)
    adds = rate(lambda: fill(BarometerBook(TZ), week), len(week))

    tracemalloc.start()
    book = BarometerBook(TZ)
    fill(book, week)
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    units = [f"store-{i}" for i in range(args.org_units)]
    tps = [f"touchpoint-{i}" for i in range(args.touchpoints)]
    scopes: dict[str, list[tuple[str | None, str | None]]] = {
        "org unit": [(unit, None) for unit in units],
        "org unit x touchpoint": [(unit, tp) for unit in units for tp in tps],
        "company (+ touchpoints)": [(None, None)] + [(None, tp) for tp in tps],
    }

    print(
        f"{args.org_units} org units x {args.touchpoints} touchpoints, "
        f"{len(week):,} responses over 7 days, book holds {memory / 2**20:.1f} MiB"
    )
    print(f"{'operation':<36}{'per second':>12}{'us each':>10}")
    print(f"{'add (4 scopes, 8 buckets)':<36}{adds:>12,.0f}{1e6 / adds:>10.1f}")
    for name, keys in scopes.items():
        snaps = rate(partial(snapshot_all, book, keys), len(keys))
        print(f"{'snapshot ' + name:<36}{snaps:>12,.0f}{1e6 / snaps:>10.1f}")


if __name__ == "__main__":
    main()
