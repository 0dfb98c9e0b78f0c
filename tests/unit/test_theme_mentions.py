"""Each theme a comment names carries the tone of the clause naming it, and counts for the
themes above it."""

from __future__ import annotations

import pytest

from app.core.events import ThemeMention, Tone
from sentiment import CommentScorer
from sentiment.themes import parse

TAXONOMY = parse(
    {
        "themes": [
            {
                "id": "delivery",
                "name": {"en": "Delivery"},
                "phrases": {"en": ["delivery"], "fr": ["livraison"], "it": ["consegna"]},
            },
            {
                "id": "product",
                "name": {"en": "Product"},
                "phrases": {"en": ["product"], "fr": ["produit"], "it": ["prodotto"]},
            },
            {"id": "billing", "name": {"en": "Billing"}, "phrases": {"en": ["invoice"]}},
            {
                "id": "refund",
                "name": {"en": "Refund"},
                "parent": "billing",
                "phrases": {"en": ["refund"]},
            },
        ]
    }
)
SCORER = CommentScorer(0.5, lambda: TAXONOMY)


def themes(comment: str, language: str | None = "en") -> list[tuple[str, Tone | None]]:
    return [(m.theme, m.tone) for m in SCORER.judge(comment, language=language).themes]


@pytest.mark.parametrize(
    ("comment", "language"),
    [
        ("Good product but the delivery was a disaster", "en"),
        ("Produit excellent, mais la livraison était catastrophique et en retard", "fr"),
        ("Prodotto ottimo, ma la consegna è stata un disastro", "it"),
    ],
)
def test_a_praised_product_and_a_failed_delivery_in_one_comment(
    comment: str, language: str
) -> None:
    (product, product_tone), (delivery, delivery_tone) = themes(comment, language)
    assert (product, delivery, delivery_tone) == ("product", "delivery", Tone.NEGATIVE)
    # Praise reads as positive only when the model is sure (POSITIVE_BELOW); never negative.
    assert product_tone in (Tone.POSITIVE, Tone.NEUTRAL)


def test_a_comment_of_one_clause_gives_its_themes_its_own_tone() -> None:
    reading = SCORER.judge("The delivery was late and the product arrived broken", language="en")
    assert [m.theme for m in reading.themes] == ["delivery", "product"]
    assert {m.tone for m in reading.themes} == {Tone.NEGATIVE}
    assert reading.negative_comment


def test_a_theme_named_twice_takes_its_negative_mention() -> None:
    said = "The delivery man was lovely. But the delivery was two weeks late!"
    assert themes(said) == [("delivery", Tone.NEGATIVE)]


def test_a_child_theme_counts_for_its_parent_in_the_same_tone() -> None:
    assert themes("Still no refund after a month, useless") == [
        ("refund", Tone.NEGATIVE),
        ("billing", Tone.NEGATIVE),
    ]


def test_no_theme_without_a_phrase_and_no_tone_in_a_language_not_read() -> None:
    assert themes("Nothing to say") == []
    assert themes(None) == []  # type: ignore[arg-type]
    german = SCORER.judge("Die delivery war zu spät", language="de").themes
    assert german == [ThemeMention(theme="delivery", tone=None)]
