"""The phone's top bar in every connection state: short, with the scope chips at their width."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import LIVE_WITHIN_MS, PHONE, CockpitPages, account, sign_in
from tests.harness import App

pytestmark = pytest.mark.e2e

# A long unit name and a touchpoint: what a store manager watching one team sees.
SCOPE = "?org_unit=store-12-field&touchpoint=delivery"
# Under a fifth of the phone's height: the brand is hidden there, so two rows at most.
HEADER_MAX = PHONE["height"] / 5

# The top bar's box, each scope chip's lines (a chip broken over lines is squeezed) and whether
# its text is cut, the connection state's lines, and how wide the page is against the screen.
MEASURE = """() => {
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((box) => Math.round(box.bottom))).size;
  };
  const conn = document.getElementById('conn-state');
  return {
    header: document.querySelector('.topbar').getBoundingClientRect().height,
    chips: [...document.querySelectorAll('.scope-chip')].map((chip) => ({
      text: chip.textContent, lines: lines(chip), cut: chip.scrollWidth > chip.clientWidth,
    })),
    connLines: lines(document.getElementById('conn-text')),
    connRight: conn.getBoundingClientRect().right,
    pageWidth: document.documentElement.scrollWidth,
    screenWidth: window.innerWidth,
  };
}"""


class FakeHub:
    """Stands in for the hub's websocket, so the page meets each state the hub can put it in.

    Until `real` is set, every socket the page opens is held here and answers only what a test
    sends; afterwards they go through to the app.
    """

    def __init__(self) -> None:
        self.sockets: list[WebSocketRoute] = []
        self.real = False

    async def route(self, socket: WebSocketRoute) -> None:
        if self.real:
            socket.connect_to_server()
        else:
            self.sockets.append(socket)

    def send(self, message: dict[str, Any]) -> None:
        self.sockets[-1].send(json.dumps(message))


async def expect_short_header(page: Page, state: str, text: str) -> None:
    await expect(page.locator(".scope-chip")).to_have_count(2, timeout=LIVE_WITHIN_MS)
    await expect(page.locator("#conn-state")).to_have_attribute(
        "data-state", state, timeout=LIVE_WITHIN_MS
    )
    await expect(page.locator("#conn-text")).to_contain_text(text)
    shown = await page.evaluate(MEASURE)
    where = f"{state} ({text!r}): {shown}"
    assert shown["header"] <= HEADER_MAX, where
    assert shown["chips"], where
    assert all(chip["lines"] == 1 and not chip["cut"] for chip in shown["chips"]), where
    assert shown["connLines"] == 1, where
    assert shown["connRight"] <= shown["screenWidth"], where
    assert shown["pageWidth"] <= shown["screenWidth"], where


async def test_every_connection_state_keeps_the_phone_header_short_and_the_chips_whole(
    app: App, cockpit_pages: CockpitPages
) -> None:
    hub = FakeHub()
    page = await cockpit_pages.open(SCOPE)
    await page.route_web_socket("**/ws", hub.route)
    await sign_in(page, account(app, "manager"))

    await expect_short_header(page, "connecting", "Connecting…")
    hub.send({"type": "gap"})
    await expect_short_header(page, "reloading", "Reloading after gap…")
    await hub.sockets[-1].close(code=1011)
    await expect_short_header(page, "reconnecting", "Reconnecting in ")
    await expect_short_header(page, "reconnecting", "Reconnecting…")

    hub.real = True
    await hub.sockets[-1].close(code=1011)
    await expect_short_header(page, "live", "Live")

    await cockpit_pages.context.set_offline(True)
    await expect_short_header(page, "offline", "Offline: waiting for the network")

    hub.real = False
    await cockpit_pages.context.set_offline(False)
    await expect(page.locator("#conn-text")).to_have_text("Reconnecting…")
    hub.send({"type": "error", "message": "org_unit: outside your units: store-12-field"})
    await expect_short_header(page, "refused", "Not allowed")
