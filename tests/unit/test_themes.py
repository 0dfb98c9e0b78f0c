"""Themes: which themes of a taxonomy a comment talks about, and clear errors for a bad file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentiment.themes import DEFAULT_FILE, TaxonomyError, fold, load, parse

TAXONOMY: dict[str, Any] = {
    "version": 3,
    "themes": [
        {
            "id": "delivery",
            "name": {"en": "Delivery", "fr": "Livraison"},
            "phrases": {
                "en": ["deliver*", "parcel", "late delivery"],
                "fr": ["livraison", "colis"],
            },
        },
        {
            "id": "punctuality",
            "name": {"en": "Punctuality"},
            "phrases": {"en": ["late", "on time"], "fr": ["en retard"]},
        },
        {
            "id": "billing-refund",
            "name": {"en": "Refunds"},
            "parent": "billing",
            "phrases": {"en": ["refund*"], "it": ["rimborso"]},
        },
        {"id": "billing", "name": {"en": "Billing"}, "phrases": {"en": ["invoice"]}},
    ],
}


def test_a_comment_gets_the_themes_it_mentions_in_order_of_first_mention() -> None:
    themes = parse(TAXONOMY)
    assert themes.find("Refund still not here and the parcel was late.", "en") == (
        "billing-refund",
        "delivery",
        "punctuality",
    )
    assert themes.find("Friendly staff.", "en") == ()
    assert themes.find(None) == themes.find("") == ()


def test_words_match_whole_case_and_accents_aside_and_a_star_ends_a_word() -> None:
    themes = parse(TAXONOMY)
    assert themes.find("DELIVERED on TIME", "en") == ("delivery", "punctuality")
    # "lately" is not "late"; "deliver*" needs the word to begin with it.
    assert themes.find("Lately, the undelivered invoice", "en") == ("billing",)
    assert themes.find("La LIVRAISON était EN RETARD", "fr") == ("delivery", "punctuality")
    assert fold("L'Équipe à Crèvecœur, rendez-vous") == "l equipe a crevecoeur, rendez vous"


def test_the_longest_phrase_wins_so_late_delivery_is_delivery_not_punctuality() -> None:
    assert parse(TAXONOMY).find("A late delivery again", "en") == ("delivery",)


def test_a_comment_in_a_language_without_phrases_is_matched_on_every_language() -> None:
    themes = parse(TAXONOMY)
    assert themes.find("Il rimborso non è arrivato", "it") == ("billing-refund",)
    assert themes.find("colis perdu, refund please", None) == ("delivery", "billing-refund")
    # French phrases are not looked for in an English comment.
    assert themes.find("the colis", "en") == ()


def test_themes_keep_their_names_parents_and_the_files_version() -> None:
    themes = parse(TAXONOMY)
    assert themes.version == 3
    refund = themes.get("billing-refund")
    assert refund is not None and refund.parent == "billing"
    assert themes.get("delivery").names["fr"] == "Livraison"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Delivery!"}, "themes.0.id: lowercase letters, digits and hyphens"),
        ({"name": "Delivery"}, "themes.0.name: a name per language"),
        ({"phrases": {}}, "themes.0.phrases: phrases per language"),
        ({"phrases": {"en": ["del*"]}}, "'del*': at least 4 letters before a '*'"),
        ({"phrases": {"en": ["a b c d e"]}}, "'a b c d e' is not one to four words"),
        ({"phrases": {"en": ["deli*very"]}}, "words only, '*' at a word's end"),
        ({"parent": "nowhere"}, "themes.0.parent: no theme 'nowhere'"),
        ({"id": "billing"}, "themes.3.id: 'billing' is given twice"),
    ],
)
def test_a_bad_taxonomy_is_refused_naming_the_theme_and_field(
    change: dict[str, Any], message: str
) -> None:
    broken = {**TAXONOMY, "themes": [{**TAXONOMY["themes"][0], **change}, *TAXONOMY["themes"][1:]]}
    with pytest.raises(TaxonomyError, match=message.replace("(", r"\(").replace("*", r"\*")):
        parse(broken)


def test_a_file_that_is_not_yaml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text("themes: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=str(path)):
        load(path)


def test_the_default_taxonomy_loads_with_names_and_phrases_in_three_languages() -> None:
    themes = load(DEFAULT_FILE)
    assert len(themes.themes) >= 12
    for theme in themes.themes:
        assert set(theme.names) >= {"en", "fr", "it"}, theme.id
        assert set(theme.phrases) >= {"en", "fr", "it"}, theme.id
    said = {
        "en": "The delivery was late and nobody answered the phone.",
        "fr": "Livraison en retard et personne ne répond au téléphone.",
        "it": "Consegna in ritardo e nessuno risponde al telefono.",
    }
    for language, comment in said.items():
        assert "delivery" in themes.find(comment, language), language


AIRLINE: dict[str, Any] = {
    "themes": [
        {
            "id": "luggage",
            "name": {"en": "Lost luggage"},
            "weight": 2,
            "phrases": {"en": ["lost my bag", "baggage claim"]},
            "hints": {"en": ["bag", "bags"]},
        },
        {
            "id": "service",
            "name": {"en": "Customer service"},
            "phrases": {"en": ["on hold", "hung up"]},
            "hints": {"en": ["agent*", "bag"]},
        },
        {
            "id": "booking",
            "name": {"en": "Booking"},
            "weight": 0.5,
            "phrases": {"en": ["rebook*", "my ticket"]},
        },
    ],
}


def test_hints_are_found_like_phrases_and_weigh_a_quarter_of_one() -> None:
    themes = parse(AIRLINE)
    comment = "The agent said my bag is at baggage claim"
    assert themes.find(comment, "en") == ("service", "luggage")
    assert themes.weigh(comment, "en") == {"service": 0.25, "luggage": 2 * 0.25 + 2}
    assert themes.weigh(None) == themes.weigh("") == {}


def test_the_primary_theme_is_the_one_said_with_the_most_weight() -> None:
    themes = parse(AIRLINE)
    # Named in passing, the bag loses to a phrase of customer service.
    assert themes.primary("Two hours on hold about my bag", "en") == "service"
    # Booking weighs half: two of its phrases lose to a phrase and a hint of service.
    assert themes.primary("The agent hung up, so I had to rebook my ticket", "en") == "service"
    assert themes.primary("Rebooked, but you lost my bag", "en") == "luggage"
    assert themes.primary("Nothing to say", "en") is None
    assert themes.primary(None) is None


def test_of_themes_said_with_equal_weight_the_first_mentioned_is_primary() -> None:
    themes = parse(AIRLINE)
    # Two phrases of service weigh as one of luggage, whose weight is 2.
    assert themes.primary("On hold, then lost my bag, then hung up", "en") == "service"
    assert themes.primary("Lost my bag, then on hold, then hung up", "en") == "luggage"


def test_words_listed_as_a_phrase_and_as_a_hint_stay_the_phrase() -> None:
    # "bag" is a hint of both luggage and service: the first theme of the file keeps it.
    assert parse(AIRLINE).weigh("bag", "en") == {"luggage": 0.5}
    both = {
        "themes": [
            {
                "id": "service",
                "name": {"en": "Service"},
                "phrases": {"en": ["x"]},
                "hints": {"en": ["bag"]},
            },
            {"id": "luggage", "name": {"en": "Luggage"}, "phrases": {"en": ["bag"]}},
        ]
    }
    assert parse(both).weigh("my bag", "en") == {"luggage": 1.0}


def test_a_theme_without_weight_or_hints_weighs_one_per_phrase() -> None:
    themes = parse(TAXONOMY)
    assert themes.get("delivery").weight == 1.0  # type: ignore[union-attr]
    assert themes.get("delivery").hints == {}  # type: ignore[union-attr]
    assert themes.weigh("Parcel late, parcel lost", "en") == {"delivery": 2.0, "punctuality": 1.0}
    assert themes.primary("Late, late, and the parcel", "en") == "punctuality"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weight": 0}, "themes.0.weight: a number above 0 and at most 100"),
        ({"weight": "high"}, "themes.0.weight: a number above 0"),
        ({"weight": True}, "themes.0.weight: a number above 0"),
        ({"hints": ["bag"]}, "themes.0.hints: phrases per language"),
        ({"hints": {"en": "bag"}}, "themes.0.hints.en: a list of phrases"),
        ({"hints": {"en": ["bag*"]}}, "themes.0.hints.en: 'bag*': at least 4 letters"),
    ],
)
def test_a_bad_weight_or_hint_is_refused_naming_the_theme_and_field(
    change: dict[str, Any], message: str
) -> None:
    broken = {**AIRLINE, "themes": [{**AIRLINE["themes"][0], **change}, *AIRLINE["themes"][1:]]}
    with pytest.raises(TaxonomyError, match=message.replace("(", r"\(").replace("*", r"\*")):
        parse(broken)
