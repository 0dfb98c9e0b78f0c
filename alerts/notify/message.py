"""What an alert notification says, and its payloads for plain JSON, Slack and Microsoft Teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

NotificationSeverity = Literal["low", "medium", "high"]
PayloadStyle = Literal["json", "slack", "teams"]

# Slack rejects a section text over 3,000 characters and a header over 150.
_SLACK_SECTION_MAX = 3000
_SLACK_FALLBACK_MAX = 500


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert to tell people about; the same value goes to every channel.

    `text` holds a few lines (score, the customer's comment, the reasons); the comment is
    customer text, so each payload builder escapes it for its own format.
    """

    alert_id: int
    rule_id: str
    severity: NotificationSeverity
    org_unit: str
    unit_name: str
    title: str
    text: str
    link: str | None
    recipients: tuple[str, ...]
    escalated: bool = False

    def __post_init__(self) -> None:
        if self.severity not in get_args(NotificationSeverity):
            raise ValueError(f"severity must be low, medium or high, not {self.severity!r}")
        if "\n" in self.title or "\r" in self.title:
            raise ValueError("title must be one line")

    @property
    def headline(self) -> str:
        """The title, marked when the alert was escalated."""
        return f"Escalated: {self.title}" if self.escalated else self.title


def render(notification: Notification, style: PayloadStyle, *, sent_at: datetime) -> dict[str, Any]:
    """The JSON document a webhook of `style` expects."""
    if style == "slack":
        return slack_payload(notification)
    if style == "teams":
        return teams_payload(notification)
    return json_payload(notification, sent_at=sent_at)


def json_payload(notification: Notification, *, sent_at: datetime) -> dict[str, Any]:
    """Every field as is, plus `sent_at` (ISO 8601 with its offset): for our own integrators."""
    n = notification
    return {
        "alert_id": n.alert_id,
        "rule_id": n.rule_id,
        "severity": n.severity,
        "org_unit": n.org_unit,
        "unit_name": n.unit_name,
        "title": n.title,
        "text": n.text,
        "link": n.link,
        "recipients": list(n.recipients),
        "escalated": n.escalated,
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
    headline = slack_escape(n.headline)
    body = f"*{headline}*\n{slack_escape(n.text)}"
    context = [f"Severity: *{n.severity}*", slack_escape(f"{n.unit_name} ({n.org_unit})")]
    context.append(f"Alert #{n.alert_id} · rule `{slack_escape(n.rule_id)}`")
    if n.link:
        context.append(f"<{_slack_url(n.link)}|Open in the cockpit>")
    return {
        "text": _clip(f"[{n.severity}] {headline}", _SLACK_FALLBACK_MAX),
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
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": n.headline,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if n.severity == "high" else "Default",
        },
    ]
    # One block a line: a single newline inside a TextBlock is not a line break in Teams.
    body += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"}
        for line in n.text.splitlines()
        if line.strip()
    ]
    body.append(
        {
            "type": "FactSet",
            "facts": [
                {"title": "Severity", "value": n.severity},
                {"title": "Unit", "value": f"{n.unit_name} ({n.org_unit})"},
                {"title": "Alert", "value": f"#{n.alert_id} ({n.rule_id})"},
            ],
        }
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if n.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in the cockpit", "url": n.link}
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
