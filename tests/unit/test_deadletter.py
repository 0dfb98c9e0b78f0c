"""Dead-letter records: whole when they fit the producer's limit, else cut with the original's
size and hash."""

from __future__ import annotations

import hashlib

from kafka.record.default_records import DefaultRecordBatchBuilder

from ingest import deadletter

LIMIT = 1024 * 1024
WHY = {"reason": "too_large", "detail": "message is 1048500 bytes", "source": "voc.responses/0/7"}


def kafka_size(record: deadletter.Record) -> int:
    """What kafka-python's producer compares with its max_request_size."""
    key, value, headers = record
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    return size


def test_a_message_that_fits_is_dead_lettered_whole() -> None:
    value = b'{"response_id": "r-1"}'
    key, sent, headers = deadletter.record(b"store-12", value, limit=LIMIT, **WHY)
    assert (key, sent) == (b"store-12", value)
    assert dict(headers) == {
        "voc.error.reason": b"too_large",
        "voc.error.detail": b"message is 1048500 bytes",
        "voc.source": b"voc.responses/0/7",
    }


def test_a_message_just_under_the_limit_is_cut_to_fit_with_its_size_and_hash() -> None:
    value = b"x" * (LIMIT - 100)
    record = deadletter.record(b"store-12", value, limit=LIMIT, **WHY)
    key, sent, headers = record
    assert key == b"store-12"
    assert value.startswith(sent)
    assert len(value) - 1024 < len(sent) < len(value)
    assert dict(headers)["voc.original.size"] == str(len(value)).encode()
    assert dict(headers)["voc.original.sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert kafka_size(record) <= LIMIT


def test_whatever_the_sizes_the_record_fits_the_producer_limit() -> None:
    for limit in (LIMIT, 16 * 1024, 300, 0):
        for size in (0, 1, limit // 2, limit - 200, limit, limit + 1, 2 * 1024 * 1024):
            for key in (None, b"k", b"k" * 20_000):
                record = deadletter.record(key, b"v" * size, limit=limit, **WHY)
                assert kafka_size(record) <= max(limit, deadletter.size(None, b"", record[2]))
                assert deadletter.size(*record) <= max(limit, deadletter.size(None, b"", record[2]))


def test_at_limit_zero_only_the_headers_are_left() -> None:
    key, sent, headers = deadletter.record(b"store-12", b"x" * 5000, limit=0, **WHY)
    assert (key, sent) == (None, b"")
    assert dict(headers)["voc.original.size"] == b"5000"


def test_a_long_detail_such_as_a_database_message_quoting_the_row_is_cut() -> None:
    detail = "value too long for type character varying(35) " + "y" * 50_000
    _, _, headers = deadletter.record(None, b"{}", limit=LIMIT, **{**WHY, "detail": detail})
    sent = dict(headers)["voc.error.detail"].decode()
    assert len(sent) == deadletter.DETAIL_CHARS
    assert sent.startswith("value too long") and sent.endswith("…")
