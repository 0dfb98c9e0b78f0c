"""Alert notifications without a network: payloads, signatures, the retry policy, the dispatcher."""

from __future__ import annotations

import json
import smtplib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parseaddr

import httpx
import pytest

from alerts.notify import (
    DeliveryResult,
    Dispatcher,
    EmailNotifier,
    Notification,
    WebhookNotifier,
    sign,
    verify_signature,
)
from alerts.notify.email import build_message, classify
from alerts.notify.message import json_payload, slack_payload, teams_payload
from alerts.notify.retry import RetryPolicy
from alerts.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_retry_after
from app.core import explain
from app.core.i18n import Phrase, phrase

NOW = 1_760_000_000.0
SECRET = "s3cret"


def title(unit: str = "Lyon Part-Dieu") -> Phrase:
    rule = explain.title("detractor-negative-comment")
    return phrase("{rule} at {unit}", rule=rule, unit=unit)


def comment(text: str) -> Phrase:
    """A line of customer text, shown as written."""
    return Phrase("Comment: {text}", {"text": text})


def notification(**changes: object) -> Notification:
    fields: dict[str, object] = {
        "alert_id": 42,
        "rule_id": "detractor-negative-comment",
        "severity": "high",
        "org_unit": "store-lyon-part-dieu",
        "unit_name": "Lyon Part-Dieu",
        "title": title(),
        "lines": (
            Phrase("NPS 2 at delivery"),
            comment("still waiting for the engineer"),
            Phrase("Reasons: score"),
        ),
        "link": "https://cockpit.example/alerts/42",
        "recipients": ("manager@example.com", "region@example.com"),
    }
    fields.update(changes)
    return Notification(**fields)  # type: ignore[arg-type]


def test_a_notification_refuses_an_unknown_severity_and_a_multiline_title() -> None:
    with pytest.raises(ValueError, match="severity"):
        notification(severity="critical")
    with pytest.raises(ValueError, match="one line"):
        notification(title=title("Lyon\nBcc: everyone@example.com"))


def test_the_json_payload_carries_every_field_and_when_it_was_sent() -> None:
    payload = json_payload(notification(), sent_at=datetime.fromtimestamp(NOW, UTC))
    assert payload["alert_id"] == 42
    assert payload["recipients"] == ["manager@example.com", "region@example.com"]
    assert payload["escalated"] is False
    assert payload["sent_at"] == "2025-10-09T08:53:20+00:00"
    assert payload["title"] == "Detractor with a negative comment at Lyon Part-Dieu"
    assert payload["text"].splitlines()[1] == "Comment: still waiting for the engineer"
    assert (payload["language"], payload["severity"]) == ("en", "high")
    json.dumps(payload)


def test_slack_shows_customer_markup_as_text() -> None:
    hostile = comment("<img src=x> & <!channel> <http://evil|x>")
    payload = slack_payload(notification(lines=(hostile,)))
    section = payload["blocks"][0]["text"]["text"]
    assert "&lt;img src=x&gt; &amp; &lt;!channel&gt; &lt;http://evil|x&gt;" in section
    assert "<img" not in section and "<!channel>" not in section
    assert payload["text"].startswith("[High] Detractor with a negative comment")


def test_slack_links_to_the_alert_and_keeps_within_its_block_limits() -> None:
    payload = slack_payload(notification(lines=(comment("&" * 5000),), escalated=True))
    section = payload["blocks"][0]["text"]["text"]
    assert section.startswith("*Escalated: Detractor")
    assert len(section) <= 3000
    assert section.endswith("&amp;…")  # never half an entity
    context = [element["text"] for element in payload["blocks"][1]["elements"]]
    assert "<https://cockpit.example/alerts/42|Open in the cockpit>" in context


def test_teams_gets_an_adaptive_card_in_the_workflows_envelope() -> None:
    payload = teams_payload(notification())
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts[0] == "Detractor with a negative comment at Lyon Part-Dieu"
    assert "Comment: still waiting for the engineer" in texts
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in the cockpit",
            "url": "https://cockpit.example/alerts/42",
        }
    ]
    assert "actions" not in teams_payload(notification(link=None))["attachments"][0]["content"]


def test_a_signature_verifies_on_the_same_body_and_time() -> None:
    body = b'{"alert_id":42}'
    header = sign(SECRET, int(NOW), body)
    assert header.startswith("sha256=")
    assert verify_signature(SECRET, str(int(NOW)), body, header, now=lambda: NOW + 10)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now"),
    [
        (SECRET, int(NOW), b'{"alert_id":43}', NOW),  # tampered body
        (SECRET, int(NOW) + 1, b'{"alert_id":42}', NOW),  # tampered timestamp
        ("other", int(NOW), b'{"alert_id":42}', NOW),  # wrong secret
        (SECRET, int(NOW), b'{"alert_id":42}', NOW + 301),  # replayed too late
        (SECRET, int(NOW), b'{"alert_id":42}', NOW - 301),  # from the future
    ],
)
def test_a_signature_is_rejected(secret: str, timestamp: int, body: bytes, now: float) -> None:
    header = sign(SECRET, int(NOW), b'{"alert_id":42}')
    assert not verify_signature(secret, str(timestamp), body, header, now=lambda: now)


