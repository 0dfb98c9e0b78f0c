"""Quality and speed of the dissatisfaction flag against raw TextBlob and VADER. A script.

    python bench/sentiment_eval.py [--data ../shared/data] [--per-set N] [--curve] [--speed-runs 5]

Per labelled set: accuracy, precision / recall / F1 of the negative class, macro-F1, ROC AUC and
comments/s on one core (this process, one thread). The product runs exactly as `voc score` does:
JSON lines in, JSON lines out (`sentiment.lines.score_lines`), without a score, so its flag is
the comment's alone. Sets: the held-out quarter of each UCI set, of the team's English comments
and of the French and Italian sets (the models never saw them), and all 14,640 airline tweets
(never used for training or tuning). Italian has no TextBlob lexicon: its baselines are the
English ones, as VADER is for French. `--per-set N` takes N texts spread evenly through each
(the subset `make test` checks).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.settings import Settings  # noqa: E402
from sentiment import CommentReader, CommentScorer, themes  # noqa: E402
from sentiment.evaluation import (  # noqa: E402
    AIRLINE_FILE,
    ENGLISH_FILES,
    FRENCH_FILES,
    ITALIAN_FILES,
    TEST_ONE_IN,
    UCI_FILES,
    Labelled,
    Metrics,
    measure,
    read_airline,
    read_project,
    read_uci,
    roc_auc,
    split,
)
from sentiment.lines import score_lines  # noqa: E402

# What each scorer gives per text: how negative (for AUC and the curve) and whether flagged.
Scored = tuple[list[float], list[bool]]
CURVE = tuple(round(0.1 * i, 1) for i in range(1, 10))


@dataclass(frozen=True)
class Result:
    metrics: Metrics
    auc: float
    per_second: float
    negativity: list[float]
    flags: list[bool]


def load_sets(data: Path, per_set: int | None = None) -> dict[str, list[Labelled]]:
    held = f"(test 1/{TEST_ONE_IN})"
    sets = {f"{name} {held}": split(read_uci(data / file))[1] for name, file in UCI_FILES.items()}
    sets["airline, neg vs rest (all)"] = read_airline(data / AIRLINE_FILE)
    sets[f"team english {held}"] = [r for p in ENGLISH_FILES for r in split(read_project(p))[1]]
    sets[f"french {held}"] = [r for p in FRENCH_FILES for r in split(read_project(p))[1]]
    sets[f"italian {held}"] = [r for p in ITALIAN_FILES for r in split(read_project(p))[1]]
    if per_set is None:
        return sets
    # Evenly spaced through each file: the airline file is sorted by airline.
    return {name: rows[:: max(1, len(rows) // per_set)][:per_set] for name, rows in sets.items()}


def language_of(set_name: str) -> str:
    """The language of a set, by its name: the baselines' lexicon follows it."""
    return "fr" if "french" in set_name else "it" if "italian" in set_name else "en"


def textblob_scorer(language: str) -> Callable[[Sequence[str]], Scored]:
    """Raw TextBlob (textblob-fr for French, else the English lexicon): flag when polarity < 0."""
    if language == "fr":
        from textblob_fr import PatternAnalyzer as FrenchAnalyzer

        analyze = FrenchAnalyzer().analyze
        polarity: Callable[[str], float] = lambda text: float(analyze(text)[0])  # noqa: E731
    else:
        from textblob.sentiments import PatternAnalyzer

        english = PatternAnalyzer().analyze
        polarity = lambda text: float(english(text).polarity)  # noqa: E731

    def run(texts: Sequence[str]) -> Scored:
        values = [polarity(t) for t in texts]
        return [-v for v in values], [v < 0 for v in values]

    return run


def vader_scorer() -> Callable[[Sequence[str]], Scored]:
    """Raw VADER: flag when compound <= -0.05, its authors' cut for negative."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def run(texts: Sequence[str]) -> Scored:
        values = [analyzer.polarity_scores(t)["compound"] for t in texts]
        return [-v for v in values], [v <= -0.05 for v in values]

    return run


def product_scorer(negative_from: float) -> Callable[[Sequence[str]], Scored]:
    """The product, through `voc score`'s own path; not assessed counts as not flagged."""
    reader = CommentReader(negative_from)

    def run(texts: Sequence[str]) -> Scored:
        lines = (json.dumps({"comment": t}) for t in texts)
        results = [json.loads(line) for line in score_lines(lines, reader)]
        negativity = [r["negative_probability"] or 0.0 for r in results]
        return negativity, [r["dissatisfied"] for r in results]

    return run


