"""Alert notifications against real servers started here: an HTTP webhook and an SMTP relay."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.notify import (
    DeliveryResult,
    Dispatcher,
    EmailNotifier,
    Notification,
    WebhookNotifier,
    verify_signature,
)
from alerts.notify.message import PayloadStyle
from alerts.notify.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from app.core import explain
from app.core.i18n import Phrase, phrase
from tests.harness import require
from tests.servers import Endpoint, Received, Relay, authenticate, free_port

pytestmark = pytest.mark.integration

SECRET = "webhook-secret"
SENDER = "VoC Cockpit <alerts@voc.example>"


COMMENT = "Toujours en attente du technicien, troisième appel"
TITLE = phrase(
    "{rule} at {unit}", rule=explain.title("detractor-negative-comment"), unit="Lyon Part-Dieu"
)


def notification(alert_id: int = 42, **changes: Any) -> Notification:
    fields: dict[str, Any] = {
        "alert_id": alert_id,
        "rule_id": "detractor-negative-comment",
        "severity": "high",
        "org_unit": "store-lyon-part-dieu",
        "unit_name": "Lyon Part-Dieu",
        "title": TITLE,
        "lines": (
            Phrase(
                "{kind} {score} · {touchpoint}",
                {"kind": "NPS", "score": 2, "touchpoint": "delivery"},
            ),
            Phrase("\u201c{comment}\u201d", {"comment": COMMENT}),
            explain.negative_comment(0.934),
        ),
        "link": f"https://cockpit.example/alerts/{alert_id}",
        "recipients": ("manager@example.com", "region@example.com"),
    }
    fields.update(changes)
    return Notification(**fields)


class Sleeps(list[float]):
    """A `sleep` that only records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Results:
    """An `on_result` the test can wait on."""

    def __init__(self) -> None:
        self.items: list[DeliveryResult] = []
        self.changed = threading.Condition()

    def __call__(self, n: Notification, result: DeliveryResult) -> None:
        with self.changed:
            self.items.append(result)
            self.changed.notify_all()

    def wait_for(self, count: int) -> list[DeliveryResult]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.items) >= count, timeout=10)
            return list(self.items)


def signed(request: Received) -> bool:
    return verify_signature(
        SECRET, request.headers["x-voc-timestamp"], request.body, request.headers["x-voc-signature"]
    )


def test_the_signature_verifies_on_the_raw_body_received(endpoint: Endpoint) -> None:
    with WebhookNotifier(endpoint.url, SECRET, "json") as notifier:
        result = notifier.deliver(notification())
    assert result == DeliveryResult("webhook", True, 1, 200)
    (request,) = endpoint.requests
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert signed(request)
    assert "troisième appel" in json.loads(request.body)["text"]
    assert not verify_signature(
        SECRET,
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body.replace(b"42", b"43"),
        request.headers[SIGNATURE_HEADER.lower()],
    )


def test_server_errors_are_retried_with_backoff_and_the_third_try_succeeds(
    endpoint: Endpoint,
) -> None:
    endpoint.statuses = [500, 500]
    sleeps = Sleeps()
    with WebhookNotifier(endpoint.url, SECRET, "slack", backoff_s=1.0, sleep=sleeps) as notifier:
        result = notifier.deliver(notification())
    assert result == DeliveryResult("webhook", True, 3, 200)
    assert sleeps == [1.0, 2.0]
    assert len(endpoint.requests) == 3
    assert all(signed(request) for request in endpoint.requests)
    assert len({request.headers[DELIVERY_HEADER.lower()] for request in endpoint.requests}) == 1


def test_a_bad_request_is_not_retried(endpoint: Endpoint) -> None:
    endpoint.statuses = [400]
    sleeps = Sleeps()
    with WebhookNotifier(endpoint.url, SECRET, "teams", sleep=sleeps) as notifier:
        result = notifier.deliver(notification())
    assert result == DeliveryResult("webhook", False, 1, 400, "HTTP 400: no")
    assert len(endpoint.requests) == 1
    assert sleeps == []


