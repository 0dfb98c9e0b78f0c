"""WCAG 2.1 A/AA checks (axe-core) on every screen a user reaches, in light and dark schemes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.conftest import CockpitPages, Post, open_screen
from tests.harness import App, make_app, response, wait_until

pytestmark = pytest.mark.e2e

SHOWN_WITHIN_MS = 20_000
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def app(broker: str, tmp_path: Path) -> Iterator[App]:
    """With frontline callbacks on, so frontline staff reach every screen there is."""
    instance = make_app(broker, tmp_path, frontline_callbacks="true")
    instance.start()
    yield instance
    instance.stop()


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
    # The happy customer's praise lights up its comment.
    await expect(page.locator("#feed .praise-highlight")).to_have_count(1, timeout=SHOWN_WITHIN_MS)
    screens = ["feed", "barometer", "journey", "themes", "praise", "alerts"]
    found = {}
    for name in screens:
        await open_screen(page, name)
        if name == "alerts":
            await expect(page.locator(".alert-card").first).to_be_visible(timeout=SHOWN_WITHIN_MS)
        if name == "praise":
            await expect(page.locator("#praise-wall li")).to_have_count(1)
        found[name] = await violations(page)
    await page.get_by_role("button", name="My settings").click()
    await expect(page.get_by_label("E-mail me the daily digest")).to_be_enabled()
    found["settings"] = await violations(page)
    assert found == {name: [] for name in [*screens, "settings"]}


def alert_count(app: App) -> int:
    with app.client() as client:
        answer = client.get("/api/v1/alerts", params={"group": "false", "limit": 1})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_inbox_with_its_filters_bulk_form_groups_and_a_linked_response_passes_wcag_aa(
    app: App, cockpit_pages: CockpitPages, post: Post, scheme: Literal["light", "dark"]
) -> None:
    burst = [
        response(
            org_unit="store-5", score=1, comment="Terrible, nobody came.", customer_ref=f"b{i}"
        )
        for i in range(12)
    ]
    case = [
        response(
            org_unit="store-12", score=2, comment=f"Terrible service, call {n}.", customer_ref="c"
        )
        for n in range(2)
    ]
    await post(*burst, case[0])
    await asyncio.to_thread(wait_until, lambda: alert_count(app) == 13)
    await post(case[1])
    await asyncio.to_thread(wait_until, lambda: alert_count(app) == 14)

    page = await cockpit_pages.open_as("manager", f"?response={case[0]['response_id']}")
    await page.emulate_media(color_scheme=scheme)
    dialog = page.get_by_role("dialog", name="The comment your link opened")
    await expect(dialog).to_be_visible()
    found = {"response": await violations(page)}
    await dialog.get_by_role("button", name="Close").click()

    await open_screen(page, "alerts")
    await page.locator("details.alerts-more summary").click()
    grouped = page.locator('li[data-kind="case"]')
    await grouped.get_by_role("button", name="Details").click()
    await expect(grouped).to_contain_text("This customer's other alerts (1)")
    await grouped.get_by_label("Select").check()
    await page.get_by_role("button", name="Assign…").click()
    await expect(page.get_by_label("Assign to")).to_be_enabled()
    found["inbox"] = await violations(page)

    await page.get_by_role("button", name="Show the 12 alerts").click()
    await expect(page.locator(".alerts-incident")).to_be_visible()
    found["incident"] = await violations(page)
    assert found == {"response": [], "inbox": [], "incident": []}
