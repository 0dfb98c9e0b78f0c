"""Remake the PWA's PNG icons from frontend/icons/icon.svg in Debian's headless Chromium.

python docs/icons.py   # frontend/icons/icon-192.png, icon-512.png, icon-maskable-512.png
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "frontend" / "icons"
sys.path.insert(0, str(ROOT))

from tests.harness import CHROMIUM_ARGS  # noqa: E402

# The manifest's background: a maskable icon is cropped to any shape, so it must fill its square.
# The gauge already sits inside the maskable safe zone (a circle of 40% of the size).
BAR = "#0f1b33"
# file name, size, background (None: transparent around the rounded square)
ICON_FILES = [
    ("icon-192.png", 192, None),
    ("icon-512.png", 512, None),
    ("icon-maskable-512.png", 512, BAR),
]


async def render() -> None:
    svg = (ICONS / "icon.svg").read_text()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        for name, size, background in ICON_FILES:
            page = await browser.new_page(
                viewport={"width": size, "height": size}, device_scale_factor=1
            )
            fill = f"background:{background};" if background else ""
            await page.set_content(
                f'<body style="margin:0;{fill}">'
                + svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
                + "</body>"
            )
            await page.screenshot(path=ICONS / name, omit_background=background is None)
            await page.close()
            print(ICONS / name)
        await browser.close()


if __name__ == "__main__":
    asyncio.run(render())