def test_after_max_attempts_the_result_says_it_gave_up(endpoint: Endpoint) -> None:
    endpoint.statuses = [503] * 3
    sleeps = Sleeps()
    with WebhookNotifier(endpoint.url, SECRET, max_attempts=3, sleep=sleeps) as notifier:
        result = notifier.deliver(notification())
    assert result == DeliveryResult(
        "webhook", False, 3, 503, "gave up after 3 attempts: HTTP 503: no"
    )
    assert len(endpoint.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_a_hanging_endpoint_times_out_and_is_retried(endpoint: Endpoint) -> None:
    endpoint.hang = True
    sleeps = Sleeps()
    with WebhookNotifier(
        endpoint.url, SECRET, timeout_s=0.2, max_attempts=2, sleep=sleeps
    ) as notifier:
        result = notifier.deliver(notification())
    assert not result.ok
    assert result.attempts == 2
    assert result.error == "gave up after 2 attempts: ReadTimeout: timed out"
    assert len(endpoint.requests) == 2


def test_submit_returns_while_the_endpoint_holds_the_deliveries(endpoint: Endpoint) -> None:
    endpoint.hang = True
    results = Results()
    with WebhookNotifier(endpoint.url, SECRET) as notifier:
        dispatcher = Dispatcher([notifier], results, workers=2)
        accepted = [dispatcher.submit(notification(alert_id)) for alert_id in range(100)]
        assert all(accepted)
        assert endpoint.arrived.wait(5)  # a delivery is under way, held by the endpoint
        assert results.items == []  # and none has finished: submit did not wait for them
        endpoint.release.set()
        assert all(result.ok for result in results.wait_for(100))
        assert dispatcher.close(5)
    assert len(endpoint.requests) == 100


def test_a_dead_endpoint_is_reported_as_failed_deliveries() -> None:
    results = Results()
    sleeps = Sleeps()
    url = f"http://127.0.0.1:{free_port()}/hooks/voc"
    with WebhookNotifier(url, SECRET, max_attempts=2, sleep=sleeps) as notifier:
        dispatcher = Dispatcher([notifier], results)
        assert all(dispatcher.submit(notification(alert_id)) for alert_id in range(100))
        failures = results.wait_for(100)
        assert dispatcher.close(5)
    assert {result.attempts for result in failures} == {2}
    assert all(not result.ok for result in failures)
    assert all("gave up after 2 attempts: ConnectError" in str(r.error) for r in failures)


# What a reader sees of `notification()` in each language.
SAID = {
    "en": {
        "title": "Detractor with a negative comment at Lyon Part-Dieu",
        "reason": "negative comment (93%)",
        "severity": ("Severity", "High"),
        "open": "Open in the cockpit",
        "body": [
            "Severity: High",
            "Unit: Lyon Part-Dieu (store-lyon-part-dieu)",
            "Open in the cockpit: https://cockpit.example/alerts/42",
        ],
    },
    "fr": {
        "title": "Détracteur avec un commentaire négatif \u2013 Lyon Part-Dieu",
        "reason": "commentaire négatif (93\u00a0%)",
        "severity": ("Gravité", "Élevée"),
        "open": "Ouvrir dans le cockpit",
        "body": [
            "Gravité : Élevée",
            "Unité : Lyon Part-Dieu (store-lyon-part-dieu)",
            "Ouvrir dans le cockpit : https://cockpit.example/alerts/42",
        ],
    },
    "it": {
        "title": "Detrattore con un commento negativo \u2013 Lyon Part-Dieu",
        "reason": "commento negativo (93%)",
        "severity": ("Gravità", "Alta"),
        "open": "Apri nel cockpit",
        "body": [
            "Gravità: Alta",
            "Unità: Lyon Part-Dieu (store-lyon-part-dieu)",
            "Apri nel cockpit: https://cockpit.example/alerts/42",
        ],
    },
}
READERS = {"ann@example.com": "en", "lea@example.fr": "fr", "luca@example.it": "it"}


def test_webhooks_speak_the_organisations_language(endpoint: Endpoint) -> None:
    sent = []
    styles: tuple[PayloadStyle, ...] = ("json", "slack", "teams")
    for style in styles:
        for language, said in SAID.items():
            with WebhookNotifier(endpoint.url, SECRET, style) as notifier:
                assert notifier.deliver(notification(language=language)).ok
            sent.append((style, language, said))
    assert len(endpoint.requests) == len(sent)
    for (style, language, said), request in zip(sent, endpoint.requests, strict=True):
        assert signed(request)
        body = json.loads(request.body)
        if style == "json":
            assert (body["language"], body["severity"]) == (language, "high")
            assert body["title"] == said["title"]
            assert body["text"].splitlines()[1:] == [f"“{COMMENT}”", said["reason"]]
        elif style == "slack":
            _, value = said["severity"]
            assert body["text"] == f"[{value}] {said['title']}"
            section = body["blocks"][0]["text"]["text"]
            assert section.splitlines()[2:] == [f"“{COMMENT}”", said["reason"]]
            context = [element["text"] for element in body["blocks"][1]["elements"]]
            assert context[0] == said["body"][0].replace(value, f"*{value}*")
            assert context[-1] == f"<https://cockpit.example/alerts/42|{said['open']}>"
        else:
            card = body["attachments"][0]["content"]
            texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
            assert texts == [said["title"], "NPS 2 · delivery", f"“{COMMENT}”", said["reason"]]
            [facts] = [b["facts"] for b in card["body"] if b["type"] == "FactSet"]
            assert (facts[0]["title"], facts[0]["value"]) == said["severity"]
            assert card["actions"][0]["title"] == said["open"]


def test_each_recipient_gets_the_alert_in_their_own_language(
    smtp_server: tuple[Relay, int],
) -> None:
    relay, port = smtp_server
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none")
    alert = notification(recipients=tuple(READERS), languages=READERS, escalated=True)
    assert notifier.deliver(alert) == DeliveryResult("email", True, 3, 250)
    assert [mail.rcpt_tos for mail in relay.mails] == [[address] for address in READERS]
    escalated = {"en": "Escalated: ", "fr": "Escaladée : ", "it": "Escalation: "}
    for mail, language in zip(relay.mails, READERS.values(), strict=True):
        said = SAID[language]
        assert mail.message["Subject"] == f"{escalated[language]}{said['title']}"
        assert mail.message["Content-Language"] == language
        assert mail.message.get_content().splitlines() == [
            "NPS 2 · delivery",
            f"“{COMMENT}”",
            said["reason"],
            "",
            *said["body"],
        ]


def test_a_language_whose_recipients_are_refused_does_not_hold_up_the_others(
    smtp_server: tuple[Relay, int],
) -> None:
    relay, port = smtp_server
    relay.refuse = {"luca@example.it": "550 5.1.1 No such user"}
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none")
    result = notifier.deliver(notification(recipients=tuple(READERS), languages=READERS))
    assert result == DeliveryResult(
        "email", True, 3, 550, "it: recipients refused: luca@example.it (550 5.1.1 No such user)"
    )
    assert [mail.message["Content-Language"] for mail in relay.mails] == ["en", "fr"]


def test_a_dead_relay_is_tried_once_for_all_the_languages() -> None:
    sleeps = Sleeps()
    notifier = EmailNotifier(
        "127.0.0.1", free_port(), SENDER, security="none", max_attempts=3, sleep=sleeps
    )
    result = notifier.deliver(notification(recipients=tuple(READERS), languages=READERS))
    assert (result.ok, result.attempts) == (False, 3)
    en, fr, it = str(result.error).split("; ")
    assert en.startswith("en: gave up after 3 attempts: ConnectionRefusedError")
    assert [fr, it] == [
        "fr: not tried: the relay could not be reached",
        "it: not tried: the relay could not be reached",
    ]
    assert sleeps == [5.0, 10.0]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1, made by the openssl command."""
    openssl = require("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_an_alert_email_arrives_with_its_subject_body_and_link(
    smtp_server: tuple[Relay, int],
) -> None:
    relay, port = smtp_server
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none")
    assert notifier.deliver(notification()) == DeliveryResult("email", True, 1, 250)
    (mail,) = relay.mails
    assert mail.mail_from == "alerts@voc.example"
    assert mail.rcpt_tos == ["manager@example.com", "region@example.com"]
    assert mail.message["From"] == SENDER
    assert mail.message["To"] == "manager@example.com, region@example.com"
    assert mail.message["Subject"] == "Detractor with a negative comment at Lyon Part-Dieu"
    body = mail.message.get_content()
    assert "Toujours en attente du technicien, troisième appel" in body
    assert "Open in the cockpit: https://cockpit.example/alerts/42" in body
    assert (mail.login, mail.tls) == (None, False)


def test_a_temporary_refusal_is_retried_after_a_backoff(smtp_server: tuple[Relay, int]) -> None:
    relay, port = smtp_server
    relay.data_replies = ["451 4.3.0 Try again later"]
    sleeps = Sleeps()
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none", sleep=sleeps)
    assert notifier.deliver(notification()) == DeliveryResult("email", True, 2, 250)
    assert sleeps == [5.0]
    assert len(relay.mails) == 1


def test_a_permanent_refusal_is_not_retried(smtp_server: tuple[Relay, int]) -> None:
    relay, port = smtp_server
    relay.refuse = {
        "manager@example.com": "550 5.1.1 No such user",
        "region@example.com": "550 5.1.1 No such user",
    }
    sleeps = Sleeps()
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none", sleep=sleeps)
    result = notifier.deliver(notification())
    assert (result.ok, result.attempts, result.status_code) == (False, 1, 550)
    assert "manager@example.com (550 5.1.1 No such user)" in str(result.error)
    assert sleeps == []


def test_a_mail_some_recipients_refused_is_sent_to_the_others(
    smtp_server: tuple[Relay, int],
) -> None:
    relay, port = smtp_server
    relay.refuse = {"region@example.com": "550 5.1.1 No such user"}
    notifier = EmailNotifier("127.0.0.1", port, SENDER, security="none")
    result = notifier.deliver(notification())
    assert result.ok
    assert result.error == "recipients refused: region@example.com (550 5.1.1 No such user)"
    assert relay.mails[0].rcpt_tos == ["manager@example.com"]


def test_a_dead_smtp_server_is_given_up_after_the_attempts() -> None:
    sleeps = Sleeps()
    notifier = EmailNotifier(
        "127.0.0.1", free_port(), SENDER, security="none", max_attempts=3, sleep=sleeps
    )
    result = notifier.deliver(notification())
    assert (result.ok, result.attempts) == (False, 3)
    assert str(result.error).startswith("gave up after 3 attempts: ConnectionRefusedError")
    assert sleeps == [5.0, 10.0]


@pytest.mark.parametrize(
    "smtp_server", [{"authenticator": authenticate, "auth_require_tls": False}], indirect=True
)
def test_the_relay_login_uses_the_configured_credentials(smtp_server: tuple[Relay, int]) -> None:
    relay, port = smtp_server
    good = EmailNotifier(
        "127.0.0.1", port, SENDER, security="none", username="alerts", password="pa55word"
    )
    assert good.deliver(notification()).ok
    assert relay.mails[0].login == b"alerts"
    sleeps = Sleeps()
    bad = EmailNotifier(
        "127.0.0.1", port, SENDER, security="none", username="alerts", password="x", sleep=sleeps
    )
    result = bad.deliver(notification())
    assert (result.ok, result.attempts, result.status_code) == (False, 1, 535)
    assert sleeps == []


def test_starttls_then_login(certificate: tuple[Path, Path]) -> None:
    relay = Relay()
    controller = Controller(
        relay,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        notifier = EmailNotifier(
            "127.0.0.1",
            controller.port,
            SENDER,
            security="starttls",
            username="alerts",
            password="pa55word",
            ssl_context=client_tls(certificate),
        )
        assert notifier.deliver(notification()).ok
    finally:
        controller.stop()
    (mail,) = relay.mails
    assert (mail.login, mail.tls) == (b"alerts", True)
    assert mail.message["Subject"] == "Detractor with a negative comment at Lyon Part-Dieu"


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    relay = Relay()
    controller = Controller(
        relay, hostname="127.0.0.1", port=free_port(), ssl_context=server_tls(certificate)
    )
    controller.start()
    try:
        notifier = EmailNotifier(
            "127.0.0.1",
            controller.port,
            SENDER,
            security="tls",
            ssl_context=client_tls(certificate),
        )
        assert notifier.deliver(notification()).ok
    finally:
        controller.stop()
    assert relay.mails[0].tls


def test_starttls_is_required_when_configured(smtp_server: tuple[Relay, int]) -> None:
    relay, port = smtp_server
    sleeps = Sleeps()
    notifier = EmailNotifier(
        "127.0.0.1",
        port,
        SENDER,
        security="starttls",
        username="alerts",
        password="pa55word",
        sleep=sleeps,
    )
    result = notifier.deliver(notification())
    assert (result.ok, result.attempts) == (False, 1)
    assert str(result.error).startswith("SMTPNotSupportedError")
    assert relay.mails == []
