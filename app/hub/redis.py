"""The Redis hub: ids from one Redis counter, events on one pub/sub channel, shared by instances."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from app.core.errors import HubUnavailable
from app.core.ports import EventSink
from app.hub.base import HubBackend, HubItem, Interruption, check_payloads
from app.metrics import HUB_RECONNECTS

log = logging.getLogger(__name__)

# One script call numbers and publishes a whole batch. Redis runs scripts one at a time, so
# the channel carries ids in increasing order whatever the number of publishers.
# ARGV: channel, clock floor (µs), payloads. A counter that does not exist yet (a new or
# restarted Redis) starts from the clock, so ids never go back below those handed out before.
_PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[2])
end
local id = 0
for i = 3, #ARGV do
  id = redis.call('INCR', KEYS[1])
  local framed = '{"id":' .. string.format('%d', id) .. ',' .. string.sub(ARGV[i], 2)
  redis.call('PUBLISH', ARGV[1], framed)
end
return id
"""
_ID_PREFIX = b'{"id":'
# Any Redis error counts as unavailability: READONLY during a failover is as final as a refusal.
_REDIS_ERRORS = (redis.RedisError, OSError, TimeoutError)
_CONFIRM_TIMEOUT_S = 5.0
_BACKOFF_FIRST_S = 0.1
_BACKOFF_MAX_S = 5.0


class RedisHub(HubBackend):
    """Every app instance subscribes to `<prefix>`; the counter is `<prefix>:seq`.

    Events published while a subscriber is disconnected are not delivered to it later: the
    subscription reconnects with backoff and reports an `Interruption`.
    """

    def __init__(self, url: str, *, prefix: str) -> None:
        self._url = url
        self._channel = prefix
        self._seq_key = f"{prefix}:seq"
        self._async: aioredis.Redis | None = None
        self._sync: redis.Redis | None = None
        self._script: Script | None = None

    async def start(self) -> None:
        # No retries inside redis-py: a pub/sub connection it silently re-established would hide
        # the events lost meanwhile; a publish it repeated after a lost reply would send twice.
        self._async = aioredis.Redis.from_url(self._url, retry=AsyncRetry(NoBackoff(), 0))
        self._sync = redis.Redis.from_url(self._url, retry=Retry(NoBackoff(), 0))
        self._script = self._sync.register_script(_PUBLISH)

    async def stop(self) -> None:
        if self._async is not None:
            await self._async.aclose()
        if self._sync is not None:
            self._sync.close()
        self._async = self._sync = self._script = None

    def sink(self) -> EventSink:
        return _RedisSink(self)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[HubItem]]:
        subscription = _Subscription(self._client(), self._channel)
        try:
            await subscription.open()
        except _REDIS_ERRORS as exc:
            raise HubUnavailable(
                f"cannot subscribe to Redis channel {self._channel}: {exc}"
            ) from exc
        try:
            yield subscription
        finally:
            await subscription.close()

    async def ping(self) -> None:
        try:
            await self._client().ping()
        except _REDIS_ERRORS as exc:
            raise HubUnavailable(f"Redis does not answer: {exc}") from exc

    def _publish(self, payloads: Sequence[bytes]) -> None:
        """Number and publish `payloads` in one script call: at most once, never retried."""
        checked = check_payloads(payloads)
        script, client = self._script, self._sync
        if script is None or client is None:
            raise HubUnavailable("the Redis hub is not running")
        try:
            floor = time.time_ns() // 1000
            script(keys=[self._seq_key], args=[self._channel, floor, *checked], client=client)
        except _REDIS_ERRORS as exc:
            raise HubUnavailable(f"cannot publish {len(checked)} events to Redis: {exc}") from exc

    def _client(self) -> aioredis.Redis:
        if self._async is None:
            raise HubUnavailable("the Redis hub is not running")
        return self._async


class _RedisSink:
    def __init__(self, hub: RedisHub) -> None:
        self._hub = hub

    def publish(self, payloads: Sequence[bytes]) -> None:
        if payloads:
            self._hub._publish(payloads)


class _Subscription:
    """Reads the channel; on a lost connection resubscribes with backoff, forever."""

    def __init__(self, client: aioredis.Redis, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._pubsub: PubSub | None = None

    async def open(self) -> None:
        self._pubsub = await self._subscribe()

    async def close(self) -> None:
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> HubItem:
        while True:
            pubsub = self._pubsub
            if pubsub is None:
                await self._resubscribe()
                return Interruption("the Redis subscription was lost and re-established")
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except _REDIS_ERRORS as exc:
                log.warning(
                    "lost the Redis subscription; events published until it is back are not "
                    "delivered live",
                    extra={"channel": self._channel, "error": str(exc)},
                )
                await self.close()
                continue
            event = _framed_event(message)
            if event is not None:
                return event

    async def _subscribe(self) -> PubSub:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            # Another connection's PUBLISH reaches us only once the server has confirmed.
            async with asyncio.timeout(_CONFIRM_TIMEOUT_S):
                while not _is_confirmation(await pubsub.get_message(timeout=None)):
                    pass
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    async def _resubscribe(self) -> None:
        delay = _BACKOFF_FIRST_S
        attempts = 1
        while True:
            try:
                self._pubsub = await self._subscribe()
            except _REDIS_ERRORS as exc:
                log.info(
                    "Redis still unreachable, retrying",
                    extra={"channel": self._channel, "attempts": attempts, "error": str(exc)},
                )
                # Jitter, so app instances do not all knock at once when Redis comes back.
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, _BACKOFF_MAX_S)
                attempts += 1
                continue
            HUB_RECONNECTS.inc()
            log.warning(
                "Redis subscription restored",
                extra={"channel": self._channel, "attempts": attempts},
            )
            return


def _is_confirmation(message: dict[str, Any] | None) -> bool:
    return message is not None and message.get("type") == "subscribe"


def _framed_event(message: dict[str, Any] | None) -> tuple[int, bytes] | None:
    if message is None:
        return None
    data = message.get("data")
    if isinstance(data, bytes) and data.startswith(_ID_PREFIX):
        end = data.find(b",", len(_ID_PREFIX))
        digits = data[len(_ID_PREFIX) : end]
        if end > 0 and digits.isdigit():
            return int(digits), data
    log.warning("skipping a message without a hub id", extra={"data": repr(data)[:80]})
    return None
