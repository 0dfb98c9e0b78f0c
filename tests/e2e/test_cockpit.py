"""What a person sees on the cockpit page while responses arrive, load and the app restarts."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import OpenCockpit, Post
from tests.harness import App, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while the response goes through broker, worker and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
RECONNECTED_WITHIN_MS = 45_000


def item(page: Page, body: dict[str, object], flagged: bool = False) -> Locator:
    """The feed entry of `body`; with `flagged`, only while it is marked for a callback."""
    return page.locator(
        f'#feed li{".flagged" if flagged else ""}[data-response-id="{body["response_id"]}"]'
    )


async def test_posted_response_appears_in_feed_and_dissatisfied_one_is_flagged_with_severity(
    app: App, open_cockpit: OpenCockpit, post: Post
) -> None:
    page = await open_cockpit()
    happy = response(score=10, comment="Delivered on time, friendly driver.")
    unhappy = response(score=1, comment="Terrible service, nobody called me back.")
    await post(happy, unhappy)

    shown = item(page, happy)
    await expect(shown).to_contain_text(happy["comment"], timeout=SHOWN_WITHIN_MS)
    await expect(shown).not_to_have_class("flagged")
    flagged = item(page, unhappy, flagged=True)
    await expect(flagged).to_contain_text(unhappy["comment"], timeout=SHOWN_WITHIN_MS)
    severity = _stored_severity(app, unhappy["response_id"])
    assert severity in {"low", "medium", "high"}
    await expect(flagged).to_have_attribute("data-severity", severity)
    await expect(flagged.locator(".chip.flag")).to_have_text(f"Call back · {severity}")
    await expect(page.locator("#conn-state")).to_have_attribute("data-state", "live")


async def test_page_watching_one_store_does_not_show_another_stores_comments(
    open_cockpit: OpenCockpit, post: Post
) -> None:
    page = await open_cockpit("?org_unit=store-40")
    other = response(org_unit="store-12", comment="Only store-12 should read this.")
    marker = response(org_unit="store-40", comment="Store-40 marker.")
    await post(other)
    await post(marker)

    await expect(item(page, marker)).to_contain_text(marker["comment"], timeout=SHOWN_WITHIN_MS)
    await expect(item(page, other)).to_have_count(0)
    await expect(page.locator("#feed")).not_to_contain_text(other["comment"])


@pytest.mark.parametrize(
    "watched",
    [["store-12"], ["store-12", "store-40"]],
    ids=["one-store-from-live-barometers", "two-stores-fetched-combined"],
)
async def test_nps_today_is_computed_from_posted_scores_and_moves_with_a_new_response(
    open_cockpit: OpenCockpit, post: Post, watched: list[str]
) -> None:
    page = await open_cockpit("?" + "&".join(f"org_unit={unit}" for unit in watched))
    last = watched[-1]
    # 2 promoters, 1 detractor: NPS 33. The unwatched store's detractor must not count.
    await post(
        response(org_unit=watched[0], score=10),
        response(org_unit=watched[0], score=9),
        response(org_unit=last, score=3, comment="Still waiting for the engineer."),
        response(org_unit="store-99", score=0),
    )
    await expect(page.locator("#nps-today")).to_have_text("33", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#nps-today-count")).to_have_text("from 3 NPS answers today")

    await post(response(org_unit=last, score=2, comment="Third time I call."))
    # 2 promoters, 2 detractors: 0.
    await expect(page.locator("#nps-today")).to_have_text("0", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#nps-today-count")).to_have_text("from 4 NPS answers today")


async def test_responses_posted_before_the_page_opened_are_listed_newest_first(
    app: App, open_cockpit: OpenCockpit, post: Post
) -> None:
    bodies = [
        response(comment="First: quick and easy."),
        response(comment="Second: the slot was wide."),
        response(score=4, comment="Third: still waiting for a callback."),
    ]
    for stored, body in enumerate(bodies, start=1):
        await post(body)  # one at a time, so each is received after the one before
        await asyncio.to_thread(wait_until, lambda n=stored: len(app.rows()) == n)

    page = await open_cockpit()

    newest_first = [b["comment"] for b in reversed(bodies)]
    await expect(page.locator("#feed li .verbatim")).to_have_text(newest_first)


async def test_page_reconnects_after_the_app_restarts_and_shows_new_responses(
    app: App, open_cockpit: OpenCockpit, post: Post
) -> None:
    page = await open_cockpit()
    before = response(comment="Before the restart.")
    await post(before)
    await expect(page.locator("#feed")).to_contain_text(before["comment"], timeout=SHOWN_WITHIN_MS)

    await asyncio.to_thread(app.stop)
    conn = page.locator("#conn-state")
    await expect(conn).to_have_attribute("data-state", "reconnecting", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#conn-text")).to_contain_text("Reconnecting")

    await asyncio.to_thread(app.start)
    await expect(conn).to_have_attribute("data-state", "live", timeout=RECONNECTED_WITHIN_MS)
    after = response(comment="After the restart.")
    await post(after)

    # The restarted hub counts from 1: the page reloads its history and carries on.
    await expect(page.locator("#feed li .verbatim")).to_have_text(
        [after["comment"], before["comment"]], timeout=SHOWN_WITHIN_MS
    )


def _stored_severity(app: App, response_id: str) -> str:
    page = httpx.get(app.url + "/api/v1/responses", params={"flagged": True}).json()
    [view] = [v for v in page["items"] if v["response_id"] == response_id]
    return str(view["severity"])
