"""Sign-in and sign-out: a session token in an HttpOnly cookie for the cockpit, or as a bearer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app import security
from app.api.deps import (
    SESSION_COOKIE,
    CloseReason,
    PrincipalDep,
    Runtime,
    RuntimeDep,
    TokenDep,
    client_address,
)
from app.api.errors import SIGNED_IN, Code, Refused, documented
from app.core.access import Principal, Role
from app.core.i18n import N_
from app.core.languages import Language, accepted, choose, shipped
from app.db import directory
from app.db.models import UserRow

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    display_name: str
    role: Role
    org_units: list[str] = Field(description="The units given to this user (they see below too).")
    works_alerts: bool = Field(
        default=False,
        description="Whether the alerts API answers this user: managers and admins, and frontline "
        "staff where they take callbacks (VOC_FRONTLINE_CALLBACKS).",
    )
    language: Language = Field(
        default="en",
        description="The language this user reads: their own choice (PUT /api/v1/me/language), "
        "else the first their browser accepts (Accept-Language), else VOC_DEFAULT_LANGUAGE.",
    )


class SignedIn(Me):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; the cookie holds it.")
    expires_at: datetime


def _too_many(code: Code, message: str, wait_s: float) -> Refused:
    """`message` names the wait as `{seconds}`."""
    seconds = max(1, math.ceil(wait_s))
    return Refused(429, code, message, {"Retry-After": str(seconds)}, seconds=seconds)


@router.post(
    "/login",
    responses=documented(
        _401="Wrong username or password.",
        _429="Account locked, or too many attempts from this address; see Retry-After.",
    ),
)
async def login(
    credentials: Credentials, request: Request, response: Response, runtime: RuntimeDep
) -> SignedIn:
    client = client_address(request)
    wait = runtime.login_limiter.take(client)
    if wait:
        raise _too_many(
            Code.RATE_LIMITED,
            N_("too many sign-in attempts from your address; try again in {seconds} s"),
            wait,
        )
    accept_language = request.headers.get("accept-language")
    signed_in = await run_in_threadpool(_sign_in, runtime, credentials, client, accept_language)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=int((signed_in.expires_at - datetime.now(UTC)).total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return signed_in


def _sign_in(
    runtime: Runtime, credentials: Credentials, client: str, accept_language: str | None
) -> SignedIn:
    """Check the password (argon2, ~0.1 s, so off the event loop) and open a session."""
    settings, engine = runtime.settings, runtime.engine
    username = credentials.username.strip().lower()
    user = directory.get_user(engine, username)
    now = datetime.now(UTC)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        directory.audit(engine, actor=username, action="login.locked", client=client)
        left = (user.locked_until - now).total_seconds()
        raise _too_many(
            Code.ACCOUNT_LOCKED,
            N_("this account is locked after repeated wrong passwords; try again in {seconds} s"),
            left,
        )
    valid = security.verify_password(user.password_hash if user else None, credentials.password)
    if user is None or user.id is None or not valid or user.disabled:
        locked = None
        if user is not None and user.id is not None and not valid:
            locked = directory.record_login_failure(
                engine,
                user.id,
                max_failures=settings.login_max_failures,
                lockout=timedelta(seconds=settings.login_lockout_s),
            )
        reason = "unknown_user" if user is None else "password" if not valid else "disabled"
        directory.audit(
            engine,
            actor=username,
            action="login.failed",
            client=client,
            reason=reason,
            locked_until=locked.isoformat() if locked else None,
        )
        raise Refused(401, Code.WRONG_CREDENTIALS, N_("wrong username or password"))
    token, expires = directory.open_session(
        engine, user.id, lifetime=timedelta(hours=settings.session_hours)
    )
    directory.audit(engine, actor=username, action="login.succeeded", client=client)
    # Remembered for the e-mails of a user who chose no language: mail has no browser to ask.
    browser = next(filter(None, map(shipped, accepted(accept_language))), None)
    if browser is not None and browser != user.browser_language:
        user = directory.update_user(engine, username, browser_language=browser)
    me = _me(runtime, directory.principal(user), user, accept_language)
    return SignedIn(**me.model_dump(), token=token, expires_at=expires)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, runtime: RuntimeDep, presented: TokenDep) -> Response:
    """Ends the session (cookie or bearer); signing out twice is not an error."""
    token = presented.value
    if token is not None:
        await run_in_threadpool(_sign_out, runtime, token, client_address(request))
        runtime.sockets.close(CloseReason.SIGNED_OUT, token=token)
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return answer


def _sign_out(runtime: Runtime, token: str, client: str) -> None:
    found = directory.session_principal(runtime.engine, token)
    directory.close_session(runtime.engine, token)
    if found is not None:
        directory.audit(runtime.engine, actor=found[0].username, action="logout", client=client)


@router.get("/me", responses=SIGNED_IN)
async def me(request: Request, principal: PrincipalDep, runtime: RuntimeDep) -> Me:
    user = await run_in_threadpool(directory.get_user, runtime.engine, principal.username)
    return _me(runtime, principal, user, request.headers.get("accept-language"))


def _me(
    runtime: Runtime, principal: Principal, user: UserRow | None, accept_language: str | None
) -> Me:
    return Me(
        username=principal.username,
        display_name=user.display_name if user else principal.username,
        role=principal.role,
        org_units=list(principal.units),
        works_alerts=principal.reads_alerts(runtime.settings.frontline_callbacks),
        language=choose(
            user.language if user else None, accept_language, runtime.settings.default_language
        ),
    )
