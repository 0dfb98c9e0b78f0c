"""Quality and speed of the comment flag on each labelled set; a script, not a test."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # Run as a plain script, only bench/ is on the path unless the project is installed.
    sys.path.insert(0, str(ROOT))

from sentiment.decision import NEGATIVE_TEXT_BELOW, is_negative_text  # noqa: E402
from sentiment.evaluation import (  # noqa: E402
    AIRLINE_FILE,
    UCI_FILES,
    Labelled,
    negative_class_metrics,
    read_airline,
    read_uci,
)
from sentiment.polarity import comment_polarity  # noqa: E402

# The cuts tried when NEGATIVE_TEXT_BELOW was chosen; "<= 0" adds the texts with no lexicon word.
SWEEP: tuple[tuple[str, float], ...] = (
    *((f"< {cut:+.2f}", cut) for cut in (-0.2, -0.15, -0.1, -0.05, 0.0)),
    ("<= 0", math.nextafter(0.0, 1.0)),
    *((f"< {cut:+.2f}", cut) for cut in (0.05, 0.1, 0.2)),
)


def auc(polarities: Sequence[float], negative: Sequence[bool]) -> float:
    """Chance that a negative text has a lower polarity than a positive one, ties counting half."""
    ranked = sorted(zip(polarities, negative, strict=True))
    wins = negatives_below = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        tied_negatives = sum(n for _, n in ranked[i:j])
        tied_positives = (j - i) - tied_negatives
        wins += tied_positives * (negatives_below + 0.5 * tied_negatives)
        negatives_below += tied_negatives
        i = j
    n_negative = sum(negative)
    n_positive = len(negative) - n_negative
    return wins / (n_negative * n_positive) if n_negative and n_positive else math.nan


def load(data: Path) -> dict[str, list[Labelled]]:
    sets = {name: read_uci(data / file) for name, file in UCI_FILES.items()}
    sets["airline (neg vs rest)"] = read_airline(data / AIRLINE_FILE)
    return sets


def score(rows: Sequence[Labelled]) -> tuple[list[float], list[bool], float]:
    """Polarities, flags, and texts per second through both."""
    start = time.perf_counter()
    polarities = [comment_polarity(row.text) or 0.0 for row in rows]
    flags = [is_negative_text(p) for p in polarities]
    return polarities, flags, len(rows) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sweep", action="store_true", help="also print F1 per polarity cut")
    args = parser.parse_args(argv)

    comment_polarity("warm up the lexicon")
    print(f"flag: polarity < {NEGATIVE_TEXT_BELOW}")
    print(
        f"{'set':<22} {'texts':>6} {'neg':>6} {'prec':>6} {'recall':>6} {'F1':>6} {'AUC':>6} "
        f"{'texts/s':>8}"
    )
    scored: dict[str, tuple[list[float], list[bool]]] = {}
    for name, rows in load(args.data).items():
        polarities, flags, rate = score(rows)
        negative = [row.negative for row in rows]
        scored[name] = (polarities, negative)
        m = negative_class_metrics(flags, negative)
        print(
            f"{name:<22} {len(rows):>6} {sum(negative):>6} {m.precision:>6.3f} {m.recall:>6.3f} "
            f"{m.f1:>6.3f} {auc(polarities, negative):>6.3f} {rate:>8.0f}"
        )

    if args.sweep:
        print("\nneg-class precision / recall / F1 with the flag at other polarity cuts")
        print(f"{'polarity':<8}  {'UCI pooled':<17}  {'airline':<17}")
        uci = [name for name in scored if name.startswith("uci")]
        pooled_p = [p for name in uci for p in scored[name][0]]
        pooled_n = [n for name in uci for n in scored[name][1]]
        air_p, air_n = scored["airline (neg vs rest)"]
        for label, cut in SWEEP:
            u = negative_class_metrics([p < cut for p in pooled_p], pooled_n)
            a = negative_class_metrics([p < cut for p in air_p], air_n)
            print(
                f"{label:<8}  {u.precision:.3f} {u.recall:.3f} {u.f1:.3f}  "
                f"{a.precision:.3f} {a.recall:.3f} {a.f1:.3f}"
            )


if __name__ == "__main__":
    main()
