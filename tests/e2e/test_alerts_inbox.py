"""What a manager sees and does in the alerts inbox: a detractor's alert arrives live, is
acknowledged, resolved and assigned from a phone; the browser notifies new alerts only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.conftest import (
    LIVE_WITHIN_MS,
    PHONE,
    CockpitPages,
    Console,
    Post,
    account,
    sign_in,
)
from tests.harness import App, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while the response goes through broker, worker, alert rules and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
COMPLAINT = "Terrible service, nobody called me back. I want a refund."

# A real notification may show nothing in headless Chromium: record what the page asks for, by
# either path (alert-notify.js): the service worker's registration when it controls the page, as
# Android Chrome requires, else the page's own Notification.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notified = [];
  const record = (via, title, { body = null, tag = null, data = {} } = {}) =>
    window.__notified.push({ via, title, body, tag, url: data?.url ?? null });
  class Recorded {
    constructor(title, options = {}) {
      record('page', title, options);
      this.title = title;
    }
    close() {}
    static get permission() { return Real ? Real.permission : 'granted'; }
    static requestPermission() { return Real.requestPermission(); }
  }
  window.Notification = Recorded;
  if (window.ServiceWorkerRegistration) {
    ServiceWorkerRegistration.prototype.showNotification = function (title, options = {}) {
      record('worker', title, options);
      return Promise.resolve();
    };
  }
})();
"""


@pytest.fixture(params=["worker", "page"])
def notified_via(request: pytest.FixtureRequest) -> str:
    """Who shows the notifications: the service worker, or the page when there is none."""
    return str(request.param)


@pytest.fixture
async def notifying_pages(
    browser: Browser, app: App, console: Console, notified_via: str
) -> AsyncIterator[CockpitPages]:
    """Phone pages in a context that was granted notifications, recording each one shown."""
    context = await browser.new_context(
        viewport=PHONE,
        permissions=["notifications"],
        service_workers="allow" if notified_via == "worker" else "block",
    )
    await context.add_init_script(RECORD_NOTIFICATIONS)
    try:
        yield CockpitPages(app, context, console)
    finally:
        await context.close()
    assert not console.thrown, f"the page threw: {console.thrown}"


async def show_alerts(page: Page) -> None:
    """Taps the Alerts tab, as a manager on a phone does."""
    await page.locator("#tab-alerts").click()
    await expect(page.locator("#screen-alerts")).to_be_visible()


def card(page: Page, body: dict[str, Any]) -> Locator:
    """The inbox card of the alert raised by `body`'s response."""
    return page.locator("li.alert-card").filter(has_text=str(body["comment"]))


def stored_alert(app: App, alert_id: int) -> dict[str, Any]:
    with app.client() as client:
        answer = client.get(f"/api/v1/alerts/{alert_id}")
    assert answer.status_code == 200, answer.text
    alert: dict[str, Any] = answer.json()["alert"]
    return alert


def resolve(app: App, alert_id: int) -> None:
    with app.client() as client:
        answer = client.post(
            f"/api/v1/alerts/{alert_id}/transition",
            json={"to": "resolved", "root_cause": "staff-behaviour", "note": "Called back."},
        )
    assert answer.status_code == 200, answer.text


