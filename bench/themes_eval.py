"""How well themes name what customers complain about: per-theme precision and recall, and
macro-F1, on the airline tweets of ../shared/data, whose `negativereason` column is a human label
of the complaint's theme. A script.

    python bench/themes_eval.py [--data ../shared/data] [--taxonomy bench/data/airline_themes.yaml]
    python bench/themes_eval.py --tune-weights    # the themes' weights, searched on the tuning half

Scored on the negative tweets whose reason is not "Can't Tell", two ways. Primary: each tweet gets
at most one theme (`Themes.primary`), right when it is the tweet's labelled reason. Every theme: a
tweet gets all the themes it names (`Themes.find`), each a yes/no, so one tweet naming three themes
is a hit for its reason and a false positive for the other two. Two taxonomies: the airline one
(bench/data/airline_themes.yaml, written as an analyst would, not fitted to the labels except for
its themes' weights), and the default one for service businesses (sentiment/themes.yaml) with its
themes mapped to the airline reasons by their meaning. The airline weights were searched on the
even-numbered tweets (the tuning half): the odd-numbered ones (the held-out half) are reported
apart and are the figure to quote.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sentiment.themes import DEFAULT_FILE, Themes, load, parse  # noqa: E402

AIRLINE = ROOT / "bench" / "data" / "airline_themes.yaml"
# The airline taxonomy's theme for each labelled reason.
REASONS = {
    "Late Flight": "late-flight",
    "Cancelled Flight": "cancelled-flight",
    "Lost Luggage": "lost-luggage",
    "Damaged Luggage": "damaged-luggage",
    "Customer Service Issue": "customer-service",
    "Flight Booking Problems": "flight-booking",
    "Flight Attendant Complaints": "flight-attendant",
    "Bad Flight": "bad-flight",
    "longlines": "long-lines",
}
# The default taxonomy's themes, read for the airline reason they mean.
DEFAULT_MAPPED = {
    "Late Flight": ("delivery",),
    "Cancelled Flight": ("contract-cancellation",),
    "Lost Luggage": ("returns-exchanges",),
    "Damaged Luggage": ("product-quality",),
    "Customer Service Issue": ("waiting-reachability", "communication", "staff-competence"),
    "Flight Booking Problems": ("digital-channels", "billing-price", "billing-refund"),
    "Flight Attendant Complaints": ("staff-attitude",),
    "Bad Flight": ("product-quality",),
    "longlines": ("store-premises",),
}
WEIGHT_GRID = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
SPEED_RUNS = 5

Counts = dict[str, tuple[int, int, int]]
Labelled = Sequence[tuple[str, str]]


def rows(data: Path) -> list[dict[str, str]]:
    with (data / "airline_tweets.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def tweets(data: Path) -> list[tuple[str, str]]:
    """(text, reason) of the negative tweets with a reason a reader could tell."""
    return [
        (row["text"], row["negativereason"])
        for row in rows(data)
        if row["airline_sentiment"] == "negative"
        and row["negativereason"]
        and row["negativereason"] != "Can't Tell"
    ]


def halves(labelled: Labelled) -> tuple[Labelled, Labelled]:
    """(tuning, held out): alternate tweets, so both halves span the whole week of the data."""
    return labelled[0::2], labelled[1::2]


def every_theme(themes: Themes) -> Callable[[str], Iterable[str]]:
    return lambda text: themes.find(text, "en")


def primary_theme(themes: Themes) -> Callable[[str], Iterable[str]]:
    def one(text: str) -> Iterable[str]:
        theme = themes.primary(text, "en")
        return () if theme is None else (theme,)

    return one


def evaluate(
    said: Callable[[str], Iterable[str]], labelled: Labelled, meaning: Mapping[str, Sequence[str]]
) -> Counts:
    """Per reason: (true positives, false positives, false negatives)."""
    counts = {reason: [0, 0, 0] for reason in meaning}
    for text, label in labelled:
        found = set(said(text))
        for reason, ids in meaning.items():
            named = bool(found.intersection(ids))
            if named and reason == label:
                counts[reason][0] += 1
            elif named:
                counts[reason][1] += 1
            elif reason == label:
                counts[reason][2] += 1
    return {reason: (tp, fp, fn) for reason, (tp, fp, fn) in counts.items()}


def _ratio(a: int | float, b: int | float) -> float:
    return a / b if b else 0.0


def scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """(precision, recall, F1)."""
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return precision, recall, _ratio(2 * precision * recall, precision + recall)


def macro_f1(counts: Counts) -> float:
    return sum(scores(*c)[2] for c in counts.values()) / len(counts)


def report(title: str, counts: Counts) -> float:
    print(f"\n{title}")
    print(f"{'reason':<28} {'n':>5} {'prec':>6} {'recall':>6} {'F1':>6}")
    for reason, (tp, fp, fn) in counts.items():
        precision, recall, f1 = scores(tp, fp, fn)
        print(f"{reason:<28} {tp + fn:>5} {precision:>6.3f} {recall:>6.3f} {f1:>6.3f}")
    macro = macro_f1(counts)
    print(f"{'macro-F1':<28} {'':>5} {'':>6} {'':>6} {macro:>6.3f}")
    return macro


def tune_weights(
    document: Mapping[str, Any], labelled: Labelled, meaning: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Each theme's weight from WEIGHT_GRID, one theme at a time while the primary theme's
    macro-F1 on `labelled` rises; start from all 1."""
    ids = [theme["id"] for theme in document["themes"]]

    def macro(weights: Mapping[str, float]) -> float:
        weighted = {
            **document,
            "themes": [{**t, "weight": weights[t["id"]]} for t in document["themes"]],
        }
        return macro_f1(evaluate(primary_theme(parse(weighted)), labelled, meaning))

    weights = dict.fromkeys(ids, 1.0)
    best, improved = macro(weights), True
    while improved:
        improved = False
        for theme_id in ids:
            for weight in WEIGHT_GRID:
                trial = {**weights, theme_id: weight}
                if weight != weights[theme_id] and (score := macro(trial)) > best + 1e-4:
                    best, weights, improved = score, trial, True
    return weights


