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
