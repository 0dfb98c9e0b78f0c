"""The demo company's customers write in English, French and Italian, and the cockpit reads each."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from app import demo
from sentiment import CommentScorer


def test_demo_comments_come_in_the_three_languages_and_each_is_read_in_its_own() -> None:
    rng, now, scorer = random.Random(7), datetime.now(UTC), CommentScorer(0.5)
    read: Counter[str | None] = Counter()
    for _ in range(600):
        response = demo.generate(rng, now)
        if response.comment:
            assessment = scorer.assess(response)
            read[assessment.comment_language if assessment.polarity is not None else None] += 1
    assert {"en", "fr", "it"} <= set(read)
    assert min(read["en"], read["fr"], read["it"]) > 50
    # German comments stay "not assessed": the scorer does not read German.
    assert read[None] < 0.05 * sum(read.values())


def test_the_nice_store_mostly_hears_italian() -> None:
    rng, now = random.Random(3), datetime.now(UTC)
    nice = Counter(
        r.language
        for r in (demo.generate(rng, now) for _ in range(3000))
        if r.org_unit == "nice-11" and r.comment
    )
    assert nice.most_common(1)[0][0] == "it"
