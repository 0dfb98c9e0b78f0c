"""What an alert notification says, in its readers' language, and its payloads for plain JSON,
Slack and Microsoft Teams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from app.core.explain import SEVERITIES
from app.core.i18n import Phrase, Texts, texts
from app.core.languages import Language

NotificationSeverity = Literal["low", "medium", "high"]
PayloadStyle = Literal["json", "slack", "teams"]

# Slack rejects a section text over 3,000 characters and a header over 150.
_SLACK_SECTION_MAX = 3000
_SLACK_FALLBACK_MAX = 500


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert to tell people about; the same value goes to every channel, and each channel
    words it for its readers (`worded`): a webhook in `language`, the organisation's; an e-mail
    in each recipient's (`languages`), one e-mail per language.

    `title` and `lines` are phrases (app/core/i18n.py). The customer's comment and phrases are
    parameters in them, shown as written: each payload builder escapes the worded text for its
    own format.
    """

    alert_id: int
    rule_id: str
    severity: NotificationSeverity
    org_unit: str
    unit_name: str
    title: Phrase
    lines: tuple[Phrase, ...]
    link: str | None
    recipients: tuple[str, ...]
    escalated: bool = False
    language: Language = "en"
    # Each recipient's language; a recipient not in it reads `language`.
    languages: Mapping[str, Language] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in get_args(NotificationSeverity):
            raise ValueError(f"severity must be low, medium or high, not {self.severity!r}")
        title = texts("en").say(self.title)
        if "\n" in title or "\r" in title:
            raise ValueError("title must be one line")

    @property
    def where(self) -> str:
        """The unit, by name and id."""
        return f"{self.unit_name} ({self.org_unit})"

    def audiences(self) -> list[tuple[Language, tuple[str, ...]]]:
        """The recipients by the language they read, each language once, first come first."""
        groups: dict[Language, list[str]] = {}
        for address in self.recipients:
            groups.setdefault(self.languages.get(address, self.language), []).append(address)
        return [(language, tuple(addresses)) for language, addresses in groups.items()]


@dataclass(frozen=True, slots=True)
class Worded:
    """A notification in one language."""

    words: Texts
    title: str
    # The title, marked when the alert was escalated.
    headline: str
    text: str
    severity: str


def worded(notification: Notification, language: Language | None = None) -> Worded:
    """`notification` in `language` (by default its own: the organisation's)."""
    n = notification
    words = texts(language or n.language)
    title = words.say(n.title)
    return Worded(
        words=words,
        title=title,
        headline=words.t("Escalated: {title}", title=title) if n.escalated else title,
        text="\n".join(words.say(line) for line in n.lines),
        severity=words.t(SEVERITIES[n.severity]),
    )


def render(notification: Notification, style: PayloadStyle, *, sent_at: datetime) -> dict[str, Any]:
    """The JSON document a webhook of `style` expects."""
    if style == "slack":
        return slack_payload(notification)
    if style == "teams":
        return teams_payload(notification)
    return json_payload(notification, sent_at=sent_at)


def json_payload(notification: Notification, *, sent_at: datetime) -> dict[str, Any]:
    """Every field, worded in the notification's language (`language`, its code), plus `sent_at`
    (ISO 8601 with its offset): for our own integrators. `severity` stays a code."""
    n = notification
    w = worded(n)
    return {
        "alert_id": n.alert_id,
        "rule_id": n.rule_id,
        "severity": n.severity,
        "org_unit": n.org_unit,
        "unit_name": n.unit_name,
        "title": w.title,
        "text": w.text,
        "link": n.link,
        "recipients": list(n.recipients),
        "escalated": n.escalated,
        "language": w.words.language,
        "sent_at": sent_at.isoformat(),
    }


def slack_escape(text: str) -> str:
    """Text shown literally in Slack mrkdwn: `&`, `<` and `>` become entities.

    Without it a comment could open a link (`<http://…|…>`) or ping a channel (`<!channel>`).
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` for notifications, then Block Kit blocks."""
    n = notification
    w = worded(n)
    t = w.words.t
    headline = slack_escape(w.headline)
    body = f"*{headline}*\n{slack_escape(w.text)}"
    severity, rule = "*" + w.severity + "*", "`" + n.rule_id + "`"
    context = [
        slack_escape(t("Severity: {severity}", severity=severity)),
        slack_escape(n.where),
        slack_escape(t("Alert #{id} · rule {rule}", id=str(n.alert_id), rule=rule)),
    ]
    if n.link:
        label = slack_escape(t("Open in the cockpit"))
        context.append(f"<{_slack_url(n.link)}|{label}>")
    return {
        "text": _clip(f"[{slack_escape(w.severity)}] {headline}", _SLACK_FALLBACK_MAX),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(body, _SLACK_SECTION_MAX)},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": item} for item in context],
            },
        ],
    }


def teams_payload(notification: Notification) -> dict[str, Any]:
    """An Adaptive Card in the message envelope that Teams Workflows webhooks accept.

    Workflows ("When a Teams webhook request is received") replace the Office 365 connectors,
    which Microsoft is retiring, and take Adaptive Cards only, not the legacy MessageCard.
    """
    n = notification
    w = worded(n)
    t = w.words.t
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": w.headline,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if n.severity == "high" else "Default",
        },
    ]
    # One block a line: a single newline inside a TextBlock is not a line break in Teams.
    body += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"}
        for line in w.text.splitlines()
        if line.strip()
    ]
    body.append(
        {
            "type": "FactSet",
            "facts": [
                {"title": t("Severity"), "value": w.severity},
                {"title": t("Unit"), "value": n.where},
                {"title": t("Alert"), "value": f"#{n.alert_id} ({n.rule_id})"},
            ],
        }
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "lang": w.words.language,
        "body": body,
    }
    if n.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": t("Open in the cockpit"), "url": n.link}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _slack_url(url: str) -> str:
    # Inside <url|label>, "|" would end the URL and the entities would be read as text.
    return slack_escape(url).replace("|", "%7C")


def _clip(escaped: str, limit: int) -> str:
    """At most `limit` characters, never cutting an entity such as `&amp;` in half."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