def speed(match: Callable[[str, str], object], texts: Sequence[str]) -> float:
    """English comments matched per second over all the texts, the median of SPEED_RUNS runs."""
    for text in texts:
        # Once unmeasured, so that every measured run finds the words the matcher caches.
        match(text, "en")
    rates = []
    for _ in range(SPEED_RUNS):
        start = time.perf_counter()
        for text in texts:
            match(text, "en")
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--taxonomy", type=Path, default=AIRLINE)
    parser.add_argument("--tune-weights", action="store_true")
    args = parser.parse_args()
    labelled = tweets(args.data)
    tuning, held_out = halves(labelled)
    airline = {reason: (theme,) for reason, theme in REASONS.items()}
    if args.tune_weights:
        document = yaml.safe_load(args.taxonomy.read_text(encoding="utf-8"))
        weights = tune_weights(document, tuning, airline)
        for theme_id, weight in weights.items():
            print(f"{theme_id:<20} {weight:g}")
        return
    print(
        f"{len(labelled):,} negative tweets with a reason (not Can't Tell): "
        f"{len(tuning):,} in the tuning half (even rows), {len(held_out):,} held out (odd rows)"
    )
    taxonomies = (
        (f"airline taxonomy ({args.taxonomy.name})", load(args.taxonomy), airline),
        (f"default taxonomy ({DEFAULT_FILE.name}), mapped", load(DEFAULT_FILE), DEFAULT_MAPPED),
    )
    for title, themes, meaning in taxonomies:
        for how, said in (("primary theme", primary_theme), ("every theme", every_theme)):
            report(f"{title}, {how}", evaluate(said(themes), labelled, meaning))
            print(
                f"{'':<28} held-out half "
                f"{macro_f1(evaluate(said(themes), held_out, meaning)):.3f}, tuning half "
                f"{macro_f1(evaluate(said(themes), tuning, meaning)):.3f}"
            )
    texts = [row["text"] for row in rows(args.data)]
    print(f"\nspeed, all {len(texts):,} tweets {SPEED_RUNS} times, median, comments/s:")
    for title, themes, _ in taxonomies:
        found, first = speed(themes.find, texts), speed(themes.primary, texts)
        print(f"  {title}: find {found:,.0f}, primary {first:,.0f}")


if __name__ == "__main__":
    main()
