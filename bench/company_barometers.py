"""Barometers of a company at scale: load N responses through the worker, then time the read API.

For each database (SQLite, PostgreSQL) and each count of responses: a new embedded broker, a new
database and one `voc api` process (one embedded worker) started with a generated company's org
tree (app/company.py: 500 stores in 10 regions by default); then `voc company` produces N
responses of the last 7 days to the broker, as its users load one, and the product's worker
scores and stores them. The ingest rate is read from the API's `voc_responses_ingested` counter
each half second. Once all are stored, an admin asks `GET /api/v1/barometers` with
`window=7d` and without a window (every window) for one store, one region and the whole
company, up to --requests times each or until --seconds have passed (at least once), one
request at a time. Only HTTP, the broker and the `voc` command: it measures whatever read path
the API has.

    python bench/company_barometers.py [--responses 100000 [1000000 ...]] [--units 500]
        [--databases sqlite,postgresql] [--requests 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import company  # noqa: E402
from app.core.access import Role  # noqa: E402
from bench.stack import (  # noqa: E402
    Stack,
    api,
    backends,
    databases,
    embedded_broker,
    percentile,
    scratch,
)

WINDOWS = ("7d", None)
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# The company of every run: the same stores, weak spots and responses.
SEED = 1
# How often the stored count is read while loading.
POLL_S = 0.5
# A load that stores nothing more for this long is stuck (dead letters, a dead worker).
STALL_S = 120
# A read of a million responses, re-streamed from the database, may take minutes.
READ_TIMEOUT_S = 900


@dataclass(frozen=True)
class Load:
    backend: str
    responses: int
    produced_s: float
    """From starting `voc company` until every response was acknowledged by the broker."""
    stored_s: float
    """From the first response stored to the last."""
    tenths: list[float]
    """Responses a second over each tenth of the load, in order."""
    seen: int
    """What the company's 7d barometer counted afterwards."""


@dataclass(frozen=True)
class Reads:
    backend: str
    responses: int
    scope: str
    window: str | None
    milliseconds: list[float]


def load(stack: Stack, tmp: Path, args: argparse.Namespace, n: int) -> tuple[float, list[float]]:
    """Produce `n` responses with `voc company`; when it finished, and when each tenth was stored
    (both in seconds from the start), the first entry being when the first row was."""
    command = [sys.executable, "-m", "app.cli", "company", "--units", str(args.units)]
    command += ["--responses", str(n), "--seed", str(SEED), "--out", str(tmp)]
    command += ["--bootstrap", stack.bootstrap]
    log = tmp / "company.log"
    started = time.monotonic()
    with log.open("ab") as out:
        loader = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    produced: float | None = None
    marks: list[float] = []
    stored, progress_at = 0, started
    try:
        while len(marks) < 11:
            time.sleep(POLL_S)
            now = time.monotonic()
            if produced is None and loader.poll() is not None:
                if loader.returncode != 0:
                    raise SystemExit(f"voc company failed:\n{log.read_text()[-2000:]}")
                produced = now - started
            count = int(stack.counter("voc_responses_ingested"))
            if count > stored:
                stored, progress_at = count, now
            if now - progress_at > STALL_S:
                dead = stack.counter("voc_responses_dlq")
                raise SystemExit(f"stuck at {stored} of {n} stored ({dead:.0f} dead-lettered)")
            while len(marks) < 11 and stored >= (n * len(marks) + 9) // 10 and stored > 0:
                marks.append(now - started)
    finally:
        if loader.poll() is None:
            loader.terminate()
        loader.wait(timeout=30)
    return produced if produced is not None else marks[-1], marks


def read(
    stack: Stack, auth: dict[str, str], params: dict[str, str], args: argparse.Namespace
) -> tuple[list[float], dict[str, Any]]:
    """Milliseconds of each request, one at a time, and the last answer."""
    times: list[float] = []
    answer: dict[str, Any] = {}
    with httpx.Client(base_url=stack.url, headers=auth, timeout=READ_TIMEOUT_S) as client:
        started = time.monotonic()
        while len(times) < args.requests and (
            not times or time.monotonic() - started < args.seconds
        ):
            t0 = time.perf_counter()
            response = client.get("/api/v1/barometers", params=params)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{params}: {response.status_code} {response.text[:500]}")
            answer = response.json()
    return times, answer


