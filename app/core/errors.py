"""The one root exception and the few failures other layers map to user-facing answers."""

from __future__ import annotations


class VocError(Exception):
    """Root of every error this project raises on purpose."""


class BrokerUnavailable(VocError):
    """The Kafka broker did not acknowledge in time; the caller should retry later."""


class HubUnavailable(VocError):
    """The event hub backend (Redis) could not be reached."""


class ConfigurationError(VocError):
    """Settings that parse but cannot work together (the message names the variable)."""
