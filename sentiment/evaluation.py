"""Readers for the labelled sentence sets and the negative-class metrics measured on them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UCI_FILES: dict[str, str] = {
    "uci amazon": "uci_amazon_cells_labelled.txt",
    "uci yelp": "uci_yelp_labelled.txt",
    "uci imdb": "uci_imdb_labelled.txt",
}
# Licensed CC BY-NC-SA: for measuring only, never for tuning anything that ships.
AIRLINE_FILE = "airline_tweets.csv"


@dataclass(frozen=True)
class Labelled:
    text: str
    negative: bool


@dataclass(frozen=True)
class Metrics:
    """Precision, recall and F1 of the negative class, the one a flag should catch."""

    precision: float
    recall: float
    f1: float


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


def read_airline(path: Path) -> list[Labelled]:
    """Twitter US Airline Sentiment: `negative` against `neutral` and `positive` together."""
    with path.open(encoding="utf-8", newline="") as lines:
        return [
            Labelled(text=row["text"], negative=row["airline_sentiment"] == "negative")
            for row in csv.DictReader(lines)
        ]


def negative_class_metrics(flagged: Sequence[bool], negative: Sequence[bool]) -> Metrics:
    if len(flagged) != len(negative):
        raise ValueError(f"{len(flagged)} predictions for {len(negative)} labels")
    hits = sum(f and n for f, n in zip(flagged, negative, strict=True))
    precision = hits / sum(flagged) if any(flagged) else 0.0
    recall = hits / sum(negative) if any(negative) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(precision=precision, recall=recall, f1=f1)
