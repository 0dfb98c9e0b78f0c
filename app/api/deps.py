"""What route handlers depend on: the runtime built at startup, who calls, and what they may do."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, NamedTuple, Protocol
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from alerts.rules import RuleBook
from app import security
from app.alertdesk.desk import AlertDesk
from app.api.errors import Code, Refused
from app.api.live import LiveBarometers
from app.broker.producer import Producer
from app.core.access import Principal, Role
from app.core.i18n import N_
from app.core.ratelimit import RateLimiter
from app.core.settings import Settings
from app.db import directory
from app.db.taxonomy import TaxonomyCache
from app.hub.base import HubBackend
from app.hub.fanout import Fanout, Subscriber

SESSION_COOKIE = "voc_session"
# The websocket close code for "sign in (again)".
UNAUTHORIZED = 4401


class CloseReason(StrEnum):
    """Why a socket is closed with UNAUTHORIZED, as its close reason: stable, for a program."""

    NOT_SIGNED_IN = "not_signed_in"
    SIGNED_OUT = "signed_out"
    SESSION_ENDED = "session_ended"
    ACCESS_CHANGED = "access_changed"


# A used key's last_used_at (and an audit line) is written at most this often per instance.
KEY_TOUCH_EVERY_S = 60.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class KeyUsage:
    """Requests per stored key since its last_used_at was last written."""

    last_written: dict[int, datetime] = field(default_factory=dict)
    uses: dict[int, int] = field(default_factory=dict)

    def count(self, key_id: int, now: datetime) -> int | None:
        """The uses to record now, or None while the last write is recent."""
        self.uses[key_id] = self.uses.get(key_id, 0) + 1
        last = self.last_written.get(key_id)
        if last is not None and (now - last).total_seconds() < KEY_TOUCH_EVERY_S:
            return None
        self.last_written[key_id] = now
        return self.uses.pop(key_id)


class _Session(NamedTuple):
    token: str
    digest: str
    expires_at: datetime


@dataclass
class OpenSockets:
    """This instance's websocket subscribers by user and session: to close them on sign-out, and
    to re-check each session once for all its sockets (`app.api.ws.watch_sessions`).

    Other instances notice a closed session at their next re-check (docs/websocket.md).
    """

    by_user: dict[int, dict[Subscriber, _Session]] = field(default_factory=dict)
    # Set when a socket's session expires before the re-check's next wake-up.
    sooner: asyncio.Event = field(default_factory=asyncio.Event)
    next_check: datetime | None = None

    def add(self, user_id: int, token: str, expires_at: datetime, subscriber: Subscriber) -> None:
        session = _Session(token, security.digest(token), expires_at)
        self.by_user.setdefault(user_id, {})[subscriber] = session
        if self.next_check is not None and expires_at < self.next_check:
            self.sooner.set()

    def remove(self, user_id: int, subscriber: Subscriber) -> None:
        sockets = self.by_user.get(user_id, {})
        sockets.pop(subscriber, None)
        if not sockets:
            self.by_user.pop(user_id, None)

    def close(
        self, reason: CloseReason, *, user_id: int | None = None, token: str | None = None
    ) -> None:
        """Close the sockets of one session (`token`) or of every session of `user_id`."""
        digest = security.digest(token) if token is not None else None
        for owner, sockets in list(self.by_user.items()):
            for subscriber, session in list(sockets.items()):
                if owner == user_id or session.digest == digest:
                    subscriber.close(UNAUTHORIZED, reason)

    def sessions(self) -> dict[str, datetime]:
        """Each open session's token, once however many sockets it has, with its expiry."""
        sessions = (s for sockets in self.by_user.values() for s in sockets.values())
        return {session.token: session.expires_at for session in sessions}


class Monitored(Protocol):
    """Work an instance runs in the background (its embedded ingest workers), seen by /readyz."""

    def degraded(self) -> str | None:
        """Why it is not doing its job right now, or None while it is."""


@dataclass
class Runtime:
    """Everything the composition root built once at startup."""

    settings: Settings
    engine: sa.Engine
    producer: Producer
    hub: HubBackend
    fanout: Fanout
    units: directory.TreeCache
    ingest_limiter: RateLimiter
    login_limiter: RateLimiter
    rules: RuleBook
    live: LiveBarometers
    desk: AlertDesk
    # The organisation's taxonomy of themes (its names and parents for the pages).
    taxonomy: TaxonomyCache
    key_usage: KeyUsage = field(default_factory=KeyUsage)
    sockets: OpenSockets = field(default_factory=OpenSockets)
    workers: Sequence[Monitored] = ()


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def origin_allowed(connection: HTTPConnection, settings: Settings) -> bool:
    """A browser's Origin must be this app itself or one listed in VOC_ALLOWED_ORIGINS.

    No Origin header (a script, not a browser page) passes: such callers authenticate with a
    bearer token, which a hostile page cannot attach.
    """
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    host = connection.headers.get("host", "")
    parts = urlsplit(origin)
    if parts.netloc and parts.netloc == host:
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in settings.allowed_origins}


