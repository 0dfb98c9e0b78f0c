"""Praise reaches the team, on a phone: a promoter's praise lights up its comment live on the
frontline's feed, the Praise screen lists the units' praise, a manager pins one on top of the
frontline's feed for the day; and each user chooses their daily digest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.conftest import PHONE, CockpitPages, Console, Post, open_screen
from tests.e2e.test_accessibility import violations
from tests.e2e.test_reasons import fits_a_phone
from tests.harness import USERS, App, response

pytestmark = pytest.mark.e2e

# Guards while the response goes through broker, worker, scorer and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
PRAISE = "Marie was wonderful, so helpful and kind. Thank you!"
NO_EMAIL = (
    "Your account has no e-mail address, so no digest can reach you; ask an admin to add one."
)


@pytest.fixture
async def second_phone(browser: Browser, app: App, console: Console) -> AsyncIterator[CockpitPages]:
    """Another phone (its own browser context and cookie jar) beside `cockpit_pages`'s."""
    context = await browser.new_context(viewport=PHONE)
    try:
        yield CockpitPages(app, context, console)
    finally:
        await context.close()


def praise(**overrides: Any) -> dict[str, Any]:
    """A promoter's comment the scorer reads as praise, naming the staff member."""
    given = {"org_unit": "store-12", "score": 10, "comment": PRAISE, "staff": ["Marie"]}
    return response(**{**given, **overrides})


def entry(page: Page, body: dict[str, Any]) -> Locator:
    return page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')


def wall_card(page: Page, body: dict[str, Any]) -> Locator:
    return page.locator(f'#praise-wall li[data-response-id="{body["response_id"]}"]')


def pinned_card(page: Page, body: dict[str, Any]) -> Locator:
    return page.locator(f'#praise-pinned li[data-response-id="{body["response_id"]}"]')


def unexpected(console: Console, *statuses: int) -> list[str]:
    """Console errors, but for the browser's own line on an answer the test asked for, and on
    the page asking who is signed in before anyone is."""
    expected = [f"status of {status}" for status in statuses]
    return [
        e
        for e in console.errors
        if not any(s in e for s in expected)
        and not ("status of 401" in e and e.endswith("/api/v1/auth/me"))
    ]


async def test_praise_lights_up_its_comment_live_on_a_frontline_phone_and_fills_the_wall(
    cockpit_pages: CockpitPages, post: Post, console: Console
) -> None:
    page = await cockpit_pages.open_as("frontline")
    body = praise()
    await post(body)

    shown = entry(page, body)
    ribbon = shown.locator(".praise-ribbon")
    await expect(ribbon.locator("p")).to_have_text(
        "A customer praised Marie", timeout=SHOWN_WITHIN_MS
    )
    await expect(shown.locator(".verbatim")).to_have_text(PRAISE)
    await expect(shown.locator(".badge-score")).to_have_text("10")
    # The praise is its comment's own entry, lit up, in the feed's polite live region: the
    # comment shows once, and nothing took the focus.
    await expect(page.locator('#feed[aria-live="polite"] .praise-highlight')).to_have_count(1)
    await expect(page.locator("#screen-feed").get_by_text(PRAISE)).to_have_count(1)
    assert await page.evaluate("document.activeElement === document.body")
    await fits_a_phone(page)
    assert await violations(page) == []

    await shown.get_by_role("button", name="Dismiss the praise highlight").click()
    await expect(ribbon).to_have_count(0)
    await expect(shown).not_to_have_class("praise-highlight")
    await expect(shown.locator(".chip.praise")).to_have_text("Praise · Marie")
    await expect(shown).to_be_focused()

    await open_screen(page, "praise")
    card = wall_card(page, body)
    await expect(card).to_contain_text("A customer praised Marie")
    await expect(card.locator(".verbatim")).to_have_text(PRAISE)
    await expect(page.locator("#praise-staff")).to_have_text("Staff named: Marie (1)")
    await expect(page.locator("#praise-count")).to_have_text("1 praise, last 30 days")
    # Frontline staff read the wall; they do not pin.
    await expect(page.get_by_role("button", name="Pin for today")).to_have_count(0)

    # The wall moves live; off the feed, the praise is said in the page's own status line.
    later = praise(staff=["Sam", "Marie"], comment="Sam and Marie were great, thanks a lot!")
    await post(later)
    await expect(wall_card(page, later)).to_contain_text(
        "A customer praised Sam and Marie", timeout=SHOWN_WITHIN_MS
    )
    await expect(page.locator("#praise-wall li").first).to_have_attribute(
        "data-response-id", later["response_id"]
    )
    await expect(page.locator("#praise-announce")).to_have_text("A customer praised Sam and Marie.")
    await expect(page.locator("#praise-staff")).to_have_text("Staff named: Marie (2) · Sam (1)")
    await fits_a_phone(page)
    assert await violations(page) == []
    assert unexpected(console) == []


