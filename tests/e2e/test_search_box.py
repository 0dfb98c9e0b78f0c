"""The feed's search box: what the server finds, live comments paused meanwhile, the feed back."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import CockpitPages, Post
from tests.harness import response

pytestmark = pytest.mark.e2e

# A guard while a response goes through broker, worker and hub: not a timing assertion.
SHOWN_WITHIN_MS = 20_000


def item(page: Page, body: dict[str, object]) -> Locator:
    return page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')


async def test_searching_the_feed_shows_matches_pauses_live_comments_and_clearing_restores_it(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin")
    broken = response(comment="Produit défectueux, personne ne répond.", language="fr")
    happy = response(score=10, comment="Delivered on time, friendly driver.")
    await post(broken, happy)
    await expect(item(page, happy)).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(item(page, broken)).to_be_visible()
    note = page.locator("#feed-search-note")
    await expect(note).to_be_hidden()

    box = page.locator("#screen-feed").get_by_role("searchbox", name="Search comments")
    await box.fill("DEFECTUEUX")
    await expect(item(page, happy)).to_have_count(0)
    await expect(item(page, broken)).to_be_visible()
    await expect(note).to_have_text("Live comments are paused while you search.")

    later = response(comment="Another défectueux product, arrived today.")
    await post(later)
    await expect(note).to_contain_text(
        "1 new since. Clear the search to see it.", timeout=SHOWN_WITHIN_MS
    )
    await expect(item(page, later)).to_have_count(0)

    await box.fill("?!")
    await expect(note).to_have_text("Type a word to search for.")
    await expect(page.locator("#feed li")).to_have_count(0)

    await box.fill("")
    for body in (broken, happy, later):
        await expect(item(page, body)).to_be_visible()
    await expect(note).to_be_hidden()
    # The page holds a phone's width: the box fits it.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