def test_a_malformed_timestamp_is_rejected() -> None:
    assert not verify_signature(SECRET, "soon", b"{}", sign(SECRET, 0, b"{}"))


def test_backoff_doubles_up_to_its_cap_and_jitter_stays_in_the_upper_half() -> None:
    policy = RetryPolicy(max_attempts=8, backoff_s=1.0, max_backoff_s=10)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.delay(1, retry_after_s=30) == 10
    jittered = RetryPolicy(backoff_s=4.0, jitter=True, rand=lambda: 0.5)
    assert jittered.delay(1) == 3.0


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Thu, 09 Oct 2025 08:54:20 GMT", now=lambda: NOW) == 60
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


Handler = Callable[[httpx.Request], httpx.Response]


class Scripted:
    """An in-process webhook answering from a script; the last answer repeats."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def webhook(handler: Handler, sleeps: list[float], **options: object) -> WebhookNotifier:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return WebhookNotifier(
        "https://hooks.example/voc",
        SECRET,
        "json",
        sleep=sleeps.append,
        clock=lambda: NOW,
        client=client,
        **options,  # type: ignore[arg-type]
    )


def test_server_errors_are_retried_with_backoff_until_one_succeeds() -> None:
    server = Scripted(httpx.Response(502), httpx.Response(503), httpx.Response(204))
    sleeps: list[float] = []
    result = webhook(server, sleeps, backoff_s=0.5).deliver(notification())
    assert result == DeliveryResult("webhook", True, 3, 204)
    assert sleeps == [0.5, 1.0]
    request = server.requests[-1]
    assert verify_signature(
        SECRET,
        request.headers[TIMESTAMP_HEADER],
        request.content,
        request.headers[SIGNATURE_HEADER],
        now=lambda: NOW,
    )
    assert len({r.headers["X-VOC-Delivery"] for r in server.requests}) == 1


def test_too_many_requests_waits_as_retry_after_says_within_the_cap() -> None:
    server = Scripted(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200),
    )
    sleeps: list[float] = []
    assert webhook(server, sleeps, max_backoff_s=60).deliver(notification()).ok
    assert sleeps == [7, 60]


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_client_error_gives_up_at_once(status: int) -> None:
    server = Scripted(httpx.Response(status, text="invalid_payload"))
    sleeps: list[float] = []
    result = webhook(server, sleeps).deliver(notification())
    assert result == DeliveryResult("webhook", False, 1, status, f"HTTP {status}: invalid_payload")
    assert sleeps == []


def test_connection_errors_are_retried_then_given_up_with_the_last_error() -> None:
    server = Scripted(httpx.ConnectError("[Errno 111] Connection refused"))
    sleeps: list[float] = []
    result = webhook(server, sleeps, max_attempts=4).deliver(notification())
    assert not result.ok
    assert result.attempts == 4
    assert result.error == "gave up after 4 attempts: ConnectError: [Errno 111] Connection refused"
    assert sleeps == [1, 2, 4]


def test_without_a_secret_nothing_is_signed_and_slack_gets_its_own_payload() -> None:
    server = Scripted(httpx.Response(200, text="ok"))
    client = httpx.Client(transport=httpx.MockTransport(server))
    notifier = WebhookNotifier("https://hooks.slack.example/T/B/x", None, "slack", client=client)
    assert notifier.deliver(notification()).ok
    (request,) = server.requests
    assert SIGNATURE_HEADER not in request.headers
    assert "blocks" in json.loads(request.content)


def test_a_webhook_url_must_be_absolute_http() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookNotifier("ftp://hooks.example/x", None, "json")
    with pytest.raises(ValueError, match="style"):
        WebhookNotifier("https://hooks.example/x", None, "discord")  # type: ignore[arg-type]


def test_the_email_says_what_happened_where_and_links_to_the_alert() -> None:
    message = build_message(notification(), "VoC Cockpit <alerts@voc.example>")
    assert message["Subject"] == "Detractor with a negative comment at Lyon Part-Dieu"
    assert message["To"] == "manager@example.com, region@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert parseaddr(message["Message-ID"])[1].endswith("@voc.example")
    body = message.get_content()
    assert "still waiting for the engineer" in body
    assert "Open in the cockpit: https://cockpit.example/alerts/42" in body


def test_an_email_without_recipients_is_not_attempted() -> None:
    notifier = EmailNotifier("smtp.invalid", 25, "alerts@voc.example", security="none")
    assert notifier.deliver(notification(recipients=())) == DeliveryResult(
        "email", False, 0, error="no recipients"
    )


def test_an_email_with_a_line_break_in_an_address_is_refused_before_sending() -> None:
    notifier = EmailNotifier("smtp.invalid", 25, "alerts@voc.example", security="none")
    result = notifier.deliver(notification(recipients=("a@example.com\nBcc: all@example.com",)))
    assert (result.ok, result.attempts) == (False, 0)
    assert str(result.error).startswith("cannot build the e-mail")


@pytest.mark.parametrize(
    ("error", "retryable", "code"),
    [
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, None),
        (ConnectionRefusedError(111, "Connection refused"), True, None),
        (TimeoutError("timed out"), True, None),
        (smtplib.SMTPDataError(451, b"Try again later"), True, 451),
        (smtplib.SMTPSenderRefused(550, b"Not allowed", "alerts@voc.example"), False, 550),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False, 535),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"No such user")}), False, 550),
        (smtplib.SMTPRecipientsRefused({"a@x": (450, b"Mailbox busy")}), True, 450),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), False, None),
        (smtplib.SMTPException("No suitable authentication method found."), False, None),
    ],
)
def test_smtp_failures_are_retried_only_when_temporary(
    error: OSError, retryable: bool, code: int | None
) -> None:
    attempt = classify(error)
    assert (attempt.ok, attempt.retryable, attempt.status_code) == (False, retryable, code)


class Gate:
    """A notifier whose deliveries wait until the test opens the gate."""

    def __init__(self, channel: str = "gate") -> None:
        self.channel = channel
        self.started = threading.Event()
        self.open = threading.Event()

    def deliver(self, n: Notification) -> DeliveryResult:
        self.started.set()
        assert self.open.wait(5)
        return DeliveryResult(self.channel, True, 1)


class Results:
    """An on_result callback that the test can wait on."""

    def __init__(self) -> None:
        self.items: list[tuple[int, DeliveryResult]] = []
        self.changed = threading.Condition()

    def __call__(self, n: Notification, result: DeliveryResult) -> None:
        with self.changed:
            self.items.append((n.alert_id, result))
            self.changed.notify_all()

    def wait_for(self, count: int) -> list[tuple[int, DeliveryResult]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.items) >= count, timeout=5)
            return list(self.items)


def test_a_full_queue_is_reported_at_once_rather_than_blocking() -> None:
    gate, results = Gate(), Results()
    dispatcher = Dispatcher([gate], results, queue_size=1, workers=1)
    assert dispatcher.submit(notification(alert_id=1))
    assert gate.started.wait(5)  # the worker holds 1; 2 fills the queue
    assert dispatcher.submit(notification(alert_id=2))
    assert not dispatcher.submit(notification(alert_id=3))
    assert results.items == [(3, DeliveryResult("gate", False, 0, error="queue full"))]
    assert dispatcher.dropped == 1
    gate.open.set()
    assert dispatcher.close(5)
    assert sorted(alert for alert, result in results.wait_for(3) if result.ok) == [1, 2]


def test_a_stuck_channel_does_not_hold_up_the_others() -> None:
    stuck, results = Gate("stuck"), Results()
    quick = Gate("quick")
    quick.open.set()
    dispatcher = Dispatcher([stuck, quick], results, workers=1)
    for alert in range(3):
        dispatcher.submit(notification(alert_id=alert))
    assert [result.channel for _, result in results.wait_for(3)] == ["quick"] * 3
    stuck.open.set()
    assert dispatcher.close(5)
    assert len(results.items) == 6


def test_close_reports_what_it_could_not_deliver_in_time() -> None:
    gate, results = Gate(), Results()
    dispatcher = Dispatcher([gate], results, workers=1)
    dispatcher.submit(notification(alert_id=1))
    dispatcher.submit(notification(alert_id=2))
    assert gate.started.wait(5)
    assert not dispatcher.close(0)
    assert results.items == [(2, DeliveryResult("gate", False, 0, error="dispatcher closed"))]
    assert not dispatcher.submit(notification(alert_id=3))
    gate.open.set()
    assert {alert for alert, _ in results.wait_for(3)} == {1, 2, 3}


class Broken:
    channel = "broken"

    def deliver(self, n: Notification) -> DeliveryResult:
        raise RuntimeError("bug")


def test_a_raising_notifier_or_callback_does_not_stop_the_workers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    results = Results()
    calls = 0

    def flaky(n: Notification, result: DeliveryResult) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        results(n, result)

    dispatcher = Dispatcher([Broken()], flaky, workers=1)
    dispatcher.submit(notification(alert_id=1))
    dispatcher.submit(notification(alert_id=2))
    assert dispatcher.close(5)
    assert results.items == [(2, DeliveryResult("broken", False, 0, error="RuntimeError: bug"))]
    assert "recording a notification result failed" in caplog.text
