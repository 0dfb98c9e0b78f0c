"""Alert notifications as plain-text e-mail through an SMTP relay (plain, STARTTLS or TLS)."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

from alerts.notify.base import DeliveryResult
from alerts.notify.message import Notification
from alerts.notify.retry import Attempt, RetryPolicy, run

SmtpSecurity = Literal["none", "starttls", "tls"]


def build_message(notification: Notification, sender: str) -> EmailMessage:
    """The e-mail for `notification`: the title as subject; text, unit and link in the body."""
    n = notification
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(n.recipients)
    message["Subject"] = n.headline
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The sender's domain, not make_msgid's default: that one is a DNS lookup each time.
    message["Message-ID"] = make_msgid("voc-alert", domain=_domain(sender))
    # Out-of-office robots must not answer an automatic message (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-VOC-Alert-Id"] = str(n.alert_id)
    if n.severity == "high":
        message["Importance"] = "high"
    lines = [n.text, "", f"Severity: {n.severity}", f"Unit: {n.unit_name} ({n.org_unit})"]
    if n.link:
        lines.append(f"Open in the cockpit: {n.link}")
    message.set_content("\n".join(lines) + "\n")
    return message


def classify(exc: OSError) -> Attempt:
    """Whether an SMTP failure is worth another try: 4xx replies and lost connections are."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        temporary = any(400 <= code < 500 for code in codes)
        return Attempt(False, temporary, max(codes, default=None), _refused(exc.recipients))
    if isinstance(exc, smtplib.SMTPResponseException):
        error = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        return Attempt(False, 400 <= exc.smtp_code < 500, exc.smtp_code, error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Attempt(False, True, error=_describe(exc))
    # A server without STARTTLS or a usable AUTH, or a certificate we do not trust: settings.
    if isinstance(exc, smtplib.SMTPException | ssl.SSLError):
        return Attempt(False, False, error=_describe(exc))
    # Refused, reset or timed-out connections, unknown hosts.
    return Attempt(False, True, error=_describe(exc))


class EmailNotifier:
    """Sends each notification as one e-mail to its recipients, through one SMTP relay.

    `security`: "none" (plain SMTP, for a relay on the same host or network), "starttls"
    (refuses to go on in clear if the server does not offer it) or "tls" (implicit TLS, port
    465 usually). Logs in when `username` is given. Retries lost connections and 4xx replies
    up to `max_attempts` tries; a 5xx reply gives up at once. Opens one connection per try.
    With "none", a login sends the password in clear: only for a relay on a trusted network.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        security: SmtpSecurity = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10,
        max_attempts: int = 3,
        backoff_s: float = 5.0,
        max_backoff_s: float = 120,
        sleep: Callable[[float], None] = time.sleep,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        channel: str = "email",
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"SMTP security must be none, starttls or tls, not {security!r}")
        if (username is None) != (password is None):
            raise ValueError("give both an SMTP username and password, or neither")
        self.channel = channel
        self._host = host
        self._port = port
        self._sender = sender
        self._security: SmtpSecurity = security
        self._username = username
        self._password = password
        self._timeout_s = timeout_s
        self._policy = RetryPolicy(max_attempts, backoff_s, max_backoff_s)
        self._sleep = sleep
        self._context = ssl_context
        if self._context is None and security != "none":
            self._context = ssl.create_default_context()
        self._local_hostname = local_hostname

    def deliver(self, notification: Notification) -> DeliveryResult:
        if not notification.recipients:
            return DeliveryResult(self.channel, False, 0, error="no recipients")
        try:
            message = build_message(notification, self._sender)
        except ValueError as exc:  # a recipient address with a line break in it, say
            return DeliveryResult(self.channel, False, 0, error=f"cannot build the e-mail: {exc}")
        return run(self.channel, lambda _: self._send(message), self._policy, self._sleep)

    def send_once(self, message: EmailMessage) -> Attempt:
        """One try at sending a ready `message` (its own From, To and Subject) through this
        relay, for mail other than alerts (the daily digest). No retry and no sleep here:
        `retryable` says whether a later try could do better, and the caller decides when."""
        return self._send(message)

    def _send(self, message: EmailMessage) -> Attempt:
        try:
            with self._connect() as smtp:
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                refused = smtp.send_message(message)
        except OSError as exc:  # smtplib's own errors are OSErrors too
            return classify(exc)
        # Some recipients refused, the others accepted: the mail went, say who missed it.
        return Attempt(ok=True, status_code=250, error=_refused(refused) if refused else None)

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                self._local_hostname,
                timeout=self._timeout_s,
                context=self._context,
            )
        smtp = smtplib.SMTP(self._host, self._port, self._local_hostname, timeout=self._timeout_s)
        try:
            if self._security == "starttls":
                smtp.starttls(context=self._context)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    details = ", ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in recipients.items()
    )
    return f"recipients refused: {details}"


def _domain(sender: str) -> str | None:
    return parseaddr(sender)[1].rpartition("@")[2] or None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
