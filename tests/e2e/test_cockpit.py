"""What a person sees on the cockpit page while responses arrive, load and the app restarts."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import CockpitPages, Post, account, expect_live, open_screen, sign_in
from tests.harness import App, produce, response, wait_until

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
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin")
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


async def test_a_burst_that_arrives_in_batch_frames_is_shown_whole_and_in_order(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
    await sign_in(page, await asyncio.to_thread(account, app, "admin"))
    await expect_live(page)
    burst = [response(score=9, comment=f"Burst comment number {n}.") for n in range(25)]
    # One request: the worker publishes its 25 comments at once, so the page is behind by
    # several of them when they are written, and gets them in batch frames.
    await post(*burst)

    for body in burst:
        shown_item = item(page, body)
        await expect(shown_item).to_contain_text(str(body["comment"]), timeout=SHOWN_WITHIN_MS)
    batches = [json.loads(f) for f in frames if f.startswith('{"type":"batch"')]
    assert batches, "no batch frame: the burst did not test batching"
    # Newest first in the feed, as the burst was posted.
    shown = await page.locator("#feed li").evaluate_all(
        "items => items.map(li => li.dataset.responseId)"
    )
    posted = [b["response_id"] for b in burst]
    assert [r for r in shown if r in posted] == posted[::-1]


async def test_page_watching_one_store_does_not_show_another_stores_comments(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin", "?org_unit=store-40")
    other = response(org_unit="store-12", comment="Only store-12 should read this.")
    marker = response(org_unit="store-40", comment="Store-40 marker.")
    await post(other)
    await post(marker)

    await expect(item(page, marker)).to_contain_text(marker["comment"], timeout=SHOWN_WITHIN_MS)
    await expect(item(page, other)).to_have_count(0)
    await expect(page.locator("#feed")).not_to_contain_text(other["comment"])


@pytest.mark.parametrize(
    ("role", "query", "first", "last"),
    [
        ("admin", "?org_unit=store-40", "store-40", "store-40"),
        ("admin", "?org_unit=store-12&org_unit=store-40", "store-12", "store-40"),
        # No org_unit in the URL: all the manager's units, the north region, from its stores' and
        # teams' responses (store-12-field is a team of store-12).
        ("manager", "", "store-3", "store-12-field"),
    ],
    ids=[
        "one-leaf-store",
        "two-stores-combined",
        "region-rolled-up-from-its-stores",
    ],
)
async def test_nps_today_is_computed_from_posted_scores_and_moves_with_a_new_response(
    cockpit_pages: CockpitPages, post: Post, role: str, query: str, first: str, last: str
) -> None:
    page = await cockpit_pages.open_as(role, query)
    await open_screen(page, "barometer")
    # 2 promoters, 1 detractor: NPS 33. The unwatched store's detractor must not count.
    await post(
        response(org_unit=first, score=10),
        response(org_unit=first, score=9),
        response(org_unit=last, score=3, comment="Still waiting for the engineer."),
        response(org_unit="store-99", score=0),
    )
    await expect(page.locator("#nps-value")).to_have_text("+33", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#nps-count")).to_have_text("from 3 NPS answers today")

    await post(response(org_unit=last, score=2, comment="Third time I call."))
    # 2 promoters, 2 detractors: 0.
    await expect(page.locator("#nps-value")).to_have_text("0", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#nps-count")).to_have_text("from 4 NPS answers today")


async def test_responses_posted_before_the_page_opened_are_listed_newest_first(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    bodies = [
        response(comment="First: quick and easy."),
        response(comment="Second: the slot was wide."),
        response(
            score=4,
            comment="Third: still waiting for a callback.",
            contact={"name": "Jeanne Martin", "phone": "+33 6 12 34 56 78"},
        ),
    ]
    for stored, body in enumerate(bodies, start=1):
        await post(body)  # one at a time, so each is received after the one before
        await asyncio.to_thread(wait_until, lambda n=stored: len(app.rows()) == n)

    page = await cockpit_pages.open_as("admin")

    newest_first = [b["comment"] for b in reversed(bodies)]
    await expect(page.locator("#feed li .verbatim")).to_have_text(newest_first)
    # The read API shows an admin the contact of a customer to call back (live events never do).
    contact = item(page, bodies[2], flagged=True).locator(".contact")
    await expect(contact).to_have_text("Call back: Jeanne Martin · +33 6 12 34 56 78")
    await expect(contact.locator("a")).to_have_attribute("href", "tel:+33612345678")


async def test_a_comment_produced_while_the_server_is_down_is_shown_once_after_reconnecting(
    app: App, broker: str, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin")
    before = response(comment="Before the restart.")
    await post(before)
    await expect(page.locator("#feed")).to_contain_text(before["comment"], timeout=SHOWN_WITHIN_MS)

    # The websocket server (and its worker) dies without a goodbye.
    await asyncio.to_thread(app.stop, signal.SIGKILL)
    conn = page.locator("#conn-state")
    await expect(conn).to_have_attribute("data-state", "reconnecting", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#conn-text")).to_contain_text("Reconnecting")
    # An integrator keeps producing meanwhile.
    missed = response(comment="Sent while the cockpit server was down.")
    await asyncio.to_thread(produce, broker, app.topic, [json.dumps(missed).encode()])

    await asyncio.to_thread(app.start)
    await expect(conn).to_have_attribute("data-state", "live", timeout=RECONNECTED_WITHIN_MS)
    after = response(comment="After the restart.")
    await post(after)

    # The restarted hub cannot replay what the old one never saw: the page reloads its history.
    await expect(page.locator("#feed li .verbatim")).to_have_text(
        [after["comment"], missed["comment"], before["comment"]], timeout=SHOWN_WITHIN_MS
    )
    await expect(
        page.locator(f'#feed li[data-response-id="{missed["response_id"]}"]')
    ).to_have_count(1)


async def test_losing_the_network_shows_offline_and_coming_back_catches_up(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin")
    conn = page.locator("#conn-state")
    await cockpit_pages.context.set_offline(True)
    await expect(conn).to_have_attribute("data-state", "offline", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#conn-text")).to_have_text("Offline: waiting for the network")
    meanwhile = response(comment="Posted while the phone had no network.")
    await post(meanwhile)

    await cockpit_pages.context.set_offline(False)
    await expect(conn).to_have_attribute("data-state", "live", timeout=RECONNECTED_WITHIN_MS)
    await expect(
        page.locator(f'#feed li[data-response-id="{meanwhile["response_id"]}"]')
    ).to_have_count(1, timeout=SHOWN_WITHIN_MS)


def _stored_severity(app: App, response_id: str) -> str:
    with app.client() as client:
        page = client.get("/api/v1/responses", params={"flagged": True}).json()
    [view] = [v for v in page["items"] if v["response_id"] == response_id]
    return str(view["severity"])
