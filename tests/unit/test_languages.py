"""Which language a reader gets: their choice, else their browser's, else the organisation's."""

from __future__ import annotations

import pytest

from app.core.languages import accepted, choose, shipped


def test_a_browsers_languages_come_most_wanted_first_and_unwanted_ones_not_at_all() -> None:
    header = "de-CH;q=0.5, it-IT, fr;q=0.9, en;q=0, *;q=0.1, es;q=bad"
    assert accepted(header) == ["it-IT", "fr", "de-CH"]


def test_equal_weights_keep_the_browsers_order() -> None:
    assert accepted("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.8") == ["fr-FR", "fr", "en-US", "en"]
    assert accepted(None) == accepted("") == []


@pytest.mark.parametrize(
    ("tag", "language"),
    [("fr-CH", "fr"), ("IT", "it"), ("en_GB", "en"), (" fr ", "fr"), ("de", None), ("", None)],
)
def test_a_tag_names_a_shipped_language_by_its_primary_subtag(
    tag: str, language: str | None
) -> None:
    assert shipped(tag) == language


@pytest.mark.parametrize(
    ("own", "header", "default", "expected"),
    [
        # The reader's own choice wins over their browser.
        ("it", "fr-FR,fr;q=0.9", "en", "it"),
        # A French browser in an English-speaking organisation gets French.
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "en", "fr"),
        # A German browser gets the first shipped language it also accepts...
        (None, "de-DE,de;q=0.9,it;q=0.5", "en", "it"),
        # ...and, accepting none, the organisation's.
        (None, "de-DE,de;q=0.9", "fr", "fr"),
        (None, None, "it", "it"),
        # A choice no longer shipped falls back like no choice.
        ("de", "it-IT", "en", "it"),
    ],
)
def test_a_reader_gets_their_choice_else_their_browsers_else_the_organisations(
    own: str | None, header: str | None, default: str, expected: str
) -> None:
    assert choose(own, header, default) == expected  # type: ignore[arg-type]
