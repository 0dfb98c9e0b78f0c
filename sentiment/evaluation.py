"""Readers for the labelled sets, the train/test split, and the measures taken on them."""

from __future__ import annotations

import csv
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UCI_FILES: dict[str, str] = {
    "uci amazon": "uci_amazon_cells_labelled.txt",
    "uci yelp": "uci_yelp_labelled.txt",
    "uci imdb": "uci_imdb_labelled.txt",
}
# Licensed CC BY-NC-SA: for measuring only, never for training or tuning anything that ships.
AIRLINE_FILE = "airline_tweets.csv"
# The project's own sets (bench/data/README.md): survey comments written by the team, in
# English, French and Italian, and French and Italian translations of UCI lines.
PROJECT_DATA = Path(__file__).resolve().parents[1] / "bench" / "data"
ENGLISH_FILES = (PROJECT_DATA / "en_comments.tsv",)
FRENCH_FILES = (PROJECT_DATA / "fr_comments.tsv", PROJECT_DATA / "fr_team_comments.tsv")
ITALIAN_FILES = (PROJECT_DATA / "it_comments.tsv", PROJECT_DATA / "it_team_comments.tsv")

# The split is a hash of the text, so it never depends on file order and never changes: one
# text in 4 of every set is held out for testing and never trained or tuned on.
TEST_ONE_IN = 4


@dataclass(frozen=True)
class Labelled:
    text: str
    negative: bool


@dataclass(frozen=True)
class Metrics:
    """Measures of a flag against labels; precision, recall and F1 are the negative class's."""

    texts: int
    negatives: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    macro_f1: float


def held_out(text: str) -> bool:
    """True for the test part of a set: a fixed 1/TEST_ONE_IN of texts chosen by CRC-32."""
    return zlib.crc32(text.encode("utf-8")) % TEST_ONE_IN == 0


def split(rows: Sequence[Labelled]) -> tuple[list[Labelled], list[Labelled]]:
    """(train, test)."""
    return [r for r in rows if not held_out(r.text)], [r for r in rows if held_out(r.text)]


def read_uci(path: Path) -> list[Labelled]:
    """UCI "Sentiment Labelled Sentences": `sentence<TAB>label`, 0 = negative, 1 = positive."""
    rows: list[Labelled] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            text, _, label = line.rpartition("\t")
            if label.strip() not in {"0", "1"}:
                raise ValueError(f"{path}:{number}: expected sentence<TAB>0|1, got {line!r}")
            rows.append(Labelled(text=text, negative=label.strip() == "0"))
    return rows


def read_project(path: Path) -> list[Labelled]:
    """The sets in bench/data: `sentence<TAB>label<TAB>origin`, 0 = negative, as UCI."""
    rows: list[Labelled] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            text, label, _origin = line.rstrip("\n").split("\t")
            if label not in {"0", "1"}:
                raise ValueError(f"{path}:{number}: label must be 0 or 1, got {label!r}")
            rows.append(Labelled(text=text, negative=label == "0"))
    return rows


def read_airline(path: Path) -> list[Labelled]:
    """Twitter US Airline Sentiment: `negative` against `neutral` and `positive` together."""
    with path.open(encoding="utf-8", newline="") as lines:
        return [
            Labelled(text=row["text"], negative=row["airline_sentiment"] == "negative")
            for row in csv.DictReader(lines)
        ]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def measure(flagged: Sequence[bool], negative: Sequence[bool]) -> Metrics:
    if len(flagged) != len(negative):
        raise ValueError(f"{len(flagged)} predictions for {len(negative)} labels")
    tp = sum(f and n for f, n in zip(flagged, negative, strict=True))
    fp = sum(f and not n for f, n in zip(flagged, negative, strict=True))
    fn = sum(n and not f for f, n in zip(flagged, negative, strict=True))
    tn = len(flagged) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    # The positive class (not negative) as the mirror image, for macro-F1.
    other_precision = tn / (tn + fn) if tn + fn else 0.0
    other_recall = tn / (tn + fp) if tn + fp else 0.0
    f1 = _f1(precision, recall)
    return Metrics(
        texts=len(flagged),
        negatives=tp + fn,
        accuracy=(tp + tn) / len(flagged) if flagged else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
        macro_f1=(f1 + _f1(other_precision, other_recall)) / 2,
    )


def roc_auc(negativity: Sequence[float], negative: Sequence[bool]) -> float:
    """Chance that a negative text scores more negative than a positive one, ties counting half."""
    ranked = sorted(zip(negativity, negative, strict=True))
    wins = positives_below = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        tied_negatives = sum(n for _, n in ranked[i:j])
        tied_positives = (j - i) - tied_negatives
        wins += tied_negatives * (positives_below + 0.5 * tied_positives)
        positives_below += tied_positives
        i = j
    n_negative = sum(negative)
    n_positive = len(negative) - n_negative
    return wins / (n_negative * n_positive) if n_negative and n_positive else math.nan
