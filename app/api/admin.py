"""Admin API: org units, users and integrator keys, and the audit log that records every change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from app.api.deps import AdminDep, CloseReason, Runtime, RuntimeDep, client_address
from app.api.errors import SIGNED_IN, Code, Refused, documented
from app.core.access import Principal, Role, check_assignment
from app.core.events import Identifier, Slug
from app.core.org import OrgUnit
from app.db import directory
from app.db.models import ApiKeyRow, AuditRow, UserRow
from app.db.store import MAX_ID

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses={
        **SIGNED_IN,
        **documented(_404="No such user, unit or key.", _409="Conflicts with what is stored."),
    },
)

T = TypeVar("T")
Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._@-]{0,63}$"),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=1024)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
MAX_UNITS = 1000


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role
    org_units: list[Slug] = Field(default_factory=list, max_length=MAX_UNITS)
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = Field(default=None, description="Where alert e-mails go.")


class UserChange(BaseModel):
    """Only the fields given change. A new password, role or units, or disabling, signs the user
    out everywhere."""

    model_config = ConfigDict(extra="forbid")

    password: Password | None = None
    role: Role | None = None
    org_units: list[Slug] | None = Field(default=None, max_length=MAX_UNITS)
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    username: str
    display_name: str
    role: Role
    org_units: list[str]
    email: str | None
    disabled: bool
    locked_until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> UserOut:
        return cls(
            username=row.username,
            display_name=row.display_name,
            role=Role(row.role),
            org_units=list(row.units),
            email=row.email,
            disabled=row.disabled,
            locked_until=row.locked_until,
            created_at=row.created_at,
        )


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    org_units: list[Slug] = Field(
        default_factory=list, max_length=MAX_UNITS, description="None: any unit."
    )
    surveys: list[Identifier] = Field(
        default_factory=list, max_length=MAX_UNITS, description="None: any survey."
    )


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The public part of the key, to recognise it in lists.")
    org_units: list[str]
    surveys: list[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")

    @classmethod
    def of(cls, row: ApiKeyRow) -> KeyOut:
        assert row.id is not None
        return cls.model_validate({**row.model_dump(), "id": row.id})


class NewKey(KeyOut):
    key: str = Field(description="Shown this once; only its hash is stored.")


class UnitBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: list[OrgUnit] = Field(min_length=1, max_length=10_000)


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    client: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls.model_validate(row.model_dump())


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_before: int | None = Field(description="Pass as `before` for the next, older page.")


def _audited(
    runtime: Runtime,
    admin: Principal,
    request: Request,
    action: str,
    target: str,
    change: Callable[[], T],
    **detail: Any,
) -> T:
    result = change()
    directory.audit(
        runtime.engine,
        actor=admin.username,
        action=action,
        target=target,
        client=client_address(request),
        **detail,
    )
    return result


def _not_found(what: str) -> Refused:
    return Refused(404, Code.NOT_FOUND, f"{what}: not found")


# ---- users


@router.get("/users")
async def list_users(runtime: RuntimeDep, _: AdminDep) -> list[UserOut]:
    rows = await run_in_threadpool(directory.list_users, runtime.engine)
    return [UserOut.of(r) for r in rows]


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(
    user: UserIn, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> UserOut:
    def create() -> UserRow:
        check_assignment(user.role, user.org_units, runtime.units.refresh())
        return directory.create_user(
            runtime.engine,
            username=user.username,
            password=user.password,
            role=user.role,
            units=user.org_units,
            display_name=user.display_name,
            email=user.email,
        )

    row = await run_in_threadpool(
        _audited,
        runtime,
        admin,
        request,
        "user.created",
        user.username,
        create,
        role=user.role.value,
        org_units=user.org_units,
    )
    return UserOut.of(row)


@router.patch("/users/{username}")
async def change_user(
    username: str, change: UserChange, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> UserOut:
    changes = change.model_dump(exclude_unset=True, exclude_none=True)
    if "org_units" in changes:
        changes["units"] = changes.pop("org_units")

    def apply() -> UserRow:
        current = directory.get_user(runtime.engine, username)
        if current is None:
            raise _not_found(f"user {username!r}")
        role = change.role or Role(current.role)
        check_assignment(role, changes.get("units", current.units), runtime.units.refresh())
        return directory.update_user(runtime.engine, username, **changes)

    # Say which fields changed, never their values: one of them may be a password.
    row = await run_in_threadpool(
        _audited, runtime, admin, request, "user.changed", username, apply, fields=sorted(changes)
    )
    if row.id is not None and set(changes) & directory.SIGN_OUT_ON:
        runtime.sockets.close(CloseReason.ACCESS_CHANGED, user_id=row.id)
    return UserOut.of(row)


# ---- org units


async def _save_units(
    units: list[OrgUnit], action: str, request: Request, runtime: Runtime, admin: Principal
) -> None:
    def save() -> None:
        directory.save_units(runtime.engine, units)
        runtime.units.refresh()

    target = units[0].id if len(units) == 1 else f"{len(units)} units"
    await run_in_threadpool(_audited, runtime, admin, request, action, target, save)


@router.post("/units", status_code=status.HTTP_201_CREATED)
async def create_unit(
    unit: OrgUnit, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> OrgUnit:
    if unit.id in await run_in_threadpool(runtime.units.refresh):
        raise Refused(
            409, Code.CONFLICT, f"id: unit {unit.id!r} exists; PUT /api/v1/admin/units/{unit.id}"
        )
    await _save_units([unit], "unit.created", request, runtime, admin)
    return unit


@router.put("/units/{unit_id}")
async def replace_unit(
    unit_id: str, unit: OrgUnit, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> OrgUnit:
    if unit.id != unit_id:
        raise Refused(422, Code.INVALID_INPUT, f"id: {unit.id!r} differs from the unit in the path")
    await _save_units([unit], "unit.saved", request, runtime, admin)
    return unit


@router.put("/units")
async def import_units(
    batch: UnitBatch, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> UnitBatch:
    """Add or update many units at once (a whole tree); units not listed are kept."""
    await _save_units(batch.units, "units.imported", request, runtime, admin)
    return batch


@router.delete("/units/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_unit(
    unit_id: str, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> Response:
    def delete() -> None:
        try:
            directory.delete_unit(runtime.engine, unit_id)
        except KeyError:
            raise _not_found(f"unit {unit_id!r}") from None
        runtime.units.refresh()

    await run_in_threadpool(_audited, runtime, admin, request, "unit.deleted", unit_id, delete)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- integrator keys


@router.get("/keys")
async def list_keys(runtime: RuntimeDep, _: AdminDep) -> list[KeyOut]:
    return [KeyOut.of(r) for r in await run_in_threadpool(directory.list_keys, runtime.engine)]


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(key: KeyIn, request: Request, runtime: RuntimeDep, admin: AdminDep) -> NewKey:
    def create() -> tuple[ApiKeyRow, str]:
        check_assignment(None, key.org_units, runtime.units.refresh())
        return directory.create_key(
            runtime.engine,
            name=key.name,
            created_by=admin.username,
            org_units=key.org_units,
            surveys=key.surveys,
        )

    row, secret = await run_in_threadpool(
        _audited, runtime, admin, request, "key.created", key.name, create
    )
    return NewKey(**KeyOut.of(row).model_dump(), key=secret)


@router.delete("/keys/{key_id}")
async def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
) -> KeyOut:
    """Revoked at once on every instance: keys are checked against the database on each use."""

    def revoke() -> ApiKeyRow:
        try:
            return directory.revoke_key(runtime.engine, key_id)
        except KeyError:
            raise _not_found(f"key {key_id}") from None

    row = await run_in_threadpool(
        _audited, runtime, admin, request, "key.revoked", str(key_id), revoke
    )
    return KeyOut.of(row)


# ---- audit


@router.get("/audit")
async def audit_log(
    runtime: RuntimeDep,
    _: AdminDep,
    action: Annotated[list[str], Query(max_length=50, description="Repeatable.")] = [],  # noqa: B006
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first: sign-ins, key use (at most once a minute per key), every admin change."""
    rows = await run_in_threadpool(
        lambda: directory.audit_trail(runtime.engine, before=before, limit=limit, actions=action)
    )
    items = [AuditEntry.of(r) for r in rows]
    last = items[-1].id if len(items) == limit else None
    return AuditPage(items=items, next_before=last)