def measure(
    backend: str, n: int, database_url: str, tmp: Path, args: argparse.Namespace
) -> tuple[Load, list[Reads]]:
    firm = company.build(args.units, seed=SEED)
    tree = company.write_tree(firm, tmp / "org_tree.yaml")
    scopes = {
        f"store {firm.stores[0].id}": {"org_unit": firm.stores[0].id},
        f"region {firm.regions[0][0]}": {"org_unit": firm.regions[0][0]},
        "company": {},
    }
    reads = []
    with embedded_broker(tmp) as bootstrap, api(bootstrap, database_url, tmp, org_tree=tree) as s:
        produced, marks = load(s, tmp, args, n)
        auth = s.sign_in("bench", Role.ADMIN)
        seen = 0
        for scope, params in scopes.items():
            for window in WINDOWS:
                asked = {**params, "window": window} if window else params
                times, answer = read(s, auth, asked, args)
                reads.append(Reads(backend, n, scope, window, times))
                if scope == "company" and window:
                    seen = answer["windows"][window]["responses"]
    tenths = [n / 10 / max(b - a, POLL_S) for a, b in itertools.pairwise(marks)]
    return Load(backend, n, produced, marks[-1] - marks[0], tenths, seen), reads


def report(loads: list[Load], reads: list[Reads], args: argparse.Namespace) -> None:
    print(f"\nLoading a company of {args.units} stores through one worker (embedded broker)")
    header = f"{'database':<11}{'responses':>10}{'produce s':>10}{'stored s':>9}"
    print(header + f"{'responses/s':>12}{'7d count':>10}  responses/s by tenth of the load")
    for x in loads:
        line = f"{NAMES[x.backend]:<11}{x.responses:>10,}{x.produced_s:>10.1f}{x.stored_s:>9.1f}"
        line += f"{x.responses / x.stored_s:>12,.0f}{x.seen:>10,}  "
        print(line + " ".join(f"{t:,.0f}" for t in x.tenths))
    print(f"stored s: from the first row stored to the last (polled every {POLL_S} s)")
    print(f"\nGET /api/v1/barometers as an admin, one at a time, at most {args.requests} requests")
    print(f"or {args.seconds:.0f} s a line (at least one)")
    header = f"{'database':<11}{'responses':>10}  {'scope':<20}{'window':<8}{'requests':>9}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for r in reads:
        ms = sorted(r.milliseconds)
        line = f"{NAMES[r.backend]:<11}{r.responses:>10,}  {r.scope:<20}{r.window or 'all':<8}"
        line += f"{len(ms):>9}{statistics.median(ms):>9.0f}{percentile(ms, 0.95):>9.0f}"
        print(line + f"{ms[-1]:>9.0f}")
    print("window all: no window asked, so every window (hour, today, 7d) in one answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, nargs="+", default=[100_000])
    parser.add_argument("--units", type=int, default=500, help="stores")
    parser.add_argument("--databases", type=backends, default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=50, help="at most, per line")
    parser.add_argument("--seconds", type=float, default=30, help="at most, per line")
    args = parser.parse_args()
    # Unwind as on Ctrl-C, so every process started here is stopped (`timeout` sends SIGTERM).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    loads: list[Load] = []
    reads: list[Reads] = []
    with scratch("voc-company-") as tmp, databases(tmp, args.databases) as new_database:
        for n in args.responses:
            for backend in args.databases:
                where = tmp / f"{backend}-{n}"
                where.mkdir()
                done, timed = measure(backend, n, new_database(backend), where, args)
                loads.append(done)
                reads += timed
    report(loads, reads, args)
    print(f"wall time: {time.monotonic() - started:.0f}s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
