"""What a manager sees and does in the alerts inbox: a detractor's alert arrives live, is
acknowledged, resolved and assigned from a phone; a burst is narrowed with filters and cleared in
bulk; cases and incidents group what would bury the rest; a new alert waits behind a button rather
than move the list; the loop figures show their counts; links open an alert or a response; the
browser notifies new alerts only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from tests.e2e.test_reasons import fits_a_phone
from tests.harness import App, all_alerts, response, wait_until

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


def complaints(n: int, unit: str, comment: str, tag: str) -> list[dict[str, Any]]:
    """`n` detractors of `unit`, each a customer of their own (no case joins them)."""
    return [
        response(
            org_unit=unit, score=1, comment=f"{comment} #{tag}{i}", customer_ref=f"{tag}-{unit}-{i}"
        )
        for i in range(n)
    ]


async def open_filters(page: Page) -> None:
    """Unfolds the inbox's filters (a phone keeps them folded)."""
    box = page.locator("details.alerts-more")
    if await box.get_attribute("open") is None:
        await box.locator("summary").click()
    await expect(page.get_by_label("Unit", exact=True)).to_be_visible()


def bulk(page: Page) -> Locator:
    return page.get_by_role("group", name="Act on several alerts")


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


def acknowledge(app: App, alert_id: int) -> None:
    with app.client() as client:
        answer = client.post(f"/api/v1/alerts/{alert_id}/transition", json={"to": "acknowledged"})
    assert answer.status_code == 200, answer.text


def every_alert(app: App, **params: Any) -> list[dict[str, Any]]:
    with app.client() as client:
        return all_alerts(client, **params)


def alerts_of(app: App, body: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in every_alert(app) if a["response_id"] == body["response_id"]]


async def raised(app: App, post: Post, *bodies: dict[str, Any]) -> list[int]:
    """Posts the responses and waits for their alerts: their ids, in the order given."""
    await post(*bodies)
    ids = {b["response_id"] for b in bodies}

    def all_raised() -> bool:
        return len({a["response_id"] for a in every_alert(app)} & ids) == len(ids)

    await asyncio.to_thread(wait_until, all_raised, 60, "the alerts")
    by_response = {a["response_id"]: a["id"] for a in await asyncio.to_thread(every_alert, app)}
    return [int(by_response[b["response_id"]]) for b in bodies]


async def raised_before_the_page_opens(app: App, post: Post, body: dict[str, Any]) -> int:
    (alert_id,) = await raised(app, post, body)
    return alert_id


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

    await open_filters(page)
    await page.get_by_label("State", exact=True).select_option("resolved")
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
    # Equally severe alerts are listed nearest deadline first: the newest is the lowest card, off
    # the screen.
    alerts = [alerts_of(app, c)[0] for c in complaints]
    alert_id = max(alerts, key=lambda a: (a["created_at"], a["id"]))["id"]

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


