"""A throwaway PostgreSQL cluster for the integration suites, and fresh databases in it."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.broker.embedded import free_port
from tests.harness import missing_service

# Not UTC, and not a whole-hour offset, so a test sees any datetime the database hands back
# in the server's zone instead of as the UTC instant that was stored.
SERVER_TIMEZONE = "Asia/Kathmandu"

_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": f"'{SERVER_TIMEZONE}'",
    "log_timezone": "'UTC'",
}


def postgres_bin() -> Path:
    """The newest installed server's bin directory; missing skips locally but fails `make test`."""
    found = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "pg_ctl").is_file()]
    if not found:
        missing_service(
            "PostgreSQL server binaries are not in /usr/lib/postgresql/*/bin "
            "(deploy/install-services.sh installs them)"
        )
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _as_owner() -> tuple[list[str], tuple[int, int] | None]:
    """How to run the server binaries: postgres refuses root, so root runs them as `postgres`."""
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root but there is no `postgres` user to own the test cluster")
    return ["runuser", "-u", "postgres", "--"], (owner.pw_uid, owner.pw_gid)


def start_postgres() -> tuple[str, Callable[[], None]]:
    """Start a cluster on a free loopback port; returns its superuser URL and its stop function.

    The cluster lives in its own directory under the system temp dir (pytest's are private to
    the user running the tests, so the `postgres` user could not enter them); `stop` shuts it
    down and deletes the directory. Loopback connections are trusted, durability is off.
    """
    bindir = postgres_bin()
    prefix, owner = _as_owner()
    base = Path(tempfile.mkdtemp(prefix="voc-pg-"))
    if owner is not None:
        os.chown(base, *owner)
    data, log = base / "data", base / "postgres.log"
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run(
            [*prefix, *command], cwd=base, check=True, capture_output=True, stdin=subprocess.DEVNULL
        )

    def stop() -> None:
        try:
            if (data / "postmaster.pid").exists():
                run(str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    try:
        run(
            str(bindir / "initdb"),
            *("-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-locale"),
            *("--auth=trust", "--no-sync"),
        )
        settings = {**_SETTINGS, "port": str(port), "unix_socket_directories": f"'{base}'"}
        with (data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        run(str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", "60")
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace")
        if log.exists():
            detail += log.read_text(errors="replace")
        stop()
        raise RuntimeError(f"test PostgreSQL did not start: {detail[-3000:]}") from exc
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def create_database(server_url: str) -> str:
    """A new empty database on the cluster at `server_url`; returns its URL."""
    import psycopg
    from psycopg import sql

    name = f"voc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + f"/{name}"
