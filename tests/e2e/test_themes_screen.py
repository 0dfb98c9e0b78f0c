"""The Themes screen on a French phone: what customers of the store talk about, named in French,
each theme with what it costs the NPS; a tap opens its comments in the feed; a new comment moves
the figures live; and an admin makes an emerging topic a theme in one tap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import PHONE, Console, Post, account, expect_live, open_screen
from tests.e2e.test_accessibility import violations
from tests.harness import PASSWORD, App, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while responses go through broker, worker and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
LATE = "La livraison est arrivée avec une semaine de retard."
FRIENDLY = "Le personnel était aimable et souriant."


@pytest.fixture
async def french(browser: Browser, console: Console) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        yield context
    finally:
        await context.close()
    assert not console.thrown, f"the page threw: {console.thrown}"


async def test_a_manager_sees_what_customers_talk_about_and_opens_a_themes_comments(
    app: App, french: BrowserContext, console: Console, post: Post
) -> None:
    said = {"org_unit": "store-12", "language": "fr", "customer_ref": None}
    late = [response(score=2, comment=LATE, **said) for _ in range(3)]
    friendly = [response(score=10, comment=FRIENDLY, **said) for _ in range(2)]
    await post(*late, *friendly)
    page = await french.new_page()
    console.watch(page)
    await page.goto(f"{app.url}/?org_unit=store-12")
    await sign_in_french(page, account(app, "manager"))

    await open_screen(page, "themes")
    await expect(page.locator("#themes-title")).to_have_text("Ce dont parlent les clients")
    delivery = page.locator('#themes-list li[data-theme="delivery"]')
    await expect(delivery).to_contain_text("Livraison", timeout=SHOWN_WITHIN_MS)
    await expect(delivery.locator(".theme-volume")).to_contain_text("3 commentaires")
    # 2 promoters, 3 detractors: NPS -20; without the 3 late deliveries, 100: they cost 120.
    await expect(delivery.locator(".theme-facts")).to_contain_text("Impact sur le NPS -120")
    await expect(delivery.locator(".theme-tone")).to_have_attribute("aria-label", "3 négatifs")
    assert await violations(page) == []
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths == [PHONE["width"], PHONE["width"]]

    # Live: one more late delivery, and the theme counts it without a reload.
    await post(response(score=1, comment=LATE, **said))
    await expect(delivery.locator(".theme-volume")).to_contain_text(
        "4 commentaires", timeout=SHOWN_WITHIN_MS
    )

    # The journey viewed by the theme: where customers meet it.
    await open_screen(page, "journey")
    await page.get_by_label("Voir par thème").select_option(label="Livraison et délais")
    delivery_step = page.locator('#journey-steps li[data-touchpoint="delivery"] .step-theme')
    await expect(delivery_step).to_contain_text("4 commentaires", timeout=SHOWN_WITHIN_MS)
    await expect(
        page.locator('#journey-steps li[data-touchpoint="billing"] .step-theme')
    ).to_have_text("Livraison et délais : pas cité ici")
    await open_screen(page, "themes")

    # A tap: the feed, filtered by the theme, each comment marked with it.
    await delivery.locator("button").click()
    await expect(page.locator("#screen-feed")).to_be_visible()
    await expect(page.locator("#feed li")).to_have_count(4, timeout=SHOWN_WITHIN_MS)
    chips = page.locator("#feed li .item-theme")
    await expect(chips.first).to_contain_text("Livraison")
    await expect(page.locator("#filters-active")).to_contain_text("Livraison")
    for body in friendly:
        await expect(
            page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')
        ).to_have_count(0)


def _emerging(app: App) -> bool:
    with app.client() as client:
        topics = client.get("/api/v1/admin/themes/emerging").json()["topics"]
    return any(t["phrase"] == "gift wrapping torn" for t in topics)


async def sign_in_french(page: Page, username: str) -> None:
    """Through the form, found by its ids: its labels are French."""
    await expect(page.locator("#signin-form")).to_be_visible()
    await page.locator("#signin-username").fill(username)
    await page.locator("#signin-password").fill(PASSWORD)
    await page.locator("#signin-password").press("Enter")
    await expect_live(page)


async def test_an_admin_makes_an_emerging_topic_a_theme_in_one_tap(
    app: App, french: BrowserContext, console: Console, post: Post
) -> None:
    # Four weeks of other comments before, then a phrase nobody said: it is new this week.
    now = datetime.now(UTC)
    earlier = [
        response(
            org_unit="store-40",
            comment="Quick checkout and a clean store",
            submitted_at=(now - timedelta(days=10 + i % 20)).isoformat(),
        )
        for i in range(40)
    ]
    torn = [
        response(org_unit="store-40", score=4, comment="Gift wrapping torn again")
        for _ in range(12)
    ]
    await post(*earlier, *torn)
    await asyncio.to_thread(wait_until, lambda: _emerging(app), message="the phrase emerging")
    page = await french.new_page()
    console.watch(page)
    await page.goto(f"{app.url}/")
    await sign_in_french(page, account(app, "admin"))
    await open_screen(page, "themes")
    topic = page.locator(".emerging-topic", has_text="gift wrapping torn")
    await expect(topic).to_contain_text("12 commentaires cette semaine", timeout=SHOWN_WITHIN_MS)
    await topic.get_by_role("button", name="En faire un thème").click()
    await expect(page.locator("#notice-text")).to_contain_text("est désormais un thème")
    # From the next comment on, it is sorted into the new theme.
    await post(response(org_unit="store-40", score=3, comment="Gift wrapping torn, once more"))
    named = page.locator('#feed li .item-theme[data-theme="gift-wrapping-torn"]')
    await open_screen(page, "feed")
    await expect(named).to_have_count(1, timeout=SHOWN_WITHIN_MS)
