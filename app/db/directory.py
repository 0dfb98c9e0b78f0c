"""Org units, users, sessions, integrator keys and the audit log: every query about who is who."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import security
from app.core.access import Principal, Role
from app.core.org import OrgTree, OrgUnit, UnitKind
from app.db import aggregates
from app.db.models import ApiKeyRow, AuditRow, OrgUnitRow, ResponseRow, SessionRow, UserRow


class Conflict(ValueError):
    """The change contradicts what is stored (a taken username, a unit still in use)."""


# ---- org units


def load_tree(engine: sa.Engine) -> OrgTree:
    with Session(engine) as session:
        return _stored_tree(session)


def _stored_tree(session: Session) -> OrgTree:
    rows = session.exec(select(OrgUnitRow)).all()
    return OrgTree(
        (OrgUnit(id=r.id, name=r.name, kind=UnitKind(r.kind), parent=r.parent) for r in rows),
        version=aggregates.tree_version(session.connection()),
    )


def _reshaped(session: Session, before: OrgTree, after: OrgTree) -> OrgTree:
    """After units were added, moved or removed: a new tree version, and the roll-ups recounted
    for it, in the same transaction. Workers counting for the old version then count again."""
    if before.structure() == after.structure():
        return OrgTree(after, version=before.version)
    tree = OrgTree(after, version=before.version + 1)
    aggregates.reshape(session.connection(), tree)
    return tree


def save_units(engine: sa.Engine, units: Sequence[OrgUnit]) -> OrgTree:
    """Add or update units in one transaction; the result must still be a tree (TreeError).

    A unit's parent may be stored already or be among `units`, before or after it: the stored
    units and these are checked as one tree. A unit listed twice is refused.
    """
    with Session(engine) as session:
        before = _stored_tree(session)
        current = {r.id: r for r in session.exec(select(OrgUnitRow)).all()}
        listed = {u.id for u in units}
        kept = (
            OrgUnit(id=r.id, name=r.name, kind=UnitKind(r.kind), parent=r.parent)
            for r in current.values()
            if r.id not in listed
        )
        tree = OrgTree([*kept, *units])
        for unit in units:
            row = current.get(unit.id) or OrgUnitRow(id=unit.id, name=unit.name, kind=unit.kind)
            row.name, row.kind, row.parent = unit.name, unit.kind.value, unit.parent
            session.add(row)
        session.flush()
        tree = _reshaped(session, before, tree)
        session.commit()
        return tree


def delete_unit(engine: sa.Engine, unit_id: str) -> None:
    with Session(engine) as session:
        row = session.get(OrgUnitRow, unit_id)
        if row is None:
            raise KeyError(unit_id)
        before = _stored_tree(session)
        after = before.without(unit_id)
        used = session.exec(
            select(ResponseRow.id).where(ResponseRow.org_unit == unit_id).limit(1)
        ).first()
        if used is not None:
            raise Conflict(f"{unit_id}: has stored responses; it can be renamed, not deleted")
        session.delete(row)
        session.flush()
        _reshaped(session, before, after)
        session.commit()


# ---- users and sessions


def create_user(
    engine: sa.Engine,
    *,
    username: str,
    password: str,
    role: Role,
    units: Sequence[str],
    display_name: str | None = None,
    email: str | None = None,
) -> UserRow:
    row = UserRow(
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=security.hash_password(password),
        role=role.value,
        units=list(units),
    )
    with Session(engine) as session:
        if session.exec(select(UserRow).where(UserRow.username == username)).first():
            raise Conflict(f"username: {username!r} is taken")
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


# Changes after which a user's open sessions no longer match what they may see or do.
SIGN_OUT_ON = frozenset({"password", "role", "units", "disabled"})


def put_user(
    engine: sa.Engine,
    *,
    username: str,
    password_hash: str,
    role: Role,
    units: Sequence[str],
    display_name: str,
    language: str | None = None,
) -> None:
    """Create or reset a user from a ready password hash (the demo users); ends their sessions."""
    with Session(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.username == username)).first()
        row = row or UserRow(
            username=username, display_name=display_name, password_hash="", role=""
        )
        row.password_hash, row.role, row.units = password_hash, role.value, list(units)
        row.display_name, row.disabled, row.failed_logins, row.locked_until = (
            display_name,
            False,
            0,
            None,
        )
        row.language = language
        session.add(row)
        if row.id is not None:
            _revoke_sessions(session, row.id)
        session.commit()


def update_user(engine: sa.Engine, username: str, **changes: Any) -> UserRow:
    """Change role, units, display_name, email, disabled or password (hashed here); a new
    password, role or units, or disabling, ends the user's sessions."""
    with Session(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise KeyError(username)
        password = changes.pop("password", None)
        if password is not None:
            row.password_hash = security.hash_password(password)
            row.failed_logins, row.locked_until = 0, None
        for name, value in changes.items():
            setattr(row, name, value.value if isinstance(value, Role) else value)
        session.add(row)
        if password is not None or SIGN_OUT_ON & set(changes):
            _revoke_sessions(session, row.id)
        session.commit()
        session.refresh(row)
        return row


def get_user(engine: sa.Engine, username: str) -> UserRow | None:
    with Session(engine) as session:
        return session.exec(select(UserRow).where(UserRow.username == username)).first()


def names_of(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """The display name of each of these users that exists."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    query = select(UserRow.username, UserRow.display_name).where(col(UserRow.username).in_(wanted))
    return dict(session.exec(query).all())


def list_users(engine: sa.Engine) -> list[UserRow]:
    with Session(engine) as session:
        return list(session.exec(select(UserRow).order_by(col(UserRow.username))).all())


def record_login_failure(
    engine: sa.Engine, user_id: int, *, max_failures: int, lockout: timedelta
) -> datetime | None:
    """Count a wrong password; the lock's end when this failure locks the account."""
    with Session(engine) as session:
        row = session.get(UserRow, user_id)
        assert row is not None
        row.failed_logins += 1
        locked = None
        if row.failed_logins >= max_failures:
            locked = datetime.now(UTC) + lockout
            row.locked_until, row.failed_logins = locked, 0
        session.add(row)
        session.commit()
        return locked


def open_session(engine: sa.Engine, user_id: int, *, lifetime: timedelta) -> tuple[str, datetime]:
    """A new session token (returned once) and its expiry; clears the failure count."""
    token = security.new_token()
    expires = datetime.now(UTC) + lifetime
    with Session(engine) as session:
        session.add(
            SessionRow(token_hash=security.digest(token), user_id=user_id, expires_at=expires)
        )
        row = session.get(UserRow, user_id)
        if row is not None and (row.failed_logins or row.locked_until):
            row.failed_logins, row.locked_until = 0, None
            session.add(row)
        session.commit()
    return token, expires


def session_principal(engine: sa.Engine, token: str) -> tuple[Principal, datetime] | None:
    """The user behind a live session token, and when the session ends."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        found = session.exec(
            select(SessionRow, UserRow)
            .join(UserRow, col(UserRow.id) == col(SessionRow.user_id))
            .where(SessionRow.token_hash == security.digest(token))
        ).first()
        if found is None:
            return None
        row, user = found
        if row.revoked or row.expires_at <= now or user.disabled:
            return None
        return principal(user), row.expires_at


def managers_of(engine: sa.Engine, unit_ids: Sequence[str]) -> list[UserRow]:
    """Enabled managers given any of these units, with an e-mail address."""
    wanted = set(unit_ids)
    with Session(engine) as session:
        rows = session.exec(
            select(UserRow).where(
                UserRow.role == Role.MANAGER.value,
                col(UserRow.disabled).is_(False),
                col(UserRow.email).is_not(None),
            )
        ).all()
    return [r for r in rows if wanted & set(r.units)]


def principal(user: UserRow) -> Principal:
    assert user.id is not None
    return Principal(user.id, user.username, Role(user.role), tuple(user.units))


def close_session(engine: sa.Engine, token: str) -> None:
    with Session(engine) as session:
        row = session.get(SessionRow, security.digest(token))
        if row is not None:
            row.revoked = True
            session.add(row)
            session.commit()


def _revoke_sessions(session: Session, user_id: int | None) -> None:
    rows = session.exec(select(SessionRow).where(SessionRow.user_id == user_id)).all()
    for row in rows:
        row.revoked = True
        session.add(row)


# ---- integrator keys


def create_key(
    engine: sa.Engine,
    *,
    name: str,
    created_by: str,
    org_units: Sequence[str] = (),
    surveys: Sequence[str] = (),
) -> tuple[ApiKeyRow, str]:
    """The stored key and its full text, which exists nowhere else after this returns."""
    key, prefix, secret_hash = security.new_api_key()
    row = ApiKeyRow(
        prefix=prefix,
        secret_hash=secret_hash,
        name=name,
        org_units=list(org_units),
        surveys=list(surveys),
        created_by=created_by,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row, key


def find_key(engine: sa.Engine, key: str) -> ApiKeyRow | None:
    """The live key matching `key`, or None (unknown, malformed or revoked)."""
    parts = security.split_api_key(key)
    if parts is None:
        return None
    prefix, secret = parts
    with Session(engine) as session:
        row = session.exec(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).first()
    if row is None or row.revoked_at is not None:
        return None
    return row if security.same_digest(secret, row.secret_hash) else None


def touch_key(engine: sa.Engine, key_id: int, at: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(ApiKeyRow).where(col(ApiKeyRow.id) == key_id).values(last_used_at=at)
        )


def list_keys(engine: sa.Engine) -> list[ApiKeyRow]:
    with Session(engine) as session:
        return list(session.exec(select(ApiKeyRow).order_by(col(ApiKeyRow.id))).all())


def revoke_key(engine: sa.Engine, key_id: int) -> ApiKeyRow:
    with Session(engine) as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise KeyError(key_id)
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            session.add(row)
            session.commit()
            session.refresh(row)
        return row


# ---- audit log


def audit(
    engine: sa.Engine,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    client: str | None = None,
    **detail: Any,
) -> None:
    with Session(engine) as session:
        session.add(
            AuditRow(actor=actor, action=action, target=target, client=client, detail=detail)
        )
        session.commit()


def audit_trail(
    engine: sa.Engine, *, before: int | None = None, limit: int = 100, actions: Iterable[str] = ()
) -> list[AuditRow]:
    """Newest first."""
    query = select(AuditRow)
    if before is not None:
        query = query.where(col(AuditRow.id) < before)
    wanted = list(actions)
    if wanted:
        query = query.where(col(AuditRow.action).in_(wanted))
    with Session(engine) as session:
        return list(session.exec(query.order_by(col(AuditRow.id).desc()).limit(limit)).all())


class TreeCache:
    """The org tree as this process last read it: re-read after `ttl_s`, or at once on `refresh`.

    Other instances' changes show up within `ttl_s`; this instance's own at once.
    """

    def __init__(self, engine: sa.Engine, ttl_s: float = 5.0) -> None:
        self._engine, self._ttl_s = engine, ttl_s
        self._tree = OrgTree()
        self._read_at: float | None = None

    def get(self) -> OrgTree:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at > self._ttl_s:
            self._tree, self._read_at = load_tree(self._engine), now
        return self._tree

    def refresh(self) -> OrgTree:
        self._read_at = None
        return self.get()