def alerts_of(app: App, body: dict[str, Any]) -> list[dict[str, Any]]:
    with app.client() as client:
        answer = client.get("/api/v1/alerts", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return [a for a in answer.json()["items"] if a["response_id"] == body["response_id"]]


async def raised_before_the_page_opens(app: App, post: Post, body: dict[str, Any]) -> int:
    await post(body)
    await asyncio.to_thread(wait_until, lambda: alerts_of(app, body), 30, "the alert")
    return int(alerts_of(app, body)[0]["id"])


async def test_manager_acknowledges_then_resolves_a_detractors_alert_that_arrived_live(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    await expect(page.locator("#alerts-root")).to_contain_text("No open alerts in your units")
    await expect(page.locator("#alerts-badge")).to_be_hidden()

    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT)
    await post(complaint)

    shown = card(page, complaint)
    await expect(shown).to_have_attribute("data-state", "open", timeout=SHOWN_WITHIN_MS)
    await expect(shown).to_have_attribute("data-severity", "high")
    await expect(shown).to_contain_text("Store 12")
    await expect(shown).to_contain_text("Acknowledge within")
    await expect(page.locator("#alerts-badge")).to_have_text("1")
    await expect(page.locator("#tab-alerts")).to_have_attribute("aria-label", "Alerts, 1 open")
    alert_id = int(await shown.get_attribute("data-alert-id") or 0)

    await shown.get_by_role("button", name="Acknowledge").click()
    await expect(shown).to_have_attribute("data-state", "acknowledged")
    await expect(shown).to_contain_text("Resolve within")
    await expect(page.locator("#alerts-badge")).to_be_hidden()
    assert (await asyncio.to_thread(stored_alert, app, alert_id))["state"] == "acknowledged"

    await shown.get_by_role("button", name="Resolve").click()
    await shown.get_by_label("Root cause").select_option("staff-behaviour")
    note = "Called her back, apologised; the store manager will brief the team."
    await shown.get_by_label("What was done").fill(note)
    await shown.get_by_role("button", name="Resolve alert").click()

    await expect(page.locator(f'li.alert-card[data-alert-id="{alert_id}"]')).to_have_count(0)
    await expect(page.locator("#alerts-root")).to_contain_text("No open alerts in your units")
    await expect(page.locator("#alerts-badge")).to_be_hidden()
    stored = await asyncio.to_thread(stored_alert, app, alert_id)
    assert (stored["state"], stored["root_cause"], stored["resolution_note"]) == (
        "resolved",
        "staff-behaviour",
        note,
    )

    await page.get_by_role("radio", name="Resolved").check()
    resolved = page.locator(f'li.alert-card[data-alert-id="{alert_id}"]')
    await expect(resolved).to_have_attribute("data-state", "resolved")
    await expect(resolved).to_contain_text("Root cause: Staff behaviour")
    await expect(resolved).to_contain_text(note)


async def test_a_link_to_an_alert_opens_that_alert_after_signing_in(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    complaints = [
        response(org_unit="store-12", score=1, comment=f"{COMPLAINT} #{n}", customer_ref=f"c-{n}")
        for n in range(6)
    ]
    await post(*complaints)
    await asyncio.to_thread(
        wait_until, lambda: all(alerts_of(app, c) for c in complaints), 30, "the alerts"
    )
    # Equally severe alerts are listed oldest first: the newest is the lowest card, off the screen.
    raised = [alerts_of(app, c)[0] for c in complaints]
    alert_id = max(raised, key=lambda a: (a["created_at"], a["id"]))["id"]

    await cockpit_pages.context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));"
    )
    # The link of the alert's e-mail, opened by a manager who is not signed in.
    page = await cockpit_pages.open(f"?alert={alert_id}")
    await sign_in(page, await asyncio.to_thread(account, app, "manager"))

    linked = page.locator(f'li.alert-card[data-alert-id="{alert_id}"]')
    await expect(page.locator("#screen-alerts")).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(linked).to_be_focused()
    await expect(linked).to_be_in_viewport()
    await expect(linked.get_by_role("button", name="Details")).to_have_attribute(
        "aria-expanded", "true"
    )
    await expect(linked.locator(".alert-details")).to_contain_text("History")
    assert await page.evaluate("window.__violations") == []


async def test_a_link_to_a_resolved_alert_shows_it_among_the_resolved(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT)
    alert_id = await raised_before_the_page_opens(app, post, complaint)
    await asyncio.to_thread(resolve, app, alert_id)

    page = await cockpit_pages.open_as("manager", f"?alert={alert_id}")

    linked = page.locator(f'li.alert-card[data-alert-id="{alert_id}"]')
    await expect(linked).to_have_attribute("data-state", "resolved", timeout=LIVE_WITHIN_MS)
    await expect(page.get_by_role("radio", name="Resolved")).to_be_checked()
    await expect(linked).to_be_focused()


