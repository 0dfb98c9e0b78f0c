"""The event hub: a backend chosen by URL, and the fanout that feeds websocket clients."""

from __future__ import annotations

from app.core.errors import ConfigurationError
from app.core.settings import Settings
from app.hub.base import HubBackend

__all__ = ["HubBackend", "make_hub"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def make_hub(settings: Settings) -> HubBackend:
    """Redis when `VOC_REDIS_URL` is set (all instances share ids), else the in-process hub.

    Backend modules are imported here, so the Redis client is loaded only when it is used.
    """
    url = settings.redis_url
    if not url or url.startswith("memory://"):
        from app.hub.memory import MemoryHub

        return MemoryHub(backlog=settings.hub_backlog)
    if url.startswith(_REDIS_SCHEMES):
        from app.hub.redis import RedisHub

        return RedisHub(url, prefix=settings.redis_channel)
    # The URL may hold a password: name the variable, not its value.
    raise ConfigurationError("VOC_REDIS_URL must be a redis://, rediss:// or unix:// URL")
