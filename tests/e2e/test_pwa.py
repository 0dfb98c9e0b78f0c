"""The cockpit as an installable app: its manifest and icons, opening offline, and no data cached.

These tests do not watch for console errors: while the server is down, Chromium logs every failed
request as one, which is what offline means.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page, Response, expect

from tests.e2e.conftest import CockpitPages, Post, account, expect_live, sign_in
from tests.harness import App, response

pytestmark = pytest.mark.e2e

OFFLINE = "You are offline: the cockpit will load when the connection is back."
# The page asks the server again every 5 s; the app takes a few seconds to come back.
BACK_WITHIN_MS = 30_000
SHOWN_WITHIN_MS = 20_000

FETCH_MANIFEST = """async () => {
  const answer = await fetch(document.querySelector('link[rel="manifest"]').href);
  return { type: answer.headers.get('content-type'), manifest: await answer.json() };
}"""
FETCH_ICON = """async (src) => {
  const answer = await fetch(src);
  return { status: answer.status, type: answer.headers.get('content-type') };
}"""
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    urls.push(...(await cache.keys()).map((request) => request.url));
  }
  return urls;
}"""


async def controlled(page: Page) -> None:
    """Waits until the service worker has cached the shell and controls `page`."""
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")


async def test_the_manifest_is_linked_and_names_the_app_and_its_icons(
    cockpit_pages: CockpitPages,
) -> None:
    page = await cockpit_pages.open()

    answer: dict[str, Any] = await page.evaluate(FETCH_MANIFEST)

    assert answer["type"].startswith("application/manifest+json")
    manifest = answer["manifest"]
    assert manifest["name"] == "Customer cockpit"
    assert manifest["short_name"] == "Cockpit"
    assert (manifest["start_url"], manifest["scope"], manifest["id"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone"
    assert (manifest["theme_color"], manifest["background_color"]) == ("#0f1b33", "#eef1f6")
    icons = {(icon["sizes"], icon["purpose"]): icon for icon in manifest["icons"]}
    assert {("any", "any"), ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(
        icons
    )
    for icon in manifest["icons"]:
        loaded = await page.evaluate(FETCH_ICON, icon["src"])
        assert loaded["status"] == 200, icon["src"]
        assert loaded["type"].startswith(icon["type"]), (icon["src"], loaded["type"])


async def test_the_cockpit_opens_offline_says_so_and_comes_back_by_itself(
    app: App, cockpit_pages: CockpitPages
) -> None:
    page = await cockpit_pages.open_as("frontline")
    await controlled(page)

    await asyncio.to_thread(app.stop)
    await page.reload()

    # The shell came from the cache and its scripts ran: they show the form, hidden in the HTML.
    await expect(page.locator("body")).to_have_attribute("data-offline", "true")
    await expect(page.locator("#signin-note")).to_have_text(OFFLINE)
    await expect(page.get_by_role("heading", name="Customer cockpit")).to_be_visible()
    await expect(page.locator("#signin-form")).to_be_visible()
    # Another scope of the same page opens from the same cached shell.
    await page.goto(f"{app.url}/?org_unit=store-12")
    await expect(page.locator("#signin-note")).to_have_text(OFFLINE)

    await asyncio.to_thread(app.start)

    # Still signed in (the session outlives the restart): straight into the cockpit.
    await expect(page.locator("body")).not_to_have_attribute(
        "data-offline", "true", timeout=BACK_WITHIN_MS
    )
    await expect_live(page)
    await expect(page.locator("#signin")).to_be_hidden()


async def test_a_sign_in_without_a_server_says_offline_and_the_form_works_once_it_is_back(
    app: App, cockpit_pages: CockpitPages
) -> None:
    page = await cockpit_pages.open()
    await controlled(page)
    username = await asyncio.to_thread(account, app, "frontline")
    await asyncio.to_thread(app.stop)

    await sign_in(page, username)

    await expect(page.locator("#signin-error")).to_have_text(
        "You are offline: sign in again once the connection is back."
    )
    await expect(page.locator("body")).to_have_attribute("data-offline", "true")

    await asyncio.to_thread(app.start)
    await expect(page.locator("body")).not_to_have_attribute(
        "data-offline", "true", timeout=BACK_WITHIN_MS
    )
    await expect(page.locator("#signin-error")).to_be_empty()
    await sign_in(page, username)
    await expect_live(page)


async def test_api_answers_are_never_cached_nor_answered_by_the_service_worker(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open()
    await controlled(page)
    api: list[Response] = []
    page.on("response", lambda answer: api.append(answer) if "/api/" in answer.url else None)
    await sign_in(page, await asyncio.to_thread(account, app, "frontline"))
    await expect_live(page)
    body = response(org_unit="store-12", comment="Stays on the server, never on the phone.")
    await post(body)
    await expect(page.get_by_text(body["comment"])).to_be_visible(timeout=SHOWN_WITHIN_MS)

    cached: list[str] = await page.evaluate(CACHED_URLS)

    assert f"{app.url}/" in cached and f"{app.url}/static/session.js" in cached
    assert [url for url in cached if "/api/" in url or url.endswith("/ws")] == []
    assert api, "the cockpit loaded nothing from the API"
    assert [answer.url for answer in api if answer.from_service_worker] == []
