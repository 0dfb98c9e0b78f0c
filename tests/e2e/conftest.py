"""The cockpit page in Debian's Chromium (never a downloaded browser) against a real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from tests.harness import CHROMIUM_ARGS, App, require

# The people the page is for hold a phone.
PHONE: ViewportSize = {"width": 390, "height": 844}
# A guard while the page connects and loads, not a timing assertion.
LIVE_WITHIN_MS = 20_000

OpenCockpit = Callable[..., Awaitable[Page]]
Post = Callable[..., Awaitable[None]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = require("chromium")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def open_cockpit(browser: Browser, app: App) -> AsyncIterator[OpenCockpit]:
    """Opens the cockpit at `app.url/?query` on a phone-sized screen and waits until it is live.

    Fails the test if the page threw an uncaught error.
    """
    errors: list[str] = []
    context = await browser.new_context(viewport=PHONE)
    try:

        async def open_page(query: str = "") -> Page:
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{app.url}/{query}")
            await expect(page.locator("#conn-state")).to_have_attribute(
                "data-state", "live", timeout=LIVE_WITHIN_MS
            )
            return page

        yield open_page
    finally:
        await context.close()
    assert not errors, f"the page threw: {errors}"


@pytest.fixture
def post(app: App) -> Post:
    """Posts survey responses through the REST ingest, as an integrator does."""

    def send(bodies: tuple[dict[str, Any], ...]) -> None:
        with app.client() as client:
            answer = client.post("/api/v1/responses:batch", json={"responses": list(bodies)})
        assert answer.status_code == 202, answer.text

    async def post_responses(*bodies: dict[str, Any]) -> None:
        await asyncio.to_thread(send, bodies)

    return post_responses
