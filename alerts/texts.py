"""What alerts say to people: rule titles and the lines that explain an alert. The one place
these words live: e-mails, webhooks and the digest read them here, the page gets them from
`GET /api/v1/alerts/rules` and renders codes with them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.rules import RuleBook
from app.core.events import AlertView, ReasonKind

# The shipped rules (alerts/rules.yaml) in plain words; another rule is named by its description.
TITLES = {
    "detractor-negative-comment": "Detractor with a negative comment",
    "csat-dissatisfied": "Dissatisfied customer (CSAT)",
    "ces-high-effort": "High customer effort",
    "churn-language": "Customer talks of leaving",
    "repeat-dissatisfied": "Customer dissatisfied again",
    "unit-nps-drop": "NPS drop",
}


def title(rule_id: str, book: RuleBook | None = None) -> str:
    if rule_id in TITLES:
        return TITLES[rule_id]
    if book is not None:
        for rule in book.rules:
            if rule.id == rule_id and rule.description:
                return rule.description
    return rule_id.replace("-", " ").capitalize()


def titles(book: RuleBook) -> dict[str, str]:
    """Each rule of the book by its title."""
    return {rule.id: title(rule.id, book) for rule in book.rules}


def alert_title(alert: AlertView, unit_name: str, book: RuleBook | None = None) -> str:
    rule = alert.rules[0] if alert.rules else "alert"
    return f"{title(rule, book)} at {unit_name}"


def why(rule_id: str, reasons: Mapping[str, Any]) -> str:
    """One rule's reasons in words, e.g. `NPS 2 (at most 6), negative comment 93 %`."""
    parts = []
    if "score" in reasons:
        kind = str(reasons.get("score_kind", "")).upper()
        bound = ""
        if "at_most" in reasons:
            bound = f" (at most {reasons['at_most']})"
        elif "at_least" in reasons:
            bound = f" (at least {reasons['at_least']})"
        parts.append(f"{kind} {reasons['score']}{bound}".strip())
    if reasons.get("probability") is not None:
        parts.append(f"negative comment {round(100 * float(reasons['probability']))} %")
    if reasons.get("phrases"):
        parts.append("says " + ", ".join(f"“{p}”" for p in reasons["phrases"]))
    if reasons.get("matched"):
        parts.append("says " + ", ".join(f"“{p}”" for p in reasons["matched"]))
    if reasons.get("earlier"):
        n = len(reasons["earlier"])
        parts.append(f"{n} earlier time{'s' if n > 1 else ''} in {reasons.get('within_days')} days")
    if "drop" in reasons:
        parts.append(
            f"NPS {reasons['hour_nps']:+.0f} in the last hour on {reasons['hour_responses']} "
            f"answers against {reasons['week_nps']:+.0f} over 7 days on "
            f"{reasons['week_responses']}"
        )
    return f"{title(rule_id)}: " + ", ".join(parts) if parts else title(rule_id)


def lines(alert: AlertView) -> list[str]:
    """What a notification says below its title: the answer, the comment, why."""
    out = []
    if alert.response is not None:
        r = alert.response
        out.append(f"{r.score_kind.value.upper()} {r.score} · {r.touchpoint} · {r.channel.value}")
        if r.comment:
            out.append(f"“{r.comment}”")
        if r.reasons:
            # The sentiment stage's reasons, as the cockpit shows them: phrases in quotes.
            labels = (f"“{x.label}”" if x.kind is ReasonKind.PHRASE else x.label for x in r.reasons)
            out.append("Why: " + "; ".join(labels))
    out += [why(rule_id, reasons) for rule_id, reasons in alert.reasons.items()]
    return out
