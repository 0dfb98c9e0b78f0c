"""How well themes name what customers complain about: per-theme precision and recall, and
macro-F1, on the airline tweets of ../shared/data, whose `negativereason` column is a human label
of the complaint's theme. A script.

    python bench/themes_eval.py [--data ../shared/data] [--taxonomy bench/data/airline_themes.yaml]

Scored on the negative tweets whose reason is not "Can't Tell". A tweet may get several themes (a
comment often names more than one thing): each theme is a yes/no per tweet, right when it is the
tweet's labelled reason. Two taxonomies: the airline one (bench/data/airline_themes.yaml, written
as an analyst would, not fitted to the labels), and the default one for service businesses
(sentiment/themes.yaml) with its themes mapped to the airline reasons by their meaning.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sentiment.themes import DEFAULT_FILE, Themes, load  # noqa: E402

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


def tweets(data: Path) -> list[tuple[str, str]]:
    """(text, reason) of the negative tweets with a reason a reader could tell."""
    with (data / "airline_tweets.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        (row["text"], row["negativereason"])
        for row in rows
        if row["airline_sentiment"] == "negative"
        and row["negativereason"]
        and row["negativereason"] != "Can't Tell"
    ]


def evaluate(
    themes: Themes, labelled: Sequence[tuple[str, str]], meaning: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, int, int]]:
    """Per reason: (true positives, false positives, false negatives)."""
    counts = {reason: [0, 0, 0] for reason in meaning}
    for text, label in labelled:
        found = set(themes.find(text, "en"))
        for reason, ids in meaning.items():
            said = bool(found.intersection(ids))
            if said and reason == label:
                counts[reason][0] += 1
            elif said:
                counts[reason][1] += 1
            elif reason == label:
                counts[reason][2] += 1
    return {reason: (tp, fp, fn) for reason, (tp, fp, fn) in counts.items()}


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def report(title: str, counts: Mapping[str, tuple[int, int, int]]) -> float:
    print(f"\n{title}")
    print(f"{'reason':<28} {'n':>5} {'prec':>6} {'recall':>6} {'F1':>6}")
    f1s = []
    for reason, (tp, fp, fn) in counts.items():
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = _ratio(2 * precision * recall, precision + recall)
        f1s.append(f1)
        print(f"{reason:<28} {tp + fn:>5} {precision:>6.3f} {recall:>6.3f} {f1:>6.3f}")
    macro = sum(f1s) / len(f1s)
    print(f"{'macro-F1':<28} {'':>5} {'':>6} {'':>6} {macro:>6.3f}")
    return macro


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--taxonomy", type=Path, default=AIRLINE)
    args = parser.parse_args()
    labelled = tweets(args.data)
    print(f"{len(labelled):,} negative tweets with a reason (not Can't Tell)")
    airline = {reason: (theme,) for reason, theme in REASONS.items()}
    report(
        f"airline taxonomy ({args.taxonomy.name})", evaluate(load(args.taxonomy), labelled, airline)
    )
    report(
        f"default taxonomy ({DEFAULT_FILE.name}), themes mapped to the reasons",
        evaluate(load(DEFAULT_FILE), labelled, DEFAULT_MAPPED),
    )


if __name__ == "__main__":
    main()
