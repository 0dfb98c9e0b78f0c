"""Frontline staff take callbacks on a phone, where the organisation lets them: the unit's open
callbacks, "I'll call", the customer's contact only once taken, how the call went; a colleague who
tries the same callback is told who took it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect

from tests.e2e.conftest import (
    PHONE,
    CockpitPages,
    Console,
    Post,
    expect_live,
    open_screen,
    sign_in,
)
from tests.e2e.test_accessibility import violations
from tests.e2e.test_reasons import fits_a_phone
from tests.harness import PASSWORD, App, all_alerts, make_app, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while the response goes through broker, worker, alert rules and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
COMPLAINT = "Terrible service, nobody called me back. I want a refund."
CONTACT = {"name": "Claire Dubois", "phone": "+33 6 12 34 56 78", "email": "claire@example.com"}
# Two frontline colleagues of Store 12, by name.
ANN = ("ann.martin", "Ann Martin")
BEN = ("ben.okafor", "Ben Okafor")


@pytest.fixture
def app(broker: str, tmp_path: Path) -> Iterator[App]:
    """The app with frontline callbacks on (VOC_FRONTLINE_CALLBACKS), as `make run`'s demo."""
    instance = make_app(broker, tmp_path, frontline_callbacks="true")
    instance.start()
    yield instance
    instance.stop()


Phones = Callable[[], Awaitable[CockpitPages]]


@pytest.fixture
async def more_phones(browser: Browser, app: App, console: Console) -> AsyncIterator[Phones]:
    """More phones (browser contexts, each its own cookie jar) beside `cockpit_pages`'s."""
    contexts: list[BrowserContext] = []

    async def phone() -> CockpitPages:
        context = await browser.new_context(viewport=PHONE)
        contexts.append(context)
        return CockpitPages(app, context, console)

    yield phone
    for context in contexts:
        await context.close()


def add_colleague(app: App, username: str, display_name: str) -> None:
    """A frontline user of Store 12 with a display name, as an admin creates one."""
    body = {
        "username": username,
        "password": PASSWORD,
        "role": "frontline",
        "org_units": ["store-12"],
        "display_name": display_name,
    }
    with app.client() as client:
        answer = client.post("/api/v1/admin/users", json=body)
    assert answer.status_code == 201, answer.text


async def raised(app: App, post: Post, body: dict[str, Any]) -> int:
    """Posts the response and waits for its alert: the alert's id."""
    await post(body)

    def alert() -> list[dict[str, Any]]:
        with app.client() as client:
            return [a for a in all_alerts(client) if a["response_id"] == body["response_id"]]

    await asyncio.to_thread(wait_until, alert, 30, "the alert")
    return int(alert()[0]["id"])


def stored_alert(app: App, alert_id: int) -> dict[str, Any]:
    with app.client() as client:
        answer = client.get(f"/api/v1/alerts/{alert_id}")
    assert answer.status_code == 200, answer.text
    alert: dict[str, Any] = answer.json()["alert"]
    return alert


async def signed_in(pages: CockpitPages, username: str) -> Page:
    page = await pages.open()
    await sign_in(page, username)
    await expect_live(page)
    return page


def callback(page: Page, alert_id: int) -> Locator:
    return page.locator(f'#alerts-root li.alert-card[data-alert-id="{alert_id}"]')


