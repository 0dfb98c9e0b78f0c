"""Seconds from `make run` to the first comment on a cockpit page in headless Chromium.

Each run starts `make run` (venv already installed) on a free port in a scratch directory,
opens the printed cockpit URL as soon as it and the demo admin's password have appeared, signs
in through the page's form as that admin, and stops the clock when the first comment is in the
page's feed. Prints one row a run and the median.

    python bench/first_comment.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import CHROMIUM_ARGS  # noqa: E402


def read_start(lines: Iterator[str]) -> tuple[str, str, str]:
    """The cockpit URL and the demo admin's username and password from `make run`'s output."""
    url, admin = "", ("", "")
    for line in lines:
        if line.startswith("Cockpit: "):
            url = line.split()[1]
        elif line.startswith("Demo user: admin "):
            _, _, _, username, password = line.split()
            admin = (username, password)
        if url and all(admin):
            return url, *admin
    raise SystemExit("make run exited before printing the cockpit URL and the demo admin")


async def one_run(port: int) -> tuple[float, float]:
    scratch = Path(tempfile.mkdtemp(prefix="voc-first-"))
    env = {**os.environ, "VOC_PORT": str(port), "VOC_DATABASE_URL": f"sqlite:///{scratch}/voc.db"}
    env.pop("VOC_INTEGRATOR_KEYS", None)
    started = time.monotonic()
    run = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert run.stdout is not None
    try:
        url, username, password = await asyncio.to_thread(read_start, iter(run.stdout))
        printed = time.monotonic() - started
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(url)
            await page.get_by_label("Username").fill(username)
            await page.get_by_label("Password").fill(password)
            await page.get_by_label("Password").press("Enter")
            await page.wait_for_selector("#feed li[data-response-id]", timeout=60_000)
            on_screen = time.monotonic() - started
            await browser.close()
        return printed, on_screen
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    rows = []
    print(f"{'run':>4} {'URL printed s':>14} {'first comment on screen s':>26}")
    for n in range(args.runs):
        printed, on_screen = asyncio.run(one_run(args.port))
        rows.append(on_screen)
        print(f"{n + 1:>4} {printed:>14.2f} {on_screen:>26.2f}", flush=True)
        time.sleep(1)
    print(f"median seconds to first comment on screen: {statistics.median(rows):.2f}")


if __name__ == "__main__":
    main()