async def test_manager_assigns_an_alert_to_another_manager_of_the_store(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    await asyncio.to_thread(app.add_user, "s12.manager", "manager", ("store-12",))
    complaint = response(org_unit="store-12", score=2, comment=COMPLAINT)
    alert_id = await raised_before_the_page_opens(app, post, complaint)

    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    shown = page.locator(f'li.alert-card[data-alert-id="{alert_id}"]')
    await expect(shown).to_contain_text(COMPLAINT)

    await shown.get_by_role("button", name="Assign").click()
    form = shown.locator("form")
    await form.get_by_label("Assign to").select_option("s12.manager")
    await form.get_by_role("button", name="Assign").click()

    await expect(shown).to_contain_text("Assigned to s12.manager")
    await expect(form).to_have_count(0)
    assert (await asyncio.to_thread(stored_alert, app, alert_id))["assignee"] == "s12.manager"


async def test_frontline_user_has_no_alerts_tab_and_never_asks_for_alerts(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("frontline")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT)
    await post(complaint)
    # The comment itself is theirs to read in the feed; the alert about it is not.
    feed_item = page.locator(f'#feed li[data-response-id="{complaint["response_id"]}"]')
    await expect(feed_item).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await asyncio.to_thread(wait_until, lambda: alerts_of(app, complaint), 30, "the alert")

    await expect(page.locator("#tab-alerts")).to_be_hidden()
    await page.evaluate("location.hash = '#alerts'")
    await expect(page.locator("#screen-feed")).to_be_visible()
    await expect(page.locator("#screen-alerts")).to_be_hidden()
    await expect(page.locator("li.alert-card")).to_have_count(0)
    await expect(page.locator("#alerts-root")).to_be_empty()
    assert [url for url in asked if "/api/v1/alerts" in url] == []


async def test_a_new_alert_shows_one_browser_notification_and_those_at_load_none(
    app: App, notifying_pages: CockpitPages, notified_via: str, post: Post
) -> None:
    earlier = response(org_unit="store-12", score=0, comment="Never again, nobody came.")
    earlier_id = await raised_before_the_page_opens(app, post, earlier)
    page = await notifying_pages.open_as("manager")
    if notified_via == "worker":
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await show_alerts(page)
    await expect(page.locator(f'li.alert-card[data-alert-id="{earlier_id}"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Turn on alert notifications")).to_have_count(0)

    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT)
    await post(complaint)
    shown = card(page, complaint)
    await expect(shown).to_have_attribute("data-state", "open", timeout=SHOWN_WITHIN_MS)
    alert_id = await shown.get_attribute("data-alert-id")

    await page.wait_for_function("window.__notified.length > 0", timeout=SHOWN_WITHIN_MS)
    notified = await page.evaluate("window.__notified")
    assert notified == [
        {
            "via": notified_via,
            "title": "High alert · Store 12",
            "body": COMPLAINT,
            "tag": f"alert-{alert_id}",
            "url": "/#alerts" if notified_via == "worker" else None,
        }
    ]


# What the browser does when the user taps the worker's notification (a real one cannot be tapped
# in a test).
CLICK_NOTIFICATION = """async () => {
  const event = new Event('notificationclick');
  const notification = { data: { url: '/#alerts' }, closed: false };
  notification.close = () => { notification.closed = true; };
  let work = Promise.resolve();
  Object.defineProperties(event, {
    notification: { value: notification },
    waitUntil: { value: (promise) => { work = promise; } },
  });
  self.dispatchEvent(event);
  await work;
  return notification.closed;
}"""


async def test_a_tap_on_a_notification_shows_the_inbox_in_the_open_cockpit_window(
    app: App, cockpit_pages: CockpitPages
) -> None:
    page = await cockpit_pages.open_as("manager", "?org_unit=store-12")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await expect(page.locator("#screen-feed")).to_be_visible()
    await page.evaluate("window.__not_reloaded = true")
    (worker,) = cockpit_pages.context.service_workers

    closed = await worker.evaluate(CLICK_NOTIFICATION)

    assert closed is True
    await expect(page.locator("#screen-alerts")).to_be_visible()
    assert page.url == f"{app.url}/?org_unit=store-12#alerts"
    assert await page.evaluate("window.__not_reloaded === true")
