"""Why an alert was raised, as phrases each reader words in their own language: the one place the
rules' titles and reasons are said. E-mails, webhooks and the digest word them on the server
(alerts/texts.py); the page gets them in each alert's `why` and words them itself (`say`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.i18n import N_, Named, Phrase, listed, phrase, phrase_n, quote

# The shipped rules (alerts/rules.yaml); another rule is named by its description, else its id.
TITLES = {
    "detractor-negative-comment": N_("Detractor with a negative comment"),
    "csat-dissatisfied": N_("Dissatisfied customer (CSAT)"),
    "ces-high-effort": N_("High customer effort"),
    "churn-language": N_("Customer talks of leaving"),
    "repeat-dissatisfied": N_("Customer dissatisfied again"),
    "unit-nps-drop": N_("NPS drop"),
}


# A score rule's threshold, as its reasons name it.
_BOUNDS = {
    "at_most": N_("{kind} {score} (at most {bound})"),
    "at_least": N_("{kind} {score} (at least {bound})"),
}


def title(rule_id: str, description: str | None = None) -> Phrase:
    """A rule's title: a shipped rule's in the catalogue; another's description, as written."""
    if rule_id in TITLES:
        return phrase(TITLES[rule_id])
    return phrase(description or rule_id.replace("-", " ").capitalize())


def reasons(found: Mapping[str, Any]) -> list[Phrase]:
    """What one rule found (its entry in an alert's `reasons`), a phrase per finding."""
    out: list[Phrase] = []
    if "score" in found:
        kind = str(found.get("score_kind", "")).upper() or "NPS"
        bound = next((key for key in _BOUNDS if key in found), None)
        if bound is None:
            out.append(phrase("{kind} {score}", kind=kind, score=found["score"]))
        else:
            said = _BOUNDS[bound]
            out.append(phrase(said, kind=kind, score=found["score"], bound=found[bound]))
    probability = found.get("probability")
    if isinstance(probability, int | float):
        out.append(negative_comment(float(probability)))
    for key in ("phrases", "matched"):
        given = found.get(key)
        words = [p for p in given if isinstance(p, str) and p] if isinstance(given, list) else []
        if words:
            out.append(phrase("says {phrases}", phrases=listed([quote(p) for p in words], ", ")))
    if isinstance(found.get("earlier"), list):
        n = len(found["earlier"])
        out.append(
            phrase_n(
                "{n} earlier time in {days} days",
                "{n} earlier times in {days} days",
                n,
                days=found.get("within_days"),
            )
        )
    if "drop" in found:
        out.append(
            phrase(
                "NPS {hour_nps} in the last hour on {hour} answers against {week_nps} "
                "over 7 days on {week}, {drop} points down",
                hour_nps=found.get("hour_nps"),
                hour=found.get("hour_responses"),
                week_nps=found.get("week_nps"),
                week=found.get("week_responses"),
                drop=round(float(found["drop"])),
            )
        )
    grown = found.get("themes_grown")
    if isinstance(grown, list) and grown:
        themes = [
            phrase(
                "{theme} ({recent_percent} of the themes named lately, {week_percent} over 7 days)",
                theme=Named(g["names"]) if isinstance(g.get("names"), dict) else g.get("theme"),
                recent_percent=g.get("recent"),
                week_percent=g.get("week"),
            )
            for g in grown
            if isinstance(g, dict)
        ]
        out.append(phrase("talked about more: {themes}", themes=listed(themes, ", ")))
    return out


def negative_comment(probability: float) -> Phrase:
    # A model is never certain: 0.998 reads "over 99 %", not "100 %".
    if probability > 0.99:
        return phrase("negative comment (over {percent})", percent=0.99)
    return phrase("negative comment ({percent})", percent=round(probability, 2))


def why(reasons_by_rule: Mapping[str, Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """An alert's reasons, rule by rule, as the page gets them (each phrase's wire form)."""
    return {rule: [p.wire() for p in reasons(found)] for rule, found in reasons_by_rule.items()}


# The names of an alert's fields' values, as the page and the e-mails show them.
SEVERITIES = {
    "none": N_("No severity"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}
STATES = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
OUTCOMES = {
    "reached": N_("Reached the customer"),
    "no_answer": N_("No answer"),
    "resolved": N_("Resolved on the call"),
}
# The default root causes (VOC_ALERT_ROOT_CAUSES); another is named by its id in words.
ROOT_CAUSES = {
    "product": N_("Product"),
    "delivery": N_("Delivery"),
    "installation": N_("Installation"),
    "staff-behaviour": N_("Staff behaviour"),
    "waiting-time": N_("Waiting time"),
    "billing": N_("Billing"),
    "communication": N_("Communication"),
    "process": N_("Process"),
    "other": N_("Other"),
}


def in_words(slug: str) -> str:
    """An id such as `staff-behaviour` as words: "Staff behaviour"."""
    text = slug.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def root_cause(cause: str) -> str:
    """A root cause's name (an English msgid, or the id in words for a cause of one's own)."""
    return ROOT_CAUSES.get(cause) or in_words(cause)
