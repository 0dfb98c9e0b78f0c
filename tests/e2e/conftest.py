"""The cockpit page in Debian's Chromium (never a downloaded browser) against a real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.harness import CHROMIUM_ARGS, PASSWORD, USERS, App, require

# The people the page is for hold a phone.
PHONE: ViewportSize = {"width": 390, "height": 844}
# A guard while the page connects and loads, not a timing assertion.
LIVE_WITHIN_MS = 20_000

Post = Callable[..., Awaitable[None]]


@dataclass
class Console:
    """What the pages of one browser context logged as errors, and what they threw."""

    errors: list[str] = field(default_factory=list)
    thrown: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.thrown.append(str(error)))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location.get('url', '?')}")


@dataclass
class CockpitPages:
    """Cockpit pages on a phone-sized screen, sharing one cookie jar; signs in through the form."""

    app: App
    context: BrowserContext
    console: Console

    async def open(self, query: str = "") -> Page:
        """A page at `app.url/?query`: the sign-in form, or the cockpit once signed in."""
        page = await self.context.new_page()
        self.console.watch(page)
        await page.goto(f"{self.app.url}/{query}")
        return page

    async def open_as(self, role: str = "admin", query: str = "") -> Page:
        """A page signed in as the test user of `role`, once it is live."""
        page = await self.open(query)
        await sign_in(page, await asyncio.to_thread(account, self.app, role))
        await expect_live(page)
        await expect(page.locator("#signin")).to_be_hidden()
        return page


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
def console() -> Console:
    return Console()


@pytest.fixture
async def cockpit_pages(
    browser: Browser, app: App, console: Console
) -> AsyncIterator[CockpitPages]:
    """One browser context; fails the test if a page threw an uncaught error."""
    context = await browser.new_context(viewport=PHONE)
    try:
        yield CockpitPages(app, context, console)
    finally:
        await context.close()
    assert not console.thrown, f"the page threw: {console.thrown}"


def account(app: App, role: str) -> str:
    """The username of the test user of `role` (tests.harness.USERS), created if need be."""
    username, units = USERS[role]
    app.add_user(username, role, units)
    return username


async def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Types the credentials into the form and presses Enter."""
    await expect(page.locator("#signin-form")).to_be_visible()
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Password").press("Enter")


async def open_screen(page: Page, name: str) -> None:
    """Taps the tab of screen `name` (feed, barometer, journey, alerts), as on a phone."""
    await page.locator(f"#tab-{name}").click()
    await expect(page.locator(f"#screen-{name}")).to_be_visible()


async def expect_live(page: Page) -> None:
    await expect(page.locator("#conn-state")).to_have_attribute(
        "data-state", "live", timeout=LIVE_WITHIN_MS
    )


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
