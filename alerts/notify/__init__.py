"""Delivery channels of hot-listening alerts: webhook and e-mail, behind a dispatcher."""

from alerts.notify.base import DeliveryResult, Notifier
from alerts.notify.dispatch import Dispatcher
from alerts.notify.email import EmailNotifier
from alerts.notify.message import Notification
from alerts.notify.webhook import WebhookNotifier, sign, verify_signature

__all__ = [
    "DeliveryResult",
    "Dispatcher",
    "EmailNotifier",
    "Notification",
    "Notifier",
    "WebhookNotifier",
    "sign",
    "verify_signature",
]
