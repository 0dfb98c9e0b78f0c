"""What route handlers depend on: the runtime the app factory built, and the integrator check."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Header, HTTPException, Request

from app.broker.producer import Producer
from app.core.settings import Settings
from app.hub.base import HubBackend
from app.hub.fanout import Fanout


@dataclass
class Runtime:
    """Everything the composition root built once at startup."""

    settings: Settings
    engine: sa.Engine
    producer: Producer
    hub: HubBackend
    fanout: Fanout


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_integrator(
    runtime: RuntimeDep,
    x_api_key: Annotated[str | None, Header(description="An integrator API key.")] = None,
) -> None:
    if not x_api_key:
        raise HTTPException(401, "missing X-API-Key header", {"WWW-Authenticate": "X-API-Key"})
    given = x_api_key.encode()
    if not any(
        hmac.compare_digest(given, key.get_secret_value().encode())
        for key in runtime.settings.integrator_keys
    ):
        raise HTTPException(401, "unknown API key in X-API-Key", {"WWW-Authenticate": "X-API-Key"})


IntegratorDep = Depends(require_integrator)