_bearer = HTTPBearer(auto_error=False, description="A session token from /api/v1/auth/login.")


class PresentedToken(NamedTuple):
    value: str | None
    from_cookie: bool


def presented_token(connection: HTTPConnection) -> PresentedToken:
    """The session token: `Authorization: Bearer` first, else the cookie (a browser)."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return PresentedToken(value.strip(), from_cookie=False)
    cookie = connection.cookies.get(SESSION_COOKIE)
    return PresentedToken(cookie, from_cookie=cookie is not None)


def _token(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PresentedToken:
    # The bearer dependency only declares the scheme in the OpenAPI schema.
    return presented_token(request)


TokenDep = Annotated[PresentedToken, Depends(_token)]


async def authenticate(runtime: Runtime, token: str) -> tuple[Principal, datetime] | None:
    return await run_in_threadpool(directory.session_principal, runtime.engine, token)


async def current_principal(request: Request, runtime: RuntimeDep, token: TokenDep) -> Principal:
    if token.value is None:
        raise Refused(
            401, Code.NOT_SIGNED_IN, N_("sign in first (POST /api/v1/auth/login)"), _CHALLENGE
        )
    found = await authenticate(runtime, token.value)
    if found is None:
        raise session_ended(_CHALLENGE)
    foreign = token.from_cookie and not origin_allowed(request, runtime.settings)
    if foreign and request.method not in SAFE_METHODS:
        raise Refused(
            403,
            Code.FORBIDDEN_ORIGIN,
            N_("origin: requests from this page's origin are not allowed"),
        )
    return found[0]


def session_ended(headers: dict[str, str] | None = None) -> Refused:
    return Refused(
        401, Code.SESSION_ENDED, N_("session expired or signed out; sign in again"), headers
    )


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
PrincipalDep = Annotated[Principal, Depends(current_principal)]


def _require_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise Refused(
            403,
            Code.FORBIDDEN_ROLE,
            N_("role: only an admin may do this, not a {role}"),
            role=principal.role.value,
        )
    return principal


AdminDep = Annotated[Principal, Depends(_require_admin)]


@dataclass(frozen=True)
class Integrator:
    """Who posts: a stored key (possibly limited to units and surveys) or a key from settings."""

    label: str
    key_id: int | None = None
    org_units: tuple[str, ...] = ()
    surveys: tuple[str, ...] = ()


_KEY_CHALLENGE = {"WWW-Authenticate": "X-API-Key"}
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An integrator API key.")


async def require_integrator(
    request: Request, runtime: RuntimeDep, x_api_key: Annotated[str | None, Depends(_api_key)]
) -> Integrator:
    if not x_api_key:
        raise Refused(401, Code.MISSING_API_KEY, "missing X-API-Key header", _KEY_CHALLENGE)
    given = x_api_key.encode()
    for index, key in enumerate(runtime.settings.integrator_keys):
        if hmac.compare_digest(given, key.get_secret_value().encode()):
            return Integrator(label=f"settings-key-{index + 1}")
    row = await run_in_threadpool(directory.find_key, runtime.engine, x_api_key)
    if row is None or row.id is None:
        raise Refused(
            401, Code.INVALID_API_KEY, "unknown or revoked API key in X-API-Key", _KEY_CHALLENGE
        )
    now = datetime.now(UTC)
    uses = runtime.key_usage.count(row.id, now)
    if uses is not None:
        await run_in_threadpool(_record_key_use, runtime, row.id, row.name, uses, request)
    return Integrator(
        label=f"key-{row.prefix}",
        key_id=row.id,
        org_units=tuple(row.org_units),
        surveys=tuple(row.surveys),
    )


def _record_key_use(runtime: Runtime, key_id: int, name: str, uses: int, request: Request) -> None:
    now = datetime.now(UTC)
    directory.touch_key(runtime.engine, key_id, now)
    directory.audit(
        runtime.engine,
        actor=f"key:{name}",
        action="key.used",
        target=str(key_id),
        client=client_address(request),
        requests=uses,
    )


IntegratorDep = Annotated[Integrator, Depends(require_integrator)]
