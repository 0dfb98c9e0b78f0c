"""The one root exception and the few failures other layers map to user-facing answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self


class VocError(Exception):
    """Root of every error this project raises on purpose."""


class Refusal(VocError):
    """A refusal a person reads. Its message is an English msgid (marked `N_`) with named
    parameters, so whoever shows it words it in the reader's language (the API by
    Accept-Language); str() is the English."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message, self.params = message, params

    @classmethod
    def of(cls, error: Exception) -> Self:
        """`error` as this refusal, keeping its msgid and parameters when it has them."""
        if isinstance(error, Refusal):
            return cls(error.message, **error.params)
        return cls(str(error))


class BrokerUnavailable(VocError):
    """The Kafka broker did not acknowledge in time; the caller should retry later."""


class MessageTooLarge(VocError):
    """A response that would exceed the broker message limit; nothing of its batch was sent."""

    def __init__(self, index: int, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes once serialized; the limit is {limit}")
        self.index = index


class RecordsTooLarge(VocError):
    """Records the broker (or the client) refused for their size; the others were acknowledged.

    Never an outage: the same records would be refused again, so they are not retried as they are.
    """

    def __init__(self, indices: Sequence[int]) -> None:
        super().__init__(f"records {list(indices)} are larger than the broker takes")
        self.indices = list(indices)


class HubUnavailable(VocError):
    """The event hub backend (Redis) could not be reached."""


class ConfigurationError(VocError):
    """Settings that parse but cannot work together (the message names the variable)."""


class TreeChanged(VocError):
    """The org tree changed since a batch's roll-ups were counted: nothing of the batch was
    written; count it again for the new tree."""


class StoreUnavailable(VocError):
    """The database could not be reached; nothing of the call was written. Retry later."""
