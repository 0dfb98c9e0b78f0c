"""Alert notifications as plain-text e-mail through an SMTP relay (plain, STARTTLS or TLS), each
recipient in their own language."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

from alerts.notify.base import DeliveryResult
from alerts.notify.message import Notification, worded
from alerts.notify.retry import Attempt, RetryPolicy, run
from app.core.languages import Language

SmtpSecurity = Literal["none", "starttls", "tls"]


def build_message(
    notification: Notification,
    sender: str,
    *,
    language: Language | None = None,
    to: Sequence[str] | None = None,
) -> EmailMessage:
    """The e-mail for `notification` in `language` (by default the notification's own) to `to`
    (by default all its recipients): the title as subject; text, severity, unit and link below."""
    n = notification
    w = worded(n, language)
    t = w.words.t
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(n.recipients if to is None else to)
    message["Subject"] = w.headline
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The sender's domain, not make_msgid's default: that one is a DNS lookup each time.
    message["Message-ID"] = make_msgid("voc-alert", domain=_domain(sender))
    # Out-of-office robots must not answer an automatic message (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-VOC-Alert-Id"] = str(n.alert_id)
    if n.severity == "high":
        message["Importance"] = "high"
    lines = [
        w.text,
        "",
        t("Severity: {severity}", severity=w.severity),
        t("Unit: {unit}", unit=n.where),
    ]
    if n.link:
        lines.append(t("Open in the cockpit: {link}", link=n.link))
    message.set_content("\n".join(lines) + "\n")
    # After the content: setting it clears the Content-* headers.
    message["Content-Language"] = w.words.language
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
    """Sends each notification as one e-mail per language to its recipients who read it, through
    one SMTP relay.

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
        """One e-mail per language its recipients read, each with its own retries; one result
        for them all: ok when at least one went, its error naming what did not (by language),
        its attempts those of all of them."""
        if not notification.recipients:
            return DeliveryResult(self.channel, False, 0, error="no recipients")
        results: list[tuple[Language, DeliveryResult]] = []
        unreachable = False
        for language, addresses in notification.audiences():
            if unreachable:
                # Each would wait for the same dead relay, through all its retries.
                result = DeliveryResult(self.channel, False, 0, error=_NOT_TRIED)
            else:
                result = self._deliver_one(notification, language, addresses)
                unreachable = _unreachable(result)
            results.append((language, result))
        return _together(self.channel, results)

    def _deliver_one(
        self, notification: Notification, language: Language, to: tuple[str, ...]
    ) -> DeliveryResult:
        try:
            message = build_message(notification, self._sender, language=language, to=to)
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


_NOT_TRIED = "not tried: the relay could not be reached"


def _unreachable(result: DeliveryResult) -> bool:
    """Failed without a word from the relay: refused or lost connections, timeouts."""
    return not result.ok and result.attempts > 0 and result.status_code is None


def _together(channel: str, results: Sequence[tuple[Language, DeliveryResult]]) -> DeliveryResult:
    """The one result of the e-mails of one notification, one per language."""
    if len(results) == 1:
        return results[0][1]
    failed = [result for _, result in results if not result.ok]
    errors = [f"{language}: {result.error}" for language, result in results if result.error]
    return DeliveryResult(
        channel,
        ok=len(failed) < len(results),
        attempts=sum(result.attempts for _, result in results),
        status_code=(failed or [results[-1][1]])[-1].status_code,
        error="; ".join(errors) or None,
    )


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
