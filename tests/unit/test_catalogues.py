"""The catalogues: every message a person reads is translated in each shipped language, keeps its
placeholders, and the formats follow the locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel import Locale

from app.core.i18n import Texts, phrase, phrase_n, texts
from app.core.languages import SHIPPED
from app.locales.extract import html_messages, messages

TRANSLATED = [language for language in SHIPPED if language != "en"]
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@pytest.fixture(scope="module")
def code_messages() -> dict[str | tuple[str, ...], str]:
    return {message: where for message, where in messages()}


def test_the_code_has_messages_from_the_server_the_page_and_its_html(
    code_messages: dict[str | tuple[str, ...], str],
) -> None:
    places = {where.split("/", 1)[0] for where in code_messages.values()}
    assert {"app", "frontend"} <= places
    assert any(where.startswith("frontend/index.html") for where in code_messages.values())
    assert "Detractor with a negative comment" in code_messages


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_code_is_translated(
    language: str, code_messages: dict[str | tuple[str, ...], str]
) -> None:
    catalogue = texts(language)  # type: ignore[arg-type]
    missing = [
        f"{where}: {message!r}"
        for message, where in code_messages.items()
        if (
            message[0] not in catalogue.plurals
            if isinstance(message, tuple)
            else message not in catalogue.messages
        )
    ]
    assert not missing, (
        f"{len(missing)} messages have no {language} translation (run `make i18n`, then translate "
        f"app/locales/{language}.po):\n" + "\n".join(missing[:40])
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_english(language: str) -> None:
    catalogue = texts(language)  # type: ignore[arg-type]
    wrong = [
        (msgid, text)
        for msgid, text in catalogue.messages.items()
        if set(_PLACEHOLDER.findall(msgid)) != set(_PLACEHOLDER.findall(text))
    ]
    for singular, forms in catalogue.plurals.items():
        wanted = set(_PLACEHOLDER.findall(singular)) | {"n"}
        wrong += [
            (singular, form) for form in forms if not set(_PLACEHOLDER.findall(form)) <= wanted
        ]
    assert not wrong


def test_a_message_a_catalogue_lacks_shows_in_english() -> None:
    partial = Texts("fr", {"Open": "Ouverte"}, {}, lambda n: 0 if n <= 1 else 1)
    assert partial.t("Open") == "Ouverte"
    assert partial.t("Closed") == "Closed"
    assert partial.tn("{n} answer", "{n} answers", 2) == "2 answers"


def test_phrases_are_worded_in_the_readers_language_with_local_numbers() -> None:
    said = phrase("negative comment ({percent})", percent=0.93)
    assert texts("en").say(said) == "negative comment (93%)"
    assert texts("fr").say(said) == "commentaire négatif (93\u00a0%)"
    assert texts("it").say(said) == "commento negativo (93%)"
    earlier = phrase_n(
        "{n} earlier time in {days} days", "{n} earlier times in {days} days", 1, days=30
    )
    assert texts("it").say(earlier) == "1 volta in precedenza in 30 giorni"
    assert texts("en").say(earlier) == "1 earlier time in 30 days"


def test_numbers_dates_and_relative_times_follow_the_locale() -> None:
    fr, it, en = texts("fr"), texts("it"), texts("en")
    assert (en.number(12345), fr.number(12345), it.number(12345)) == (
        "12,345",
        "12\u202f345",
        "12.345",
    )
    assert fr.ago(timedelta(minutes=3)) == "il y a 3 minutes"
    assert it.ago(timedelta(minutes=3)) == "3 minuti fa"
    moment = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)
    assert fr.when(moment, UTC).startswith("7 déc. 2026")
    assert it.when(moment, UTC).startswith("7 dic 2026")
    assert (en.signed(12.4), en.signed(-3.6), en.signed(0.2)) == ("+12", "-4", "0")


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_page_gets_each_plural_form_by_the_locales_category(language: str) -> None:
    catalogue = texts(language).page_catalogue()  # type: ignore[arg-type]
    assert catalogue["language"] == language
    categories = set(Locale.parse(language).plural_form.tags) | {"other"}
    assert catalogue["plurals"], "no plural message"
    for forms in catalogue["plurals"].values():
        assert set(forms) == categories
        assert all(forms.values())


def test_the_html_extractor_reads_marked_text_and_attributes() -> None:
    html = (
        "<h1 data-i18n>Customer\n   cockpit</h1><p>Not this</p>"
        '<input data-i18n-attrs="placeholder aria-label" placeholder="Search" aria-label="Find">'
    )
    assert [text for _, text in html_messages(html)] == ["Customer cockpit", "Search", "Find"]
