"""The languages the cockpit speaks, and which one a reader gets: the one they chose, else the
first their browser accepts, else the organisation's (VOC_DEFAULT_LANGUAGE)."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["en", "fr", "it"]
SHIPPED: tuple[Language, ...] = get_args(Language)
# Each language named in itself, as a language menu lists it.
NAMES: dict[Language, str] = {"en": "English", "fr": "Français", "it": "Italiano"}


def shipped(tag: str | None) -> Language | None:
    """The shipped language of a tag ('fr-CH', 'IT', 'en_GB'), or None."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    for language in SHIPPED:
        if language == primary:
            return language
    return None


def accepted(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first; those weighted 0 (not
    wanted) or unreadable are left out, and equal weights keep the header's order."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        if tag and tag != "*" and 0 < weight <= 1:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose(own: str | None, accept_language: str | None, default: Language) -> Language:
    """The language a reader gets: their own choice, else the first shipped language their
    browser accepts, else the organisation's."""
    if (chosen := shipped(own)) is not None:
        return chosen
    for tag in accepted(accept_language):
        if (language := shipped(tag)) is not None:
            return language
    return default
