"""The evaluation on a small fixed subset: the product's flag beats raw TextBlob and VADER.

The full evaluation is `python bench/sentiment_eval.py` (docs/sentiment.md has its table); this
runs the same code on 150 texts spread through each held-out set (none trained on), and on the
whole held-out quarter of the Italian sets, whose negative-class F1 has a floor of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings import Settings
from bench.sentiment_eval import Result, evaluate, language_of, load_sets, product_scorer, scorers
from sentiment.evaluation import (
    AIRLINE_FILE,
    ITALIAN_FILES,
    Labelled,
    measure,
    read_project,
    split,
)
from tests.harness import missing_service

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PER_SET = 150
# On each set the product's negative-class F1 must beat the better baseline by this much, and
# by twice as much over all the subset's English texts together. The full evaluation measures
# margins of 0.10 to 0.30; less than this on 150 texts would be a regression, not noise.
MARGIN = 0.05
# Italian comments are read, not "not assessed": negative-class F1 on the whole held-out quarter
# (487 comments). The product issue asks for 0.80 and the shipped model measures 0.809
# (docs/sentiment.md): the requirement is held.
ITALIAN_F1_FLOOR = 0.80


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Result]]:
    if not (DATA / AIRLINE_FILE).exists():
        missing_service(f"labelled data is missing under {DATA} (see ../shared/data/README.md)")
    negative_from = Settings().sentiment_negative_from
    out: dict[str, dict[str, Result]] = {}
    for name, rows in load_sets(DATA, PER_SET).items():
        language = language_of(name)
        out[name] = {s: evaluate(run, rows) for s, run in scorers(negative_from, language).items()}
    return out


@pytest.fixture(scope="module")
def rows() -> dict[str, list[Labelled]]:
    return load_sets(DATA, PER_SET)


def test_the_subset_has_both_classes(rows: dict[str, list[Labelled]]) -> None:
    for name, labelled in rows.items():
        negatives = sum(r.negative for r in labelled)
        assert len(labelled) >= 100 and 0 < negatives < len(labelled), name


def test_product_beats_both_baselines_on_each_set(results: dict[str, dict[str, Result]]) -> None:
    for name, by in results.items():
        product = by["product"].metrics.f1
        baseline = max(by["TextBlob"].metrics.f1, by["VADER"].metrics.f1)
        assert product >= baseline + MARGIN, (name, product, baseline)
        assert by["product"].auc > max(by["TextBlob"].auc, by["VADER"].auc), name


def test_product_beats_both_baselines_on_all_english_texts(
    results: dict[str, dict[str, Result]], rows: dict[str, list[Labelled]]
) -> None:
    english = [n for n in rows if language_of(n) == "en"]
    labels = [r.negative for n in english for r in rows[n]]

    def pooled(scorer: str) -> float:
        return measure([f for n in english for f in results[n][scorer].flags], labels).f1

    assert pooled("product") >= max(pooled("TextBlob"), pooled("VADER")) + 2 * MARGIN


def test_italian_comments_are_read_on_the_whole_held_out_quarter() -> None:
    rows = [r for path in ITALIAN_FILES for r in split(read_project(path))[1]]
    result = evaluate(product_scorer(Settings().sentiment_negative_from), rows)
    assert result.metrics.f1 >= ITALIAN_F1_FLOOR, result.metrics