async def test_a_frontline_user_takes_a_callback_sees_the_contact_then_records_the_call(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    await asyncio.to_thread(add_colleague, app, *ANN)
    alert_id = await raised(
        app, post, response(org_unit="store-12", score=1, comment=COMPLAINT, contact=CONTACT)
    )

    page = await signed_in(cockpit_pages, ANN[0])
    await expect(page.locator("#tab-alerts-name")).to_have_text("Callbacks")
    await expect(page.locator("#tab-alerts")).to_have_attribute(
        "aria-label", "Callbacks, 1 to call"
    )
    await open_screen(page, "alerts")
    shown = callback(page, alert_id)
    await expect(shown).to_contain_text(COMPLAINT)
    await expect(shown).to_contain_text("The contact shows once you take the callback.")
    # Nothing of the customer's contact before taking it, not even masked, anywhere on the page.
    for given in ("Dubois", "12 34 56 78", "claire@"):
        await expect(page.locator("#cockpit")).not_to_contain_text(given)
    await expect(shown.locator("a[href^='tel:']")).to_have_count(0)

    await shown.get_by_role("button", name="I'll call").click()

    await expect(shown).to_contain_text("You are calling this customer")
    await expect(shown.get_by_role("link", name=CONTACT["phone"])).to_have_attribute(
        "href", "tel:+33612345678"
    )
    await expect(shown.get_by_role("link", name=CONTACT["email"])).to_have_attribute(
        "href", "mailto:claire@example.com"
    )
    await expect(shown).to_contain_text("Claire Dubois")
    await expect(shown.get_by_role("button", name="I'll call")).to_have_count(0)
    taken = await asyncio.to_thread(stored_alert, app, alert_id)
    assert (taken["assignee"], taken["state"]) == (ANN[0], "in_progress")
    await fits_a_phone(page)

    form = shown.get_by_role("form", name="How the call went")
    await form.get_by_label("No answer").check()
    await form.get_by_role("button", name="Save the call").click()
    await expect(shown).to_contain_text("Last call: No answer")
    assert (await asyncio.to_thread(stored_alert, app, alert_id))["contact_outcome"] == "no_answer"

    await form.get_by_label("Resolved on the call").check()
    await form.get_by_role("button", name="Save the call").click()
    await expect(form).to_contain_text("Choose a root cause.")
    await form.get_by_label("Root cause").select_option("delivery")
    await form.get_by_label("Short note").fill("Refunded the delivery fee; she is happy.")
    await form.get_by_role("button", name="Save the call").click()

    await expect(shown).to_have_attribute("data-state", "resolved")
    await expect(shown).to_contain_text("Refunded the delivery fee; she is happy.")
    await expect(shown.get_by_role("form")).to_have_count(0)
    resolved = await asyncio.to_thread(stored_alert, app, alert_id)
    assert (resolved["state"], resolved["contact_outcome"], resolved["root_cause"]) == (
        "resolved",
        "resolved",
        "delivery",
    )
    assert resolved["first_contact_at"] is not None


def without_alert_events(ws: WebSocketRoute) -> None:
    """Passes the socket through but drops `alert` events: a page that has not heard yet."""
    server = ws.connect_to_server()
    ws.on_message(server.send)

    def to_page(message: str | bytes) -> None:
        frame = json.loads(message)
        if frame.get("type") == "batch":
            frame["events"] = [e for e in frame["events"] if e.get("type") != "alert"]
        elif frame.get("type") == "alert":
            return
        ws.send(json.dumps(frame))

    server.on_message(to_page)


async def test_a_colleague_is_told_by_name_who_took_the_callback(
    app: App, cockpit_pages: CockpitPages, more_phones: Phones, post: Post
) -> None:
    for user in (ANN, BEN):
        await asyncio.to_thread(add_colleague, app, *user)
    alert_id = await raised(
        app, post, response(org_unit="store-12", score=1, comment=COMPLAINT, contact=CONTACT)
    )
    # Ben on two phones: one hears live that Ann took it; the other has not heard yet.
    live = await signed_in(cockpit_pages, BEN[0])
    await open_screen(live, "alerts")
    late_pages = await more_phones()
    await late_pages.context.route_web_socket(re.compile(r"/ws$"), without_alert_events)
    late = await signed_in(late_pages, BEN[0])
    await open_screen(late, "alerts")
    for page in (live, late):
        await expect(
            callback(page, alert_id).get_by_role("button", name="I'll call")
        ).to_be_visible()

    ann = await signed_in(await more_phones(), ANN[0])
    await open_screen(ann, "alerts")
    await callback(ann, alert_id).get_by_role("button", name="I'll call").click()
    await expect(callback(ann, alert_id)).to_contain_text("You are calling this customer")

    # Live: the card says someone is calling, and offers nothing to take.
    await expect(callback(live, alert_id)).to_contain_text(
        re.compile(r"(Ann Martin|ann\.martin) is calling"), timeout=SHOWN_WITHIN_MS
    )
    await expect(callback(live, alert_id).get_by_role("button", name="I'll call")).to_have_count(0)
    await expect(live.locator("#alerts-root")).not_to_contain_text("Dubois")

    # Too late: the server turns the tap down and names the winner.
    await callback(late, alert_id).get_by_role("button", name="I'll call").click()
    await expect(callback(late, alert_id).get_by_role("alert")).to_have_text(
        "Ann Martin took this callback."
    )
    await expect(callback(late, alert_id)).to_contain_text("Ann Martin is calling")
    await expect(callback(late, alert_id).get_by_role("button", name="I'll call")).to_have_count(0)
    await expect(late.locator("#alerts-root")).not_to_contain_text("Dubois")
    assert (await asyncio.to_thread(stored_alert, app, alert_id))["assignee"] == ANN[0]


async def test_the_callbacks_screen_passes_wcag_aa_and_fits_a_phone(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    await asyncio.to_thread(add_colleague, app, *ANN)
    long_word = "Unacceptable" * 12  # one 144-letter word must wrap, not widen the page
    taken = await raised(
        app,
        post,
        response(org_unit="store-12", score=1, comment=f"{long_word} {COMPLAINT}", contact=CONTACT),
    )
    await raised(
        app, post, response(org_unit="store-12", score=2, comment=COMPLAINT, customer_ref="c-9")
    )
    page = await signed_in(cockpit_pages, ANN[0])
    await open_screen(page, "alerts")
    await callback(page, taken).get_by_role("button", name="I'll call").click()
    form = callback(page, taken).get_by_role("form", name="How the call went")
    await form.get_by_label("Resolved on the call").check()
    await expect(form.get_by_label("Root cause")).to_be_visible()

    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        assert await violations(page) == [], scheme
    await fits_a_phone(page)
