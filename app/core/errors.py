"""The one root exception and the few failures other layers map to user-facing answers."""

from __future__ import annotations


class VocError(Exception):
    """Root of every error this project raises on purpose."""


class BrokerUnavailable(VocError):
    """The Kafka broker did not acknowledge in time; the caller should retry later."""


class MessageTooLarge(VocError):
    """A response that would exceed the broker message limit; nothing of its batch was sent."""

    def __init__(self, index: int, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes once serialized; the limit is {limit}")
        self.index = index


class HubUnavailable(VocError):
    """The event hub backend (Redis) could not be reached."""


class ConfigurationError(VocError):
    """Settings that parse but cannot work together (the message names the variable)."""