def evaluate(run: Callable[[Sequence[str]], Scored], rows: Sequence[Labelled]) -> Result:
    texts = [r.text for r in rows]
    labels = [r.negative for r in rows]
    start = time.process_time()
    negativity, flags = run(texts)
    seconds = max(time.process_time() - start, 1e-9)
    rate = len(texts) / seconds
    return Result(measure(flags, labels), roc_auc(negativity, labels), rate, negativity, flags)


def scorers(negative_from: float, language: str) -> dict[str, Callable[[Sequence[str]], Scored]]:
    return {
        "TextBlob": textblob_scorer(language),
        "VADER": vader_scorer(),
        "product": product_scorer(negative_from),
    }


def speed(negative_from: float, texts: Sequence[str], runs: int) -> float:
    """Median comments/s of `voc score`'s path over `runs` passes (CPU time of this one thread):
    JSON lines in (encoded beforehand, as they arrive on stdin), JSON lines out."""
    reader = CommentReader(negative_from)
    lines = [json.dumps({"comment": t}) for t in texts]
    rates = []
    for _ in range(runs):
        start = time.process_time()
        for _line in score_lines(lines, reader):
            pass
        rates.append(len(lines) / (time.process_time() - start))
    return statistics.median(rates)


def ingest_speed(negative_from: float, texts: Sequence[str], runs: int) -> dict[str, float]:
    """Median comments/s of the ingest worker's scoring path (`CommentScorer.assess`'s work:
    language, model, decision, and the themes with their tones), with the shipped taxonomy and
    with one that names nothing, runs alternated so both meet the same machine."""
    nothing = themes.parse(
        {"themes": [{"id": "none", "name": {"en": "None"}, "phrases": {"en": ["zzzz"]}}]}
    )
    scorers = {
        "shipped taxonomy": CommentScorer(negative_from),
        "no theme named": CommentScorer(negative_from, lambda: nothing),
    }
    rates: dict[str, list[float]] = {name: [] for name in scorers}
    for _ in range(runs):
        for name, scorer in scorers.items():
            start = time.process_time()
            for text in texts:
                scorer.judge(text)
            rates[name].append(len(texts) / (time.process_time() - start))
    return {name: statistics.median(found) for name, found in rates.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--per-set", type=int, help="only N texts of each set, evenly spaced")
    parser.add_argument("--curve", action="store_true", help="precision/recall per threshold")
    parser.add_argument("--speed-runs", type=int, default=5)
    args = parser.parse_args(argv)
    negative_from = Settings().sentiment_negative_from
    sets = load_sets(args.data, args.per_set)

    print(f"product flag: P(negative) >= {negative_from} (VOC_SENTIMENT_NEGATIVE_FROM)\n")
    header = f"{'set':<28} {'scorer':<9} {'texts':>6} {'neg':>5} {'acc':>6} {'prec':>6} "
    print(header + f"{'recall':>6} {'F1':>6} {'mac-F1':>6} {'AUC':>6} {'texts/s':>8}")
    negativity: dict[str, tuple[list[float], list[bool]]] = {}
    for name, rows in sets.items():
        for scorer_name, run in scorers(negative_from, language_of(name)).items():
            r = evaluate(run, rows)
            m = r.metrics
            print(
                f"{name:<28} {scorer_name:<9} {m.texts:>6} {m.negatives:>5} {m.accuracy:>6.3f} "
                f"{m.precision:>6.3f} {m.recall:>6.3f} {m.f1:>6.3f} {m.macro_f1:>6.3f} "
                f"{r.auc:>6.3f} {r.per_second:>8,.0f}"
            )
            if scorer_name == "product":
                negativity[name] = (r.negativity, [row.negative for row in rows])
        print()

    if args.curve:
        print("product: negative-class precision / recall / F1 if the threshold were ...")
        print(f"{'set':<28} " + " ".join(f"{t:>14}" for t in CURVE))
        for name, (values, labels) in negativity.items():
            cells = []
            for t in CURVE:
                m = measure([v >= t for v in values], labels)
                cells.append(f"{m.precision:.2f}/{m.recall:.2f}/{m.f1:.2f}")
            print(f"{name:<28} " + " ".join(f"{c:>14}" for c in cells))
        print()

    mid_length = [r.text for rows in sets.values() for r in rows if 50 <= len(r.text) <= 300]
    rate = speed(negative_from, mid_length, args.speed_runs)
    print(
        f"speed: {len(mid_length):,} comments of 50-300 characters, median of "
        f"{args.speed_runs} runs: {rate:,.0f} comments/s on one core "
        "(voc score's path, JSON in and out)"
    )
    for name, rate in ingest_speed(negative_from, mid_length, args.speed_runs).items():
        print(
            f"speed: the same, as the ingest worker scores them ({name}): {rate:,.0f} "
            "comments/s on one core"
        )


if __name__ == "__main__":
    main()
