"""`voc run` (what `make run` starts): the whole cockpit on loopback, stopped by one Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer
from websockets.asyncio.client import connect

from app.broker.embedded import free_port
from tests.harness import ROOT, Cockpit, response

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_voc_run_prints_cockpit_key_and_demo_users_shows_demo_comments_and_stops_all(
    tmp_path: Path,
) -> None:
    port = free_port()
    run = _spawn(tmp_path, port, rate=5)
    try:
        assert run.stdout is not None
        lines = [run.stdout.readline().strip() for _ in range(7)]
        assert lines[0] == f"Cockpit: http://127.0.0.1:{port}/", (tmp_path / "run.err").read_text()
        assert lines[1].startswith("Integrator key: demo-")
        key = lines[1].removeprefix("Integrator key: ")
        assert lines[2].startswith("Kafka: 127.0.0.1:")
        kafka = lines[2].removeprefix("Kafka: ")
        words = [line.split(" ") for line in lines[3:]]
        # A user per role, and one per language the cockpit speaks.
        assert [(w[0], w[1], w[2], w[5]) for w in words] == [
            ("Demo", "user:", "admin", "(English)"),
            ("Demo", "user:", "manager", "(Français)"),
            ("Demo", "user:", "frontline", "(Français)"),
            ("Demo", "user:", "frontline", "(Italiano)"),
        ]
        base = f"http://127.0.0.1:{port}"
        signed_in = {
            username: httpx.post(
                f"{base}/api/v1/auth/login", json={"username": username, "password": password}
            )
            for _, _, _, username, password, _ in words
        }
        assert {r: a.status_code for r, a in signed_in.items()} == dict.fromkeys(signed_in, 200)
        assert {u: a.json()["language"] for u, a in signed_in.items()} == {
            "admin": "en",
            "south.manager": "fr",
            "lyon.staff": "fr",
            "nice.staff": "it",
        }
        staff = {"Authorization": f"Bearer {signed_in['lyon.staff'].json()['token']}"}
        units = httpx.get(f"{base}/api/v1/units", headers=staff).json()["units"]
        # The demo frontline user works in the Lyon store and sees its teams, nothing else.
        assert sorted(u["id"] for u in units) == ["lyon-02", "lyon-02-counter", "lyon-02-field"]

        admin = {"Authorization": f"Bearer {signed_in['admin'].json()['token']}"}
        async with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=admin) as connection:
            cockpit = Cockpit(connection)
            await cockpit.subscribe()
            demo = await cockpit.next(lambda e: e["type"] == "comment", timeout=30)
        assert demo["data"]["response_id"].startswith("demo-")
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "cockpit" in page.text.lower()
        posted = httpx.post(
            f"{base}/api/v1/responses",
            json=response(org_unit="nantes-04"),
            headers={"X-API-Key": key},
        )
        assert posted.status_code == 202
        # What the line says is where an integrator's producer reaches the cockpit's topic.
        consumer = KafkaConsumer(bootstrap_servers=kafka)
        try:
            assert "voc.responses" in consumer.topics()
        finally:
            consumer.close()
        children = _children(run.pid)
        assert len(children) == 2  # the broker and the API

        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=30) == 0
        assert run.stdout.read().strip().endswith("stopped: API, worker, broker")
        assert not any(_alive(pid) for pid in children)
        assert (tmp_path / "voc.db").exists()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def _spawn(tmp_path: Path, port: int, rate: float, **settings: str) -> subprocess.Popen[str]:
    """`voc run` in `tmp_path`, as a new user starts it: no integrator key set."""
    env = {**os.environ, "VOC_PORT": str(port), "PYTHONPATH": str(ROOT), **settings}
    env.pop("VOC_INTEGRATOR_KEYS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--rate", str(rate)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "run.err").open("wb"),
        text=True,
    )


def _start(tmp_path: Path, **settings: str) -> subprocess.Popen[str]:
    """`voc run` without demo traffic, once it printed its first line (it is ready)."""
    run = _spawn(tmp_path, free_port(), rate=0, **settings)
    assert run.stdout is not None
    first = run.stdout.readline()
    assert first.startswith("Cockpit: "), (tmp_path / "run.err").read_text()
    return run


def _stopped_within(run: subprocess.Popen[str], children: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        run.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    while any(_alive(pid) for pid in children):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _storm(pid: int, signals: tuple[signal.Signals, ...], seconds: float) -> None:
    """Send `signals` back to back, again and again, until `pid` exits or `seconds` pass.

    A handler that takes a lock deadlocks only if a signal arrives while the handler of the one
    before runs. On one CPU the sender rarely runs at that moment; with the sender and the
    receiver on two CPUs, thousands of signals a second give it that chance every time.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    mine = set(cpus)
    if len(cpus) >= 2:
        os.sched_setaffinity(pid, {cpus[1]})
        os.sched_setaffinity(0, {cpus[0]})
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                for signum in signals:
                    os.kill(pid, signum)
            except ProcessLookupError:
                return
    finally:
        if len(cpus) >= 2:
            os.sched_setaffinity(0, mine)


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM)],
    ids=["term-term", "int-term"],
)
def test_signals_in_quick_succession_stop_every_process(
    tmp_path: Path, signals: tuple[signal.Signals, signal.Signals]
) -> None:
    run = _start(tmp_path)
    children = _children(run.pid)
    try:
        assert len(children) == 2  # the broker and the API
        _storm(run.pid, signals, seconds=1)
        assert _stopped_within(run, children, 20), (tmp_path / "run.err").read_text()[-3000:]
    finally:
        for pid in [run.pid, *children]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        run.wait()


def test_voc_run_puts_its_broker_on_the_port_set(tmp_path: Path) -> None:
    port = free_port()
    run = _start(tmp_path, VOC_EMBEDDED_KAFKA_PORT=str(port))
    try:
        assert run.stdout is not None
        lines = [run.stdout.readline().strip() for _ in range(2)]
        assert lines[1] == f"Kafka: 127.0.0.1:{port}"
        consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{port}")
        try:
            assert "voc.responses" in consumer.topics()
        finally:
            consumer.close()
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=30)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        refused = subprocess.run(
            [sys.executable, "-m", "app.cli", "run"],
            cwd=tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "VOC_PORT": str(free_port()),
                "VOC_EMBEDDED_KAFKA_PORT": str(port),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert refused.returncode != 0
    assert "VOC_EMBEDDED_KAFKA_PORT" in refused.stderr
