"""Alert notifications: whom to tell (the managers up the tree), over which channels, and the
record of every delivery in the alert's history."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from alerts import texts
from alerts.notify import (
    DeliveryResult,
    Dispatcher,
    EmailNotifier,
    Notification,
    Notifier,
    WebhookNotifier,
)
from app.core.events import AlertView, Severity
from app.core.languages import Language, choose
from app.core.settings import Settings
from app.db import alerting, directory

log = logging.getLogger(__name__)

SYSTEM = "system"


class AlertNotifier:
    """Sends each new or escalated alert to every configured channel, without blocking."""

    def __init__(self, settings: Settings, engine: sa.Engine, units: directory.TreeCache) -> None:
        self._settings, self._engine, self._units = settings, engine, units
        channels = _channels(settings)
        self._dispatcher = Dispatcher(channels, self._record) if channels else None

    def raised(self, alerts: Sequence[AlertView]) -> None:
        """New alerts: to the managers of the unit and of every unit above it."""
        for alert in alerts:
            tree = self._units.get()
            self._submit(alert, [alert.org_unit, *tree.ancestors(alert.org_unit)], escalated=False)

    def escalated(self, alert: AlertView, to_unit: str) -> None:
        """A missed deadline: to the managers of `to_unit` (the level it was escalated to)."""
        self._submit(alert, [to_unit], escalated=True)

    def close(self, timeout_s: float = 10) -> None:
        if self._dispatcher is not None:
            self._dispatcher.close(timeout_s)

    def _submit(self, alert: AlertView, units: Sequence[str], *, escalated: bool) -> None:
        if self._dispatcher is None:
            return
        managers = directory.managers_of(self._engine, units)
        default = self._settings.default_language
        # An e-mail is sent with no browser to ask: a recipient reads their own choice, else the
        # language their browser asked for at their last sign-in, else the organisation's.
        # Webhooks (a team's channel, an integration) speak the organisation's.
        languages = {
            m.email: choose(m.language, m.browser_language, default) for m in managers if m.email
        }
        self._dispatcher.submit(
            _notification(
                alert,
                unit_name=self._unit_name(alert.org_unit),
                recipients=tuple(sorted(languages)),
                link=self._link(alert),
                escalated=escalated,
                language=default,
                languages=languages,
            )
        )

    def _unit_name(self, unit_id: str) -> str:
        unit = self._units.get().get(unit_id)
        return unit.name if unit is not None else unit_id

    def _link(self, alert: AlertView) -> str | None:
        base = self._settings.public_url
        return f"{base.rstrip('/')}/?alert={alert.id}" if base else None

    def _record(self, notification: Notification, result: DeliveryResult) -> None:
        action = "notified" if result.ok else "notify_failed"
        detail = {"channel": result.channel, "attempts": result.attempts}
        if result.error:
            detail["error"] = result.error
        if result.channel == "email":
            detail["recipients"] = len(notification.recipients)
        try:
            alerting.record(
                self._engine, notification.alert_id, actor=SYSTEM, action=action, detail=detail
            )
        except sa.exc.SQLAlchemyError:
            log.exception("could not record a notification", extra=detail)


def _channels(settings: Settings) -> list[Notifier]:
    channels: list[Notifier] = []
    if settings.alert_webhook_url:
        secret = settings.alert_webhook_secret
        channels.append(
            WebhookNotifier(
                settings.alert_webhook_url,
                secret.get_secret_value() if secret else None,
                settings.alert_webhook_style,
            )
        )
    email = email_relay(settings)
    if email is not None:
        channels.append(email)
    return channels


def email_relay(settings: Settings, channel: str = "email") -> EmailNotifier | None:
    """The SMTP relay of VOC_SMTP_*, or None without VOC_SMTP_HOST."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password
    return EmailNotifier(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_sender,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
        channel=channel,
    )


def _notification(
    alert: AlertView,
    *,
    unit_name: str,
    recipients: tuple[str, ...],
    link: str | None,
    escalated: bool,
    language: Language,
    languages: dict[str, Language],
) -> Notification:
    severity = alert.severity if alert.severity is not Severity.NONE else Severity.LOW
    return Notification(
        alert_id=alert.id,
        rule_id=alert.rules[0] if alert.rules else "alert",
        severity=severity.value,  # type: ignore[arg-type]
        org_unit=alert.org_unit,
        unit_name=unit_name,
        title=texts.alert_title(alert, unit_name),
        lines=tuple(texts.lines(alert)),
        link=link,
        recipients=recipients,
        escalated=escalated,
        language=language,
        languages=languages,
    )
