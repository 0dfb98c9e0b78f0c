"""Why a customer is flagged, on a phone: the reasons under the call-back flag in the feed and on
the manager's alert card, a comment the scorer could not read shown as not assessed."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PHONE, CockpitPages, Post, open_screen
from tests.e2e.test_accessibility import violations
from tests.harness import response

pytestmark = pytest.mark.e2e

# Guards while the responses go through broker, worker, alert rules and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
COMPLAINT = "Terrible service, the worst delivery ever. I am still waiting for my parcel."
GERMAN = "Der Techniker kam nie, ich warte seit Tagen."


def entry(page: Page, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')


async def fits_a_phone(page: Page) -> None:
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths == [PHONE["width"], PHONE["width"]], f"scrolls sideways: {widths}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_a_flagged_customer_shows_why_in_the_feed_and_on_the_alert_card(
    cockpit_pages: CockpitPages, post: Post, scheme: Literal["light", "dark"]
) -> None:
    page = await cockpit_pages.open_as("manager")
    await page.emulate_media(color_scheme=scheme)
    complaint = response(org_unit="store-12", score=2, comment=COMPLAINT, customer_ref=None)
    # "language" declared, for a scorer that does not tell languages itself.
    german = response(
        org_unit="store-12", score=2, comment=GERMAN, language="de", customer_ref=None
    )
    content = response(org_unit="store-12", score=10, comment="Friendly and quick.")
    await post(complaint, german, content)

    why = entry(page, complaint).locator(".why")
    await expect(why).to_contain_text("Why:", timeout=SHOWN_WITHIN_MS)
    await expect(why.locator(".reason-score")).to_contain_text("NPS 2")
    await expect(why.locator(".reason-text")).to_have_count(1)
    await expect(entry(page, complaint).locator(".chip.tone")).to_have_text("Negative tone")

    unread = entry(page, german)
    await expect(unread.locator(".chip.tone")).to_have_text("Tone not assessed")
    await expect(unread.locator(".why .reason-score")).to_contain_text("NPS 2")
    await expect(unread.locator(".why .reason-language")).to_have_count(1)
    await expect(unread.locator(".verbatim")).to_have_attribute("lang", "de")
    # A content customer is not flagged: no reasons to give.
    await expect(entry(page, content).locator(".chip.tone")).to_have_text("Positive tone")
    await expect(entry(page, content).locator(".why")).to_have_count(0)
    await fits_a_phone(page)
    assert await violations(page) == []

    await open_screen(page, "alerts")
    card = page.locator("li.alert-card").filter(has_text=COMPLAINT)
    await expect(card.locator(".why .reason-score")).to_contain_text(
        "NPS 2", timeout=SHOWN_WITHIN_MS
    )
    await expect(card.locator(".why .reason-text")).to_have_count(1)
    await fits_a_phone(page)
    assert await violations(page) == []
