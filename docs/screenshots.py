"""Remake the README's screenshots: `voc run` in a scratch directory, each demo user signed in.

python docs/screenshots.py [--out DIR]
    # cockpit-feed, -barometer, -journey, -themes, -praise, -callbacks, -callback-taken, -alerts,
    # -wide .png
    # in English, cockpit-fr-feed.png (the Lyon staff's own French) and cockpit-it-barometer.png
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

from app.broker.embedded import free_port  # noqa: E402
from tests.harness import CHROMIUM_ARGS  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
# Enough demo traffic for a full feed and a moving barometer.
WARM_UP_S = 25


def demo_users(lines: list[str]) -> dict[str, tuple[str, str]]:
    """Each demo user's username and password, by username."""
    users = {}
    for line in lines:
        if line.startswith("Demo user: "):
            _, _, _, username, password, _ = line.split()
            users[username] = (username, password)
    return users


async def sign_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(url)
    await page.locator("#signin-username").fill(username)
    await page.locator("#signin-password").fill(password)
    await page.locator("#signin-password").press("Enter")
    await page.wait_for_selector("#feed li[data-response-id]", timeout=60_000)


async def speak(page: Page, language: str) -> None:
    """The signed-in user chooses `language`, as on the settings' language menu; then a reload."""
    await page.evaluate(
        """(language) => fetch('/api/v1/me/language', {
             method: 'PUT', body: JSON.stringify({language}),
             headers: {'Content-Type': 'application/json'}})""",
        language,
    )
    await page.reload()
    await page.wait_for_selector('#conn-state[data-state="live"]', timeout=60_000)


async def shoot(url: str, users: dict[str, tuple[str, str]], out: Path) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        phone = await browser.new_page(viewport=PHONE, device_scale_factor=1)
        await sign_in(phone, url, *users["lyon.staff"])
        await asyncio.sleep(WARM_UP_S)
        # The Lyon staff member reads French, their own choice; the other shots are in English.
        await phone.screenshot(path=out / "cockpit-fr-feed.png")
        await speak(phone, "en")
        await asyncio.sleep(1)
        await phone.screenshot(path=out / "cockpit-feed.png")
        for screen in ("barometer", "journey", "praise"):
            await phone.locator(f"#tab-{screen}").click()
            await asyncio.sleep(1)
            await phone.screenshot(path=out / f"cockpit-{screen}.png")
        # The demo lets frontline staff take callbacks: the list, then one taken.
        await phone.locator("#tab-alerts").click()
        await phone.wait_for_selector(".alert-card", timeout=60_000)
        await asyncio.sleep(1)
        await phone.screenshot(path=out / "cockpit-callbacks.png")
        await phone.get_by_role("button", name="I'll call").first.click()
        await phone.wait_for_selector("a[href^='tel:']", timeout=30_000)
        await asyncio.sleep(1)
        await phone.screenshot(path=out / "cockpit-callback-taken.png")
        await speak(phone, "fr")
        nice = await browser.new_page(viewport=PHONE, device_scale_factor=1)
        await sign_in(nice, url, *users["nice.staff"])
        await nice.locator("#tab-barometer").click()
        await asyncio.sleep(1)
        await nice.screenshot(path=out / "cockpit-it-barometer.png")
        manager = await browser.new_page(viewport=PHONE, device_scale_factor=1)
        await sign_in(manager, url, *users["south.manager"])
        await speak(manager, "en")
        await manager.locator("#tab-alerts").click()
        await manager.wait_for_selector(".alert-card", timeout=60_000)
        await asyncio.sleep(1)
        await manager.screenshot(path=out / "cockpit-alerts.png")
        await manager.locator("#tab-themes").click()
        await manager.wait_for_selector("#themes-list li", timeout=60_000)
        await asyncio.sleep(1)
        await manager.screenshot(path=out / "cockpit-themes.png")
        wide = await browser.new_page(viewport=DESKTOP, device_scale_factor=1)
        await sign_in(wide, url, *users["south.manager"])
        await asyncio.sleep(5)
        await wide.screenshot(path=out / "cockpit-wide.png")
        await speak(manager, "fr")
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DOCS)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="voc-shots-"))
    port = free_port()
    env = {**os.environ, "VOC_PORT": str(port), "VOC_DATABASE_URL": f"sqlite:///{scratch}/voc.db"}
    run = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--rate", "6"],
        cwd=scratch,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert run.stdout is not None
    try:
        # `voc run` prints the cockpit's address, the key, the broker, then one line per user.
        lines = [run.stdout.readline().strip()]
        while len(demo_users(lines)) < 4:
            lines.append(run.stdout.readline().strip())
        url = lines[0].removeprefix("Cockpit: ")
        asyncio.run(shoot(url, demo_users(lines), out))
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
    print("wrote", ", ".join(str(p) for p in sorted(out.glob("cockpit-*.png"))))


if __name__ == "__main__":
    main()
