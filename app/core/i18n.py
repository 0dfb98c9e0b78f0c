"""Texts in the reader's language, and numbers, dates and plurals the way their locale writes them.

One gettext catalogue per language, `app/locales/<language>.po`, is the only source: the server
reads it for e-mails, webhooks, the digest and API messages, and serves it to the page as JSON
(`page_catalogue`), so the page and an e-mail never word the same thing twice. Each message is
keyed by its English text (the msgid): English needs no catalogue, and a message a catalogue lacks
is shown in English. `python -m app.locales.extract` (`make i18n`) collects the messages from the
code into `app/locales/messages.pot` and adds the new ones to each catalogue; a unit test fails
while any is untranslated.

Placeholders are named, `{unit}`, in Python's format syntax, for both the server and the page.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Union

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from app.core.languages import Language

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where shown."""
    return message


# A message with its parameters, as the server hands it to whoever words it: an e-mail in the
# recipient's language, or the page in its reader's (`say` in frontend/i18n.js). A parameter is
# text shown as is (a unit's name, a customer's phrase), a number written the local way (one named
# `*percent` is a share shown as a percentage, one named `*nps` an NPS with its sign), or another
# message, worded first.
Param = Union[str, int, float, None, "Phrase", "Named"]


@dataclass(frozen=True, slots=True)
class Named:
    """A name given in each language by whoever named the thing (a theme of the taxonomy), not
    by the catalogue: worded as the reader's language's name, else the English one."""

    names: Mapping[str, str]

    def wire(self) -> dict[str, Any]:
        return {"names": dict(self.names)}


@dataclass(frozen=True, slots=True)
class Phrase:
    message: str
    params: Mapping[str, Param] = field(default_factory=dict)
    # With a plural: `message` is the singular, `plural` the English plural, `n` the count.
    plural: str | None = None
    n: int | None = None

    def wire(self) -> dict[str, Any]:
        """As JSON for the page: {"message", "params", "plural"?, "n"?}."""
        out: dict[str, Any] = {
            "message": self.message,
            "params": {
                k: v.wire() if isinstance(v, Phrase | Named) else v for k, v in self.params.items()
            },
        }
        if self.plural is not None:
            out |= {"plural": self.plural, "n": self.n}
        return out


def phrase(message: str, **params: Param) -> Phrase:
    return Phrase(message, params)


def phrase_n(singular: str, plural: str, n: int, **params: Param) -> Phrase:
    return Phrase(singular, params, plural, n)


def listed(parts: Sequence[Phrase | Named | str], separator: str = "; ") -> Phrase:
    """Several phrases on one line, each worded in the reader's language: a list, not a
    sentence, so the separator is not translated and the parts keep their order."""
    names = [f"part{i}" for i in range(len(parts))]
    template = separator.join("{" + name + "}" for name in names)
    return Phrase(template, dict(zip(names, parts, strict=True)))


def quote(words: str) -> Phrase:
    """A customer's own words, quoted the reader's way: “still waiting”, « toujours rien »."""
    return phrase("\u201c{phrase}\u201d", phrase=words)


@dataclass(frozen=True, slots=True)
class Texts:
    """One language's messages and formats. `t` and `tn` are the names the extractor looks for."""

    language: Language
    messages: Mapping[str, str]
    # A plural message's forms by gettext index, keyed by its singular msgid.
    plurals: Mapping[str, tuple[str, ...]]
    plural_index: Callable[[int], int]

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def t(self, message: str, **params: Any) -> str:
        """`message` in this language (in English when the catalogue lacks it), filled in."""
        text = self.messages.get(message) or message
        return text.format(**params) if params else text

    def tn(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """The form of a message that fits the count `n`; `{n}` is the count, written locally."""
        forms = self.plurals.get(singular)
        if forms:
            index = self.plural_index(n)
            text = forms[index] if index < len(forms) and forms[index] else plural
        else:
            text = singular if n == 1 else plural
        return text.format(n=self.number(n), **params)

    def say(self, said: Phrase) -> str:
        """A phrase in this language, its parameters worded and written the local way."""
        params = {name: self._param(name, value) for name, value in said.params.items()}
        if said.plural is not None and said.n is not None:
            return self.tn(said.message, said.plural, said.n, **params)
        return self.t(said.message, **params)

    def _param(self, name: str, value: Param) -> str:
        if isinstance(value, Phrase):
            return self.say(value)
        if isinstance(value, Named):
            return value.names.get(self.language) or value.names.get("en") or ""
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return "" if value is None else str(value)
        if name.endswith("percent"):
            return self.percent(value)
        if name.endswith("nps"):
            return self.signed(value)
        return self.number(value, digits=0 if isinstance(value, int) else 2)

    def number(self, value: float, digits: int = 0) -> str:
        """12 345,5 in French, 12.345,5 in Italian; at most `digits` decimals."""
        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def signed(self, value: float) -> str:
        """An NPS as the cockpit shows it: an integer, with its sign when above zero."""
        rounded = round(value)
        return f"+{rounded}" if rounded > 0 else str(rounded)

    def percent(self, share: float) -> str:
        """0.93 as 93 % in French, 93% in English and Italian."""
        return format_percent(share, locale=self.language)

    def when(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """A date and time as the locale writes it, e.g. 7 déc. 2026, 09:05."""
        return format_datetime(moment, "medium", tzinfo=zone, locale=self.language)

    def ago(self, elapsed: timedelta) -> str:
        """How long ago, e.g. il y a 3 minutes."""
        return format_timedelta(-elapsed, add_direction=True, locale=self.language)

    def page_catalogue(self) -> dict[str, Any]:
        """What the page loads (GET /i18n/<language>.json): messages, and plural forms by CLDR
        category (`Intl.PluralRules` on the page names the category of a count)."""
        categories = _categories(self.language, self.plural_index)
        plurals = {
            singular: {category: forms[i] for category, i in categories.items() if i < len(forms)}
            for singular, forms in self.plurals.items()
        }
        return {"language": self.language, "messages": dict(self.messages), "plurals": plurals}


def _categories(language: str, plural_index: Callable[[int], int]) -> dict[str, int]:
    """Each CLDR plural category of the language with the gettext form it takes."""
    rule = Locale.parse(language).plural_form
    found: dict[str, int] = {}
    for n in (*range(0, 201), 1_000_000, 2_000_000):
        found.setdefault(rule(n), plural_index(n))
    return found


def catalogue_path(language: str) -> Path:
    return LOCALES / f"{language}.po"


@cache
def texts(language: Language) -> Texts:
    """The texts of a shipped language, read once."""
    if language == "en":
        return Texts("en", {}, {}, lambda n: 0 if n == 1 else 1)
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(message.string) if isinstance(message.string, tuple) else ()
            if all(forms):
                plurals[message.id[0]] = forms
        elif isinstance(message.string, str) and message.string:
            messages[str(message.id)] = message.string
    return Texts(language, messages, plurals, gettext.c2py(catalog.plural_expr))
