"""What an alert says to people: its title and the lines that explain it, as phrases each reader
gets in their own language (`Texts.say`). The rules' titles and reasons are said in
app/core/explain.py; this module puts an alert's together for e-mails and webhooks. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.rules import RuleBook
from app.core import explain
from app.core.events import AlertView, Reason, ReasonKind
from app.core.i18n import Param, Phrase, listed, phrase, quote, texts


def title(rule_id: str, book: RuleBook | None = None) -> Phrase:
    """A rule's title; a rule of another book is named by its description."""
    description = None
    if book is not None:
        description = next((r.description for r in book.rules if r.id == rule_id), None)
    return explain.title(rule_id, description)


def alert_title(alert: AlertView, unit_name: str, book: RuleBook | None = None) -> Phrase:
    """E.g. "Detractor with a negative comment at Lyon Part-Dieu"."""
    rule = alert.rules[0] if alert.rules else "alert"
    return phrase("{rule} at {unit}", rule=title(rule, book), unit=unit_name)


def lines(alert: AlertView, book: RuleBook | None = None) -> list[Phrase]:
    """What a notification says below its title: the answer, the comment, why."""
    out: list[Phrase] = []
    if alert.response is not None:
        r = alert.response
        # Codes and a number, the same in every language: not a message to translate.
        out.append(
            Phrase(
                "{kind} {score} · {touchpoint} · {channel}",
                {
                    "kind": r.score_kind.value.upper(),
                    "score": r.score,
                    "touchpoint": r.touchpoint,
                    "channel": r.channel.value,
                },
            )
        )
        if r.comment:
            out.append(quote(r.comment))
        if r.reasons:
            # The sentiment stage's reasons, as the cockpit shows them: phrases in quotes.
            out.append(phrase("Why: {reasons}", reasons=listed([reason(x) for x in r.reasons])))
    for rule_id, found in alert.reasons.items():
        said = explain.reasons(found)
        named = title(rule_id, book)
        out.append(
            phrase("{rule}: {reasons}", rule=named, reasons=listed(said, ", ")) if said else named
        )
    return out


def reason(given: Reason) -> Phrase | str:
    """A sentiment reason to word: its phrase, else (a reason stored before phrases were kept)
    its English label; a matched phrase is the customer's own words, quoted as written."""
    if given.kind is ReasonKind.PHRASE:
        return quote(given.label)
    said = from_wire(given.words) if given.words else None
    if said is None:
        return given.label
    try:
        texts("en").say(said)
    except (KeyError, IndexError, ValueError):  # a placeholder without its value
        return given.label
    return said


def from_wire(wire: Mapping[str, Any]) -> Phrase | None:
    """A phrase back from its JSON (`Phrase.wire`); None when it is not one."""
    message, given = wire.get("message"), wire.get("params", {})
    if not isinstance(message, str) or not isinstance(given, Mapping):
        return None
    params: dict[str, Param] = {}
    for name, value in given.items():
        if isinstance(value, Mapping):
            nested = from_wire(value)
            if nested is None:
                return None
            params[str(name)] = nested
        elif value is None or isinstance(value, str | int | float):
            params[str(name)] = value
        else:
            return None
    plural, n = wire.get("plural"), wire.get("n")
    if isinstance(plural, str) and isinstance(n, int):
        return Phrase(message, params, plural, n)
    return Phrase(message, params)
