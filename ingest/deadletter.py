"""Dead-letter records: a message's bytes and why it was refused, cut to what the broker takes."""

from __future__ import annotations

import hashlib

Header = tuple[str, bytes]
Record = tuple[bytes | None, bytes, list[Header]]

# More than a record batch adds to its key, value and headers (kafka-python estimates ~80 bytes).
OVERHEAD = 512
# A database's message can quote the whole row; the detail says why, the value carries the row.
DETAIL_CHARS = 1000
# When the broker refuses a record the producer let through, its limit is lower than ours and
# unknown: fall back to copies small enough for any broker, then to the headers alone.
FALLBACK_LIMITS = (16 * 1024, 0)


def record(
    key: bytes | None, value: bytes, *, reason: str, detail: str, source: str, limit: int
) -> Record:
    """The dead letter of one message, at most `limit` bytes as the producer counts them.

    The value is the message's bytes, whole when they fit. Else it is their first bytes, and
    the headers `voc.original.size` and `voc.original.sha256` identify the message it was cut
    from; a key that alone does not fit is dropped.
    """
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1] + "…"
    headers = [
        ("voc.error.reason", reason.encode()),
        ("voc.error.detail", detail.encode()),
        ("voc.source", source.encode()),
    ]
    if size(key, value, headers) <= limit:
        return key, value, headers
    headers += [
        ("voc.original.size", str(len(value)).encode()),
        ("voc.original.sha256", hashlib.sha256(value).hexdigest().encode()),
    ]
    if size(key, b"", headers) > limit:
        key = None
    room = max(limit - size(key, b"", headers), 0)
    return key, value[:room], headers


def size(key: bytes | None, value: bytes, headers: list[Header]) -> int:
    """A record's size as a producer's limit counts it, rounded up."""
    fields = sum(len(name.encode()) + len(data) for name, data in headers)
    return len(key or b"") + len(value) + fields + OVERHEAD
