"""WCAG 2.1 A/AA checks (axe-core) on every screen a user reaches, in light and dark schemes."""

from __future__ import annotations

from typing import Literal

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.conftest import CockpitPages, Post, open_screen
from tests.harness import response

pytestmark = pytest.mark.e2e

SHOWN_WITHIN_MS = 20_000
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


async def violations(page: Page) -> list[str]:
    """One line per rule broken, with the first offending elements."""
    results = await Axe().run(page, options=WCAG)
    found = results.response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
    ]


async def test_the_sign_in_form_passes_wcag_aa(cockpit_pages: CockpitPages) -> None:
    page = await cockpit_pages.open()
    await expect(page.locator("#signin-form")).to_be_visible()
    assert await violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role", ["frontline", "manager"])
async def test_every_screen_passes_wcag_aa(
    cockpit_pages: CockpitPages, post: Post, role: str, scheme: Literal["light", "dark"]
) -> None:
    page = await cockpit_pages.open_as(role)
    await page.emulate_media(color_scheme=scheme)
    # Something on every screen: a happy and an unhappy customer (which raises an alert).
    await post(
        response(org_unit="store-12", score=10, comment="Friendly and quick."),
        response(org_unit="store-12", score=1, comment="Terrible service, nobody called back."),
        response(org_unit="store-12", score=2, score_kind="csat", comment="Still waiting."),
    )
    await expect(page.locator("#feed li")).to_have_count(3, timeout=SHOWN_WITHIN_MS)
    screens = ["feed", "barometer", "journey"] + (["alerts"] if role == "manager" else [])
    found = {}
    for name in screens:
        await open_screen(page, name)
        if name == "alerts":
            await expect(page.locator(".alert-card").first).to_be_visible(timeout=SHOWN_WITHIN_MS)
        found[name] = await violations(page)
    assert found == {name: [] for name in screens}
