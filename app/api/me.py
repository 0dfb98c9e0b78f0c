"""The signed-in user's own settings: their daily digest (whether they get it, at which local
hour, in which timezone) and the language they read. Any role; each change is in the audit
log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from alerts import digest as words
from app.api.deps import PrincipalDep, Runtime, RuntimeDep, client_address, session_ended
from app.api.errors import SIGNED_IN, Code, Refused, documented, reader
from app.core.access import Principal
from app.core.i18n import N_
from app.core.languages import NAMES, SHIPPED, Language, choose
from app.core.settings import Settings
from app.db import directory
from app.db.models import UserRow

router = APIRouter(prefix="/api/v1/me", tags=["me"], responses=SIGNED_IN)

NO_EMAIL = N_(
    "email: your account has no e-mail address, so no digest can reach you; ask an admin to add one"
)
# The same, as the settings page shows it beside the choice.
NO_EMAIL_NOTICE = N_(
    "Your account has no e-mail address, so no digest can reach you; ask an admin to add one."
)


class DigestChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    hour: int = Field(ge=0, le=23, description="The local hour it is sent at, 0 to 23.")
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="An IANA timezone, e.g. Europe/Paris; null: the organisation's (VOC_TIMEZONE).",
    )

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return words.known_timezone(value) if value is not None else None


class DigestSettings(BaseModel):
    enabled: bool = Field(description="Whether this user gets the digest.")
    chosen: bool = Field(
        description="False while `enabled` is the role's default: managers and admins get it, "
        "frontline staff once they opt in."
    )
    hour: int = Field(description="The local hour it is sent at.")
    timezone: str = Field(description="The user's timezone, or the organisation's.")
    email: str | None = Field(description="Where it goes; set by an admin.")
    notice: str | None = Field(description="Why no digest reaches this user, when none does.")


@router.get("/digest")
async def get_digest(
    request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> DigestSettings:
    """The daily digest: a summary of yesterday in the user's units, by e-mail, once a day."""
    user = await run_in_threadpool(_user, runtime, principal)
    return _settings_of(user, request, runtime.settings)


@router.put("/digest", responses=documented(_409="Turning it on without an e-mail address."))
async def put_digest(
    choice: DigestChoice, request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> DigestSettings:
    """Turn the digest on or off, and choose its hour and timezone."""

    def save() -> UserRow:
        user = _user(runtime, principal)
        if choice.enabled and not user.email:
            raise Refused(409, Code.CONFLICT, NO_EMAIL)
        return _change(
            runtime,
            principal,
            request,
            "digest.changed",
            choice.model_dump(),
            digest=choice.enabled,
            digest_hour=choice.hour,
            timezone=choice.timezone,
        )

    return _settings_of(await run_in_threadpool(save), request, runtime.settings)


def _change(
    runtime: Runtime,
    principal: Principal,
    request: Request,
    action: str,
    detail: dict[str, Any],
    **changes: Any,
) -> UserRow:
    """Save the user's own change and audit it, with `detail` (what they chose)."""
    row = directory.update_user(runtime.engine, principal.username, **changes)
    directory.audit(
        runtime.engine,
        actor=principal.username,
        action=action,
        target=principal.username,
        client=client_address(request),
        **detail,
    )
    return row


def _user(runtime: Runtime, principal: Principal) -> UserRow:
    user = directory.get_user(runtime.engine, principal.username)
    if user is None:  # deleted since the session was checked
        raise session_ended()
    return user


def _settings_of(user: UserRow, request: Request, settings: Settings) -> DigestSettings:
    enabled = words.wants_digest(user.role, user.digest)
    return DigestSettings(
        enabled=enabled,
        chosen=user.digest is not None,
        hour=user.digest_hour,
        timezone=words.zone(user.timezone, settings.timezone).key,
        email=user.email,
        notice=reader(request).t(NO_EMAIL_NOTICE) if enabled and not user.email else None,
    )


class LanguageChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = Field(
        description="en, fr or it; null: the browser's, else the organisation's."
    )


class Offered(BaseModel):
    code: Language
    name: str = Field(description="The language named in itself, e.g. Français.")


class LanguageSettings(BaseModel):
    language: Language = Field(description="The language this user reads now.")
    chosen: Language | None = Field(
        description="Their own choice; null: the browser's (Accept-Language), else "
        "the organisation's (VOC_DEFAULT_LANGUAGE)."
    )
    offered: list[Offered]


@router.get("/language")
async def get_language(
    request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> LanguageSettings:
    """The language the cockpit and this user's e-mails speak, and those it offers."""
    user = await run_in_threadpool(_user, runtime, principal)
    return _language_of(user, request, runtime.settings)


@router.put("/language")
async def put_language(
    choice: LanguageChoice, request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> LanguageSettings:
    """Choose the language, or null to follow the browser."""

    def save() -> UserRow:
        chosen = {"language": choice.language}
        return _change(runtime, principal, request, "language.changed", chosen, **chosen)

    return _language_of(await run_in_threadpool(save), request, runtime.settings)


def _language_of(user: UserRow, request: Request, settings: Settings) -> LanguageSettings:
    own = user.language if user.language in SHIPPED else None
    return LanguageSettings(
        language=choose(own, request.headers.get("accept-language"), settings.default_language),
        chosen=own,
        offered=[Offered(code=code, name=NAMES[code]) for code in SHIPPED],
    )
