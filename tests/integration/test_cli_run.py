"""`voc run` (what `make run` starts): the whole cockpit on loopback, stopped by one Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
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
    env = {**os.environ, "VOC_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env.pop("VOC_INTEGRATOR_KEYS", None)
    run = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--rate", "5"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "run.err").open("wb"),
        text=True,
    )
    try:
        assert run.stdout is not None
        lines = [run.stdout.readline().strip() for _ in range(5)]
        assert lines[0] == f"Cockpit: http://127.0.0.1:{port}/", (tmp_path / "run.err").read_text()
        assert lines[1].startswith("Integrator key: demo-")
        key = lines[1].removeprefix("Integrator key: ")
        words = [line.split(" ") for line in lines[2:]]
        assert [(w[0], w[1], w[2]) for w in words] == [
            ("Demo", "user:", "admin"),
            ("Demo", "user:", "manager"),
            ("Demo", "user:", "frontline"),
        ]
        base = f"http://127.0.0.1:{port}"
        signed_in = {
            role: httpx.post(
                f"{base}/api/v1/auth/login", json={"username": username, "password": password}
            )
            for _, _, role, username, password in words
        }
        assert {r: a.status_code for r, a in signed_in.items()} == dict.fromkeys(signed_in, 200)
        staff = {"Authorization": f"Bearer {signed_in['frontline'].json()['token']}"}
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
