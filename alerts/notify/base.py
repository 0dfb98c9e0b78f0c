"""The notifier port and what one delivery came to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerts.notify.message import Notification


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of delivering one notification on one channel, after every retry.

    `attempts` is 0 when nothing was tried (no recipients, queue full, dispatcher closed).
    `status_code` is the last HTTP status or SMTP reply code seen, if any. `error` is None
    exactly when `ok` is true, except for a mail some of whose recipients were refused, or
    (e-mails in several languages) some of whose e-mails did not go.
    """

    channel: str
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


class Notifier(Protocol):
    """One delivery channel. Blocking and slow by nature: call it from a `Dispatcher` worker.

    `deliver` retries as its policy says and never raises on a delivery failure: it returns
    a failed `DeliveryResult`. It may be called from several threads at once.
    """

    @property
    def channel(self) -> str: ...

    def deliver(self, notification: Notification) -> DeliveryResult: ...
