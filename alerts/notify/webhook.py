"""Alert notifications as signed JSON POSTs to a webhook (our JSON, Slack or Microsoft Teams).

Signature, for receivers to verify: when a secret is configured, every request carries

    X-VOC-Timestamp: <unix seconds when this attempt was sent>
    X-VOC-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + raw body bytes)>

Compute the HMAC over the raw body exactly as received (before any JSON parsing), compare in
constant time, and reject a timestamp older (or further ahead) than a few minutes so that a
captured request cannot be replayed later; `verify_signature` does all three. Each retry is
signed afresh with its own timestamp.

`X-VOC-Delivery` is the same on every retry of one delivery: a retry after a timeout may reach
a receiver that already handled the first try, which can use it to drop the duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from alerts.notify.base import DeliveryResult
from alerts.notify.message import Notification, PayloadStyle, render
from alerts.notify.retry import Attempt, RetryPolicy, run

TIMESTAMP_HEADER = "X-VOC-Timestamp"
SIGNATURE_HEADER = "X-VOC-Signature"
DELIVERY_HEADER = "X-VOC-Delivery"
_USER_AGENT = "voc-cockpit-alerts/1"
# Enough of an error answer to say why ("invalid_payload"), never a whole page.
_ERROR_BODY_MAX = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-VOC-Signature` value for `body` sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    max_age_s: float = 300,
    now: Callable[[], float] = time.time,
) -> bool:
    """Whether `header` signs `body` at `timestamp` (both as received) within `max_age_s`."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now() - sent) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), header)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), if usable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now(), 0.0)


def classify(status_code: int, retry_after: str | None, body: str) -> Attempt:
    """What an HTTP answer means for delivery: 2xx done; 5xx and 429 try again; else give up."""
    if 200 <= status_code < 300:
        return Attempt(ok=True, status_code=status_code)
    error = f"HTTP {status_code}"
    if body.strip():
        error += f": {body.strip()[:_ERROR_BODY_MAX]}"
    if status_code == 429 or status_code >= 500:
        return Attempt(False, True, status_code, error, parse_retry_after(retry_after))
    # A wrong URL, a revoked webhook or a refused payload will not heal by retrying.
    return Attempt(False, False, status_code, error)


class WebhookNotifier:
    """Posts each notification to one webhook URL, signed when a secret is given.

    Retries connection errors, timeouts, 5xx and 429 (waiting as Retry-After says, capped at
    `max_backoff_s`) up to `max_attempts` tries in all; any other answer gives up at once.
    `timeout_s` bounds each phase of one request (connect, send, each read), not the total.
    Thread-safe; close it (or use it as a context manager) to release the connections of
    the client it made itself.
    """

    def __init__(
        self,
        url: str,
        secret: str | None,
        style: PayloadStyle = "json",
        *,
        timeout_s: float = 5,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60,
        jitter: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
        channel: str = "webhook",
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("a webhook URL must be an absolute http:// or https:// URL")
        if style not in ("json", "slack", "teams"):
            raise ValueError(f"webhook style must be json, slack or teams, not {style!r}")
        self.channel = channel
        self._url = url
        self._secret = secret or None
        self._style: PayloadStyle = style
        self._timeout = httpx.Timeout(timeout_s)
        self._policy = RetryPolicy(max_attempts, backoff_s, max_backoff_s, jitter)
        self._sleep = sleep
        self._clock = clock
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self._timeout)

    def deliver(self, notification: Notification) -> DeliveryResult:
        sent_at = datetime.fromtimestamp(self._clock(), UTC)
        payload = render(notification, self._style, sent_at=sent_at)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        delivery = uuid.uuid4().hex
        return run(self.channel, lambda _: self._post(body, delivery), self._policy, self._sleep)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> WebhookNotifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _post(self, body: bytes, delivery: str) -> Attempt:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": _USER_AGENT,
            DELIVERY_HEADER: delivery,
        }
        if self._secret is not None:
            timestamp = int(self._clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        try:
            with self._client.stream(
                "POST", self._url, content=body, headers=headers, timeout=self._timeout
            ) as response:
                return classify(
                    response.status_code,
                    response.headers.get("Retry-After"),
                    _read_start(response) if response.status_code >= 300 else "",
                )
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            return Attempt(False, False, error=_describe(exc))
        except httpx.TransportError as exc:  # connection refused or reset, timeouts
            return Attempt(False, True, error=_describe(exc))


def _read_start(response: httpx.Response) -> str:
    """The start of an error answer's body; a slow or endless one is not read to its end."""
    received = b""
    try:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= _ERROR_BODY_MAX:
                break
    except httpx.TransportError:
        pass
    return received[:_ERROR_BODY_MAX].decode("utf-8", "replace")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
