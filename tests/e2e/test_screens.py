"""The phone cockpit's screens with real traffic: Kafka to gauge, hostile text, layout, journey."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PHONE, CockpitPages, Post, open_screen
from tests.harness import App, produce, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while a response goes through broker, worker and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
# Screenshots of every screen, kept by CI as artefacts (git-ignored).
ARTIFACTS = Path(os.environ.get("VOC_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


async def produce_to_kafka(app: App, broker: str, *bodies: dict[str, object]) -> None:
    """As an integrator's producer does: one JSON message per response on the responses topic."""
    values = [json.dumps(b).encode() for b in bodies]
    await asyncio.to_thread(produce, broker, app.topic, values)


def entry(page: Page, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')


async def test_responses_produced_to_kafka_show_in_the_feed_and_set_the_gauge(
    app: App, broker: str, cockpit_pages: CockpitPages
) -> None:
    page = await cockpit_pages.open_as("admin", "?org_unit=store-40")
    # store-41 is in the same region: it counts for the comparison, not for the store.
    neighbour = response(org_unit="store-41", score=0, comment="Neighbour store detractor.")
    bodies = [
        response(org_unit="store-40", score=10, comment="Kafka promoter one."),
        response(org_unit="store-40", score=9, comment="Kafka promoter two."),
        response(org_unit="store-40", score=8, comment="Kafka passive."),
        response(org_unit="store-40", score=3, comment="Kafka detractor, still waiting."),
    ]
    await produce_to_kafka(app, broker, *bodies, neighbour)

    for body in bodies:
        await expect(entry(page, body)).to_contain_text(
            str(body["comment"]), timeout=SHOWN_WITHIN_MS
        )
    await expect(entry(page, neighbour)).to_have_count(0)

    await open_screen(page, "barometer")
    # 2 promoters, 1 passive, 1 detractor of 4: NPS +25.
    await expect(page.locator("#nps-value")).to_have_text("+25", timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#gauge")).to_have_attribute(
        "aria-label", "NPS gauge at +25 on a scale from \u2212100 to +100"
    )
    await expect(page.locator("#gauge")).to_have_attribute("data-band", "mid")
    await expect(page.locator("#nps-count")).to_have_text("from 4 NPS answers today")
    await expect(page.locator("#mix-legend .legend")).to_have_text(
        ["2 promoters", "1 passive", "1 detractor"]
    )
    # South: store-40's 4 answers and store-41's detractor: 2 promoters, 2 detractors of 5: 0.
    compare = page.locator("#parent-compare")
    await expect(compare).to_contain_text("South NPS 0", timeout=SHOWN_WITHIN_MS)
    await expect(compare).to_contain_text("you are 25 points above")

    await page.locator("#baro-window").get_by_label("7 days").check()
    await expect(page.locator("#baro-title")).to_have_text("Barometer · 7 days")
    await expect(page.locator("#nps-count")).to_have_text("from 4 NPS answers in 7 days")


async def test_a_comment_with_markup_shows_as_text_and_runs_nothing(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    await cockpit_pages.context.add_init_script(
        "window.__dialogs = 0; window.alert = () => { window.__dialogs++; };"
    )
    page = await cockpit_pages.open_as("manager")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    hostile = (
        "Terrible service, nobody called me back. <img src=x onerror=alert(1)>"
        "<script>window.__ran=1</script><b>bold</b>"
    )
    body = response(org_unit="store-12", score=1, comment=hostile)
    await post(body)

    shown = entry(page, body).locator(".verbatim")
    await expect(shown).to_have_text(hostile, timeout=SHOWN_WITHIN_MS)
    # The detractor also raised an alert: its card shows the same text, as text.
    await open_screen(page, "alerts")
    card = page.locator(".alert-card", has_text="onerror=alert(1)")
    await expect(card).to_be_visible(timeout=SHOWN_WITHIN_MS)

    assert await page.locator("#cockpit img, #cockpit script, #cockpit b").count() == 0
    assert await page.evaluate("[window.__dialogs, window.__ran ?? null]") == [0, None]
    assert dialogs == []


@pytest.mark.parametrize("role", ["frontline", "manager"])
async def test_every_screen_fits_a_phone_without_sideways_scrolling(
    cockpit_pages: CockpitPages, post: Post, role: str
) -> None:
    page = await cockpit_pages.open_as(role)
    long_word = "Unacceptable" * 12  # one 144-letter word must wrap, not widen the page
    await post(
        response(org_unit="store-12", score=2, comment=f"{long_word} and the engineer never came."),
        response(
            org_unit="store-12-field", touchpoint="installation", score=10, comment="Perfect."
        ),
        response(
            org_unit="store-12", score=4, score_kind="csat", touchpoint="billing", channel="email"
        ),
    )
    await expect(page.locator("#feed li")).to_have_count(3, timeout=SHOWN_WITHIN_MS)
    screens = ["feed", "barometer", "journey"]
    if role == "manager":
        screens.append("alerts")
    else:
        await expect(page.locator("#tab-alerts")).to_be_hidden()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in screens:
        await open_screen(page, name)
        widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths == [PHONE["width"], PHONE["width"]], f"{name} scrolls sideways: {widths}"
        await page.screenshot(path=ARTIFACTS / f"phone-{role}-{name}.png", full_page=True)


async def test_the_journey_colours_each_touchpoint_by_its_nps_in_journey_order(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("admin", "?org_unit=store-41")
    await open_screen(page, "journey")
    await post(
        response(org_unit="store-41", touchpoint="delivery", score=1, comment="Never arrived."),
        response(org_unit="store-41", touchpoint="delivery", score=3, comment="Late again."),
        response(org_unit="store-41", touchpoint="purchase", score=10, comment="Easy to buy."),
        response(org_unit="store-40", touchpoint="billing", score=0, comment="Other store."),
    )

    corridor = page.locator("#corridor li")
    delivery = page.locator('#corridor li[data-touchpoint="delivery"]')
    await expect(delivery).to_have_attribute("data-band", "bad", timeout=SHOWN_WITHIN_MS)
    await expect(delivery.locator(".stop-nps")).to_have_text("-100")
    await expect(delivery.locator(".stop-n")).to_contain_text("2")
    purchase = page.locator('#corridor li[data-touchpoint="purchase"]')
    await expect(purchase).to_have_attribute("data-band", "good")
    await expect(purchase.locator(".stop-nps")).to_have_text("+100")
    # The other store's billing detractor is not this store's journey.
    await expect(page.locator('#corridor li[data-touchpoint="billing"]')).to_have_attribute(
        "data-band", "none"
    )
    order = await corridor.evaluate_all("(nodes) => nodes.map((n) => n.dataset.touchpoint)")
    assert order.index("purchase") < order.index("delivery") < order.index("billing")
    await expect(page.locator('#corridor li[data-touchpoint="delivery"] .stop-name')).to_have_text(
        "delivery"
    )


async def test_new_comments_wait_behind_a_pill_while_the_reader_is_scrolled_down(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    older = [
        response(comment=f"Older comment number {i}, long enough to take a line or two.")
        for i in range(12)
    ]
    await post(*older)
    page = await cockpit_pages.open_as("admin")
    await expect(page.locator("#feed li")).to_have_count(12, timeout=SHOWN_WITHIN_MS)
    await page.locator("#feed li").last.scroll_into_view_if_needed()
    reading_at = await page.evaluate("window.scrollY")
    assert reading_at > 0

    newer = response(comment="Arrived while you were reading.")
    await post(newer)
    pill = page.locator("#new-pill")
    await expect(pill).to_have_text("1 new comment ↑", timeout=SHOWN_WITHIN_MS)
    await expect(entry(page, newer)).to_have_count(0)
    assert await page.evaluate("window.scrollY") == reading_at

    await pill.click()
    await expect(pill).to_be_hidden()
    await expect(page.locator("#feed li").first).to_have_attribute(
        "data-response-id", str(newer["response_id"])
    )
    await expect(entry(page, newer)).to_be_in_viewport()


async def test_feed_filters_show_only_matching_comments_including_older_ones(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    # The unhappy customer is older than the 50 comments the page loads at first.
    unhappy = response(score=2, channel="phone", comment="Third time I call about this.")
    happy = [response(score=10, comment=f"Happy customer {i}.") for i in range(55)]
    await post(unhappy, *happy)
    await asyncio.to_thread(wait_until, lambda: len(app.rows()) == 56)
    page = await cockpit_pages.open_as("admin")
    await expect(page.locator("#feed li")).to_have_count(50, timeout=SHOWN_WITHIN_MS)
    await expect(entry(page, unhappy)).to_have_count(0)

    await page.locator("#filters-box summary").click()
    await page.get_by_label("Call back only").check()
    await expect(entry(page, unhappy)).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#feed li")).to_have_count(1)
    await expect(page.locator("#filters-active")).to_have_text("call back only")

    await page.get_by_label("Call back only").uncheck()
    await page.get_by_label("Score").select_option("good")
    await expect(page.locator("#feed li")).to_have_count(50)
    await page.get_by_label("Channel").select_option("phone")
    await expect(page.locator("#feed li")).to_have_count(0)
    await expect(page.locator("#feed-empty")).to_have_text("No comments match these filters yet.")

    # A live comment that does not match stays out; one that matches comes in.
    await page.get_by_label("Score").select_option("")
    live = response(score=6, channel="phone", comment="Phoned twice, no answer.")
    await post(live, response(score=6, channel="web", comment="Web, filtered out."))
    await expect(entry(page, live)).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(page.locator("#feed li")).to_have_count(2)  # the live one and the unhappy one