async def test_a_manager_pins_praise_on_top_of_the_frontline_feed_and_takes_it_off(
    cockpit_pages: CockpitPages, second_phone: CockpitPages, post: Post, console: Console
) -> None:
    body = praise()
    other = response(org_unit="store-12", score=7, comment="Fine, nothing special.")
    await post(body, other)
    frontline = await cockpit_pages.open_as("frontline")
    await expect(entry(frontline, other)).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(entry(frontline, body).locator(".chip.praise")).to_have_text("Praise · Marie")

    manager = await second_phone.open_as("manager")
    await open_screen(manager, "praise")
    card = wall_card(manager, body)
    await expect(card).to_contain_text(PRAISE, timeout=SHOWN_WITHIN_MS)
    await card.get_by_role("button", name="Pin for today").click()
    unpin = card.get_by_role("button", name="Unpin")
    await expect(unpin).to_be_focused()
    await expect(card).to_contain_text(f"Pinned on top of the feed by {USERS['manager'][0]}")
    await fits_a_phone(manager)
    assert await violations(manager) == []

    # Live on the frontline phone: on top of the feed, its entry in the list hidden meanwhile.
    on_top = pinned_card(frontline, body)
    await expect(on_top).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(on_top).to_contain_text("A customer praised Marie")
    await expect(on_top.locator(".verbatim")).to_have_text(PRAISE)
    await expect(on_top.get_by_role("button")).to_have_count(0)
    await expect(entry(frontline, body)).to_be_hidden()
    shown_once = frontline.locator("#screen-feed .verbatim:visible", has_text=PRAISE)
    await expect(shown_once).to_have_count(1)
    pinned_at = await on_top.bounding_box()
    listed_at = await entry(frontline, other).bounding_box()
    assert pinned_at and listed_at and pinned_at["y"] < listed_at["y"]
    await fits_a_phone(frontline)
    assert await violations(frontline) == []

    # A page opened now has it from the wall's pinned list.
    fresh = await cockpit_pages.open()
    await expect(pinned_card(fresh, body)).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await fresh.close()

    await unpin.click()
    await expect(card.get_by_role("button", name="Pin for today")).to_be_focused()
    await expect(card).not_to_contain_text("Pinned on top of the feed")
    await expect(frontline.locator("#praise-pinned li")).to_have_count(0, timeout=SHOWN_WITHIN_MS)
    await expect(frontline.locator("#praise-pinned")).to_be_hidden()
    await expect(entry(frontline, body)).to_be_visible()
    assert unexpected(console) == []


async def open_settings(page: Page) -> Locator:
    await page.get_by_role("button", name="My settings").click()
    dialog = page.get_by_role("dialog", name="My settings")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("E-mail me the daily digest")).to_be_enabled()
    return dialog


def give_email(app: App, username: str, email: str) -> None:
    with app.client() as client:
        answer = client.patch(f"/api/v1/admin/users/{username}", json={"email": email})
    assert answer.status_code == 200, answer.text


async def test_my_digest_is_saved_read_back_and_says_why_it_cannot_come(
    app: App,
    cockpit_pages: CockpitPages,
    second_phone: CockpitPages,
    console: Console,
) -> None:
    page = await cockpit_pages.open_as("frontline")
    dialog = await open_settings(page)
    enabled = dialog.get_by_label("E-mail me the daily digest")
    hour = dialog.get_by_label("Hour it arrives")
    timezone = dialog.get_by_label("Timezone")
    # Frontline staff get it once they turn it on; the timezone suggested is this device's.
    await expect(enabled).not_to_be_checked()
    here = await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    await expect(timezone).to_have_value(here)
    await fits_a_phone(page)
    assert await violations(page) == []

    await enabled.check()
    await hour.select_option("18")
    await timezone.select_option("America/New_York")
    await dialog.get_by_role("button", name="Save").click()
    error = dialog.locator("#digest-enabled-error")
    await expect(error).to_have_text(NO_EMAIL)
    await expect(enabled).to_have_attribute("aria-invalid", "true")
    await expect(enabled).to_be_focused()
    await expect(enabled).to_have_accessible_description(NO_EMAIL)
    assert await violations(page) == []

    # A timezone the server does not know is refused under the timezone.
    await enabled.uncheck()
    await timezone.evaluate(
        "select => select.add(new Option('Mars/Olympus', 'Mars/Olympus', true, true))"
    )
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.locator("#digest-timezone-error")).to_contain_text(
        "Unknown IANA timezone 'Mars/Olympus'"
    )
    await expect(timezone).to_be_focused()
    await expect(error).to_be_hidden()

    await timezone.select_option("America/New_York")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("status")).to_have_text("Saved: no daily digest.")
    await expect(dialog.locator("#digest-timezone-error")).to_be_hidden()
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()

    await page.reload()
    dialog = await open_settings(page)
    await expect(dialog.get_by_label("E-mail me the daily digest")).not_to_be_checked()
    await expect(dialog.get_by_label("Hour it arrives")).to_have_value("18")
    await expect(dialog.get_by_label("Timezone")).to_have_value("America/New_York")

    await asyncio.to_thread(give_email, app, USERS["frontline"][0], "s12.staff@example.com")
    await page.reload()
    dialog = await open_settings(page)
    await expect(dialog).to_contain_text("It goes to s12.staff@example.com.")
    await dialog.get_by_label("E-mail me the daily digest").check()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("status")).to_have_text(
        "Saved: your digest comes at 18:00, America/New_York time."
    )
    await page.reload()
    dialog = await open_settings(page)
    await expect(dialog.get_by_label("E-mail me the daily digest")).to_be_checked()
    await expect(dialog.get_by_label("Hour it arrives")).to_have_value("18")
    await expect(dialog.locator("#digest-notice")).to_be_hidden()

    # A manager gets it unless they turn it off: without an address, the server says it cannot come.
    manager = await second_phone.open_as("manager")
    dialog = await open_settings(manager)
    await expect(dialog.get_by_label("E-mail me the daily digest")).to_be_checked()
    await expect(dialog.locator("#digest-notice")).to_have_text(NO_EMAIL)
    await fits_a_phone(manager)
    assert await violations(manager) == []
    assert unexpected(console, 409, 422) == []
