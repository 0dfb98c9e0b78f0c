"""`voc users|units|keys`: manage who may do what straight in the database (the first admin too).

The database modules are imported inside the commands, as in `app.cli`: every `voc` start,
`voc run` first of all, would otherwise pay for loading SQLAlchemy before doing anything.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.access import InvalidAssignment, Role, check_assignment
from app.core.languages import Language
from app.core.org import TreeError
from app.core.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

MIN_PASSWORD = 10


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="create and change users (the first admin too)")
    users_sub = users.add_subparsers(dest="action", required=True)
    create = users_sub.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--unit", action="append", default=[], help="an org unit (repeatable)")
    create.add_argument("--name", help="display name")
    create.add_argument("--email", help="where alert e-mails go (managers)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    users_sub.add_parser("list", help="list users")
    reset = users_sub.add_parser("password", help="set a user's password (signs them out)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")

    units = sub.add_parser("units", help="the org tree")
    units_sub = units.add_subparsers(dest="action", required=True)
    load = units_sub.add_parser("import", help="add or update units from a YAML or JSON file")
    load.add_argument("file", type=Path)
    units_sub.add_parser("list", help="print the tree")

    keys = sub.add_parser("keys", help="integrator API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    new = keys_sub.add_parser("create", help="create a key (printed once)")
    new.add_argument("name")
    new.add_argument("--unit", action="append", default=[], help="limit to a unit (repeatable)")
    new.add_argument("--survey", action="append", default=[], help="limit to a survey id")
    keys_sub.add_parser("list", help="list keys (never their secret)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=int)


def run(settings: Settings, args: argparse.Namespace) -> None:
    from app.db import directory, store

    engine = store.make_engine(settings.database_url)
    store.migrate(engine)
    commands: dict[tuple[str, str], Callable[[sa.Engine, argparse.Namespace], None]] = {
        ("users", "create"): _create_user,
        ("users", "list"): _list_users,
        ("users", "password"): _set_password,
        ("units", "import"): _import_units,
        ("units", "list"): _list_units,
        ("keys", "create"): _create_key,
        ("keys", "list"): _list_keys,
        ("keys", "revoke"): _revoke_key,
    }
    try:
        commands[(args.command, args.action)](engine, args)
    except (TreeError, InvalidAssignment, directory.Conflict) as exc:
        sys.exit(str(exc))
    finally:
        engine.dispose()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            sys.exit("the passwords differ")
    if len(password) < MIN_PASSWORD:
        sys.exit(f"password: at least {MIN_PASSWORD} characters")
    return password


def _create_user(engine: sa.Engine, args: argparse.Namespace) -> None:
    from app.db import directory

    role = Role(args.role)
    units = [u.strip().lower() for u in args.unit]
    check_assignment(role, units, directory.load_tree(engine))
    username = args.username.strip().lower()
    directory.create_user(
        engine,
        username=username,
        password=_password(args),
        role=role,
        units=units,
        display_name=args.name,
        email=args.email,
    )
    directory.audit(engine, actor=_actor(), action="user.created", target=username, role=role.value)
    print(f"created {role.value} {username}" + (f" for {', '.join(units)}" if units else ""))


def _list_users(engine: sa.Engine, _: argparse.Namespace) -> None:
    from app.db import directory

    for user in directory.list_users(engine):
        state = " (disabled)" if user.disabled else ""
        print(f"{user.username}\t{user.role}\t{','.join(user.units) or '-'}{state}")


def _set_password(engine: sa.Engine, args: argparse.Namespace) -> None:
    from app.db import directory

    try:
        directory.update_user(engine, args.username, password=_password(args))
    except KeyError:
        sys.exit(f"no user {args.username!r}")
    directory.audit(
        engine, actor=_actor(), action="user.changed", target=args.username, fields=["password"]
    )
    print(f"password changed; {args.username} is signed out everywhere")


def _import_units(engine: sa.Engine, args: argparse.Namespace) -> None:
    from app.db import directory
    from app.orgfile import read_units

    units = read_units(args.file)
    try:
        tree = directory.save_units(engine, units)
    except TreeError as exc:
        raise TreeError(f"{args.file}: {exc}") from exc
    directory.audit(
        engine, actor=_actor(), action="units.imported", target=str(args.file), count=len(units)
    )
    print(f"{len(units)} units saved; the tree has {len(tree)}")


def _list_units(engine: sa.Engine, _: argparse.Namespace) -> None:
    from app.db import directory

    tree = directory.load_tree(engine)
    for unit in tree:
        depth = len(tree.ancestors(unit.id))
        print(f"{'  ' * depth}{unit.id}\t{unit.kind.value}\t{unit.name}")


def _create_key(engine: sa.Engine, args: argparse.Namespace) -> None:
    from app.db import directory

    units = [u.strip().lower() for u in args.unit]
    check_assignment(None, units, directory.load_tree(engine))
    row, key = directory.create_key(
        engine, name=args.name, created_by=_actor(), org_units=units, surveys=args.survey
    )
    directory.audit(engine, actor=_actor(), action="key.created", target=args.name)
    print(f"key {row.id} ({args.name}); shown this once, store it now:", file=sys.stderr)
    print(key)


def _list_keys(engine: sa.Engine, _: argparse.Namespace) -> None:
    from app.db import directory

    for key in directory.list_keys(engine):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        limits = ",".join(key.org_units) or "any unit"
        print(f"{key.id}\t{key.name}\tvoc_{key.prefix}_…\t{state}\tlast used {used}\t{limits}")


def _revoke_key(engine: sa.Engine, args: argparse.Namespace) -> None:
    from app.db import directory

    try:
        row = directory.revoke_key(engine, args.id)
    except KeyError:
        sys.exit(f"no key {args.id}")
    directory.audit(engine, actor=_actor(), action="key.revoked", target=str(args.id))
    print(f"key {row.id} ({row.name}) revoked")


@dataclass(frozen=True)
class DemoUser:
    role: Role
    username: str
    units: tuple[str, ...]
    display_name: str
    password: str
    password_hash: str
    language: Language


def demo_users() -> list[DemoUser]:
    """One user per role of the demo tree and one per language the cockpit speaks, with fresh
    random passwords, hashed (~0.1 s each): `voc run` makes them while the API starts, and saves
    them once it is up."""
    import secrets

    from app import security

    demo: list[tuple[Role, str, tuple[str, ...], str, Language]] = [
        (Role.ADMIN, "admin", (), "Demo admin", "en"),
        (Role.MANAGER, "south.manager", ("south",), "Responsable région Sud", "fr"),
        (Role.FRONTLINE, "lyon.staff", ("lyon-02",), "Équipe du magasin de Lyon", "fr"),
        (Role.FRONTLINE, "nice.staff", ("nice-11",), "Personale del negozio di Nizza", "it"),
    ]
    users = []
    for role, username, units, name, language in demo:
        password = secrets.token_urlsafe(9)
        hashed = security.hash_password(password)
        users.append(DemoUser(role, username, units, name, password, hashed, language))
    return users


def save_demo_users(engine: sa.Engine, users: list[DemoUser]) -> None:
    from app.db import directory

    for user in users:
        directory.put_user(
            engine,
            username=user.username,
            password_hash=user.password_hash,
            role=user.role,
            units=user.units,
            display_name=user.display_name,
            language=user.language,
        )