async def test_a_link_to_an_alert_the_inbox_does_not_list_shows_it_above_the_inbox(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT)
    alert_id = await raised_before_the_page_opens(app, post, complaint)
    await asyncio.to_thread(resolve, app, alert_id)

    page = await cockpit_pages.open_as("manager", f"?alert={alert_id}")

    pinned = page.get_by_role("region", name="The alert your link opened")
    linked = pinned.locator(f'li.alert-card[data-alert-id="{alert_id}"]')
    await expect(linked).to_have_attribute("data-state", "resolved", timeout=LIVE_WITHIN_MS)
    await expect(linked).to_be_focused()
    await expect(linked.get_by_role("button", name="Reopen")).to_be_visible()
    # The inbox itself keeps its filters: what is left to do.
    await expect(page.locator("#alerts-root")).to_contain_text("No open alerts in your units")

    await pinned.get_by_role("button", name="Dismiss").click()
    await expect(pinned).to_be_hidden()


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
    earlier = response(
        org_unit="store-12", score=0, comment="Never again, nobody came.", customer_ref="c-1"
    )
    earlier_id = await raised_before_the_page_opens(app, post, earlier)
    page = await notifying_pages.open_as("manager")
    if notified_via == "worker":
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await show_alerts(page)
    await expect(page.locator(f'li.alert-card[data-alert-id="{earlier_id}"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Turn on alert notifications")).to_have_count(0)

    complaint = response(org_unit="store-12", score=1, comment=COMPLAINT, customer_ref="c-2")
    await post(complaint)
    await page.get_by_role("button", name="1 new alert · show").click(timeout=SHOWN_WITHIN_MS)
    shown = card(page, complaint)
    await expect(shown).to_have_attribute("data-state", "open")
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


async def test_a_new_alert_waits_behind_a_button_while_the_inbox_is_on_screen(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    first, second = complaints(2, "store-12", COMPLAINT, "wait")
    earlier_id = await raised_before_the_page_opens(app, post, first)
    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    cards = page.locator("#alerts-root li.alert-card")
    await expect(cards).to_have_count(1)

    await post(second)

    # The list does not move under the manager's finger: the new alert waits for a tap.
    show = page.get_by_role("button", name="1 new alert · show")
    await expect(show).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_have_attribute("data-alert-id", str(earlier_id))
    await show.click()
    await expect(cards).to_have_count(2)
    await expect(card(page, second)).to_have_attribute("data-state", "open")
    await expect(show).to_be_hidden()
    await expect(page.locator("#alerts-summary")).to_be_focused()


async def test_a_manager_clears_a_60_alert_burst_with_filters_and_bulk_actions(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    refunds = complaints(20, "store-3", "Terrible service, I want a refund.", "refund")
    waiting = complaints(20, "store-3", "Terrible service, nobody came.", "wait")
    elsewhere = complaints(20, "store-12", "Terrible service, nobody came.", "other")
    ids = await raised(app, post, *refunds, *waiting, *elsewhere)
    # Two of them were acknowledged already: the bulk action skips them and says why.
    for alert_id in ids[:2]:
        await asyncio.to_thread(acknowledge, app, alert_id)

    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    summary = page.locator("#alerts-summary")
    await expect(summary).to_contain_text("60 alerts to do")
    # Each store's burst is one line, with its count, rather than 40 and 20 cards.
    incidents = page.locator('li[data-kind="incident"]')
    await expect(incidents).to_have_count(2)
    store3 = incidents.filter(has_text="Store 3: 40 alerts in the last hour")
    await expect(incidents.filter(has_text="Store 12: 20 alerts in the last hour")).to_have_count(1)

    await store3.get_by_role("button", name="Show the 40 alerts").click()
    cards = page.locator("#alerts-root .alerts-list:not(.alerts-pinned *) > li.alert-card")
    await expect(page.locator(".alerts-incident")).to_contain_text("Store 3")
    await expect(summary).to_have_text("40 alerts to do")
    await expect(cards).to_have_count(25)
    pager = page.get_by_role("navigation", name="Pages of alerts")
    await expect(pager).to_contain_text("Page 1 of 2")
    await pager.get_by_role("button", name="Next").click()
    await expect(pager).to_contain_text("Page 2 of 2")
    await expect(cards).to_have_count(15)

    await page.locator("#screen-alerts").get_by_label("Search comments").fill("refund")
    await expect(summary).to_have_text("20 alerts to do")
    await expect(pager).to_be_hidden()
    await expect(cards).to_have_count(20)
    await open_filters(page)
    await expect(page.get_by_label("Unit", exact=True)).to_have_value("store-3")
    await expect(page.get_by_label("State", exact=True).locator("option:checked")).to_have_text(
        "To do · 20"
    )
    await fits_a_phone(page)

    await bulk(page).get_by_role("button", name="Select all 20 matching").click()
    await expect(bulk(page)).to_contain_text("All 20 matching alerts selected")
    await expect(cards.first.get_by_label("Select")).to_be_checked()
    await bulk(page).get_by_role("button", name="Acknowledge").click()

    await expect(bulk(page).get_by_role("status")).to_have_text(
        "18 acknowledged, 2 skipped: already acknowledged"
    )
    await expect(cards.first).to_have_attribute("data-state", "acknowledged")
    await page.get_by_label("State", exact=True).select_option("open")
    await expect(page.locator("#alerts-root")).to_contain_text("No alerts match these filters.")
    await expect(summary).to_have_text("0 alerts open")

    stored = await asyncio.to_thread(every_alert, app)
    still_open = {a["id"] for a in stored if a["state"] == "open"}
    assert still_open == set(ids[20:])

    await page.get_by_role("button", name="Back to the inbox").click()
    await expect(incidents).to_have_count(2)
    await expect(summary).to_contain_text("60 alerts to do")


async def test_a_manager_assigns_a_selection_to_someone_who_may_take_the_first_alert(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    await asyncio.to_thread(app.add_user, "s12.manager", "manager", ("store-12",))
    store12 = complaints(3, "store-12", COMPLAINT, "s12")
    store3 = complaints(1, "store-3", COMPLAINT, "s3")
    ids = await raised(app, post, *store12, *store3)

    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    await card(page, store12[0]).get_by_label("Select").check()
    await card(page, store12[1]).get_by_label("Select").check()
    await expect(bulk(page)).to_contain_text("2 alerts selected")
    await bulk(page).get_by_role("button", name="Assign…").click()
    await fits_a_phone(page)
    await bulk(page).get_by_label("Assign to").select_option("s12.manager")
    await bulk(page).get_by_role("button", name="Assign", exact=True).click()

    await expect(bulk(page).get_by_role("status")).to_have_text("2 assigned to s12.manager")
    await expect(card(page, store12[0])).to_contain_text("Assigned to s12.manager")
    assignees = {a["id"]: a["assignee"] for a in await asyncio.to_thread(every_alert, app)}
    assert [assignees[i] for i in ids] == ["s12.manager", "s12.manager", None, None]

    await card(page, store3[0]).get_by_label("Select").check()
    await bulk(page).get_by_role("button", name="Assign…").click()
    await bulk(page).get_by_label("Assign to").select_option(label="Me")
    await bulk(page).get_by_role("button", name="Assign", exact=True).click()
    await expect(bulk(page).get_by_role("status")).to_have_text("1 assigned to you")
    assert (await asyncio.to_thread(stored_alert, app, ids[3]))["assignee"] == "north.manager"


async def test_a_customers_case_and_a_units_incident_show_as_one_line_each_and_open(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    burst = complaints(12, "store-5", "Terrible service, nobody came.", "burst")
    case = [
        response(
            org_unit="store-12", score=1, comment=f"{COMPLAINT} Call {n}.", customer_ref="cu-7"
        )
        for n in range(1, 4)
    ]
    await raised(app, post, *burst)
    # One after the other, as the same customer answers three surveys.
    for body in case:
        await raised(app, post, body)

    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    await expect(page.locator("#alerts-summary")).to_have_text(
        "15 alerts to do · 2 lines, cases and incidents grouped"
    )
    grouped = page.locator('li.alert-card[data-kind="case"]')
    await expect(grouped).to_have_count(1)
    await expect(grouped).to_contain_text("3 alerts from this customer")
    await grouped.get_by_role("button", name="Details").click()
    others = grouped.get_by_role("list", name="This customer's other alerts (2)")
    # The card is the case's most pressing alert (the first, nearest its deadline); the others
    # are listed with what the customer said each time.
    await expect(grouped.locator(".alert-comment")).to_have_text(f"{COMPLAINT} Call 1.")
    await expect(others.get_by_role("listitem")).to_have_count(2)
    await expect(others.get_by_role("listitem").last).to_contain_text("Call 3.")

    incident = page.locator('li[data-kind="incident"]')
    await expect(incident).to_contain_text("Store 5: 12 alerts in the last hour")
    await incident.get_by_role("button", name="Show the 12 alerts").click()
    cards = page.locator('#alerts-root li.alert-card[data-kind="alert"]')
    await expect(cards).to_have_count(12)
    await expect(cards.filter(has_text="Store 5")).to_have_count(12)
    await expect(page.locator("#alerts-summary")).to_have_text("12 alerts to do")
    await page.get_by_role("button", name="Back to the inbox").click()
    await expect(incident).to_have_count(1)


async def test_the_loop_figures_give_each_share_with_its_counts_and_none_before_any_is_due(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    await raised(app, post, *complaints(2, "store-12", COMPLAINT, "fresh"))
    page = await cockpit_pages.open_as("manager")
    await show_alerts(page)
    loop = page.get_by_role("region", name="Closing the loop")
    await expect(loop).to_contain_text("Detractors reached within 48 h: none due yet")
    await expect(loop).to_contain_text("2 detractors still inside their 48 h, not reached yet")
    await expect(loop).not_to_contain_text("%")

    # A detractor of three days ago, never called: due, and missed.
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    old = response(org_unit="store-12", score=2, comment=COMPLAINT, submitted_at=three_days_ago)
    await post(old)
    await asyncio.to_thread(wait_until, lambda: app.rows(f"response_id = '{old['response_id']}'"))

    await page.reload()
    await show_alerts(page)
    await expect(loop).to_contain_text("0 of 1 detractor reached within 48 h · 0 %")
    await expect(loop).to_contain_text("1 detractor not reached within their 48 h")
    await expect(loop).to_contain_text("2 detractors still inside their 48 h, not reached yet")
    await expect(loop.locator(".loop-tile")).to_have_count(4)
    await expect(loop.locator(".loop-tile").last).to_contain_text("Overdue now")


async def test_a_link_to_a_response_opens_it_after_signing_in(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    praise = response(org_unit="store-12", score=10, comment="Julie sorted it out in minutes.")
    south = response(org_unit="store-40", score=10, comment="Lovely shop.")
    await post(praise, south)
    await asyncio.to_thread(
        wait_until, lambda: len(app.rows("org_unit IN ('store-12', 'store-40')")) == 2
    )

    # The link of the daily digest, opened by a manager who is not signed in.
    page = await cockpit_pages.open(f"?response={praise['response_id']}")
    await sign_in(page, await asyncio.to_thread(account, app, "manager"))

    dialog = page.get_by_role("dialog", name="The comment your link opened")
    await expect(dialog).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(dialog).to_contain_text("Julie sorted it out in minutes.")
    await expect(dialog).to_contain_text("Store 12")
    await expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()

    # A response of another region is not theirs to read.
    other = await cockpit_pages.open(f"?response={south['response_id']}")
    await expect(other.locator("#notice-text")).to_contain_text(
        "The comment your link points to cannot be shown", timeout=LIVE_WITHIN_MS
    )
    await expect(other.get_by_role("dialog")).to_have_count(0)
