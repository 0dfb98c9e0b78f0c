"""Who may open the cockpit and what each person sees: sign-in, scope, sign-out, ended sessions."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import WebSocket, expect

from tests.e2e.conftest import (
    CockpitPages,
    Console,
    Post,
    account,
    expect_live,
    open_screen,
    sign_in,
)
from tests.harness import App, Cockpit, response, wait_until

pytestmark = pytest.mark.e2e

# Guards while a response goes through broker, worker and hub, or the page reconnects.
SHOWN_WITHIN_MS = 20_000
RECONNECTED_WITHIN_MS = 45_000
SESSION_ENDED = "Your session ended; sign in again."


def item(body: dict[str, object]) -> str:
    """The selector of `body`'s feed entry."""
    return f'#feed li[data-response-id="{body["response_id"]}"]'


async def test_wrong_password_shows_the_error_and_no_data(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    secret = response(comment="Nobody without a password reads this.")
    await post(secret)
    await asyncio.to_thread(wait_until, lambda: len(app.rows()) == 1)
    requested: list[str] = []
    page = await cockpit_pages.open()
    page.on("request", lambda request: requested.append(request.url))

    await sign_in(page, await asyncio.to_thread(account, app, "admin"), "not the password")

    error = page.get_by_role("alert").filter(has_text="wrong username or password")
    await expect(error).to_be_visible()
    await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Password")).to_be_focused()
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.locator("#cockpit")).to_be_hidden()
    await expect(page.locator("#feed li")).to_have_count(0)
    assert secret["comment"] not in await page.content()
    # No data asked for: the only API call is the refused sign-in (icons and the shell may load).
    assert [url for url in requested if "/api/" in url and "/auth/login" not in url] == []


async def test_a_locked_account_shows_the_servers_message_with_its_wait(
    app: App, cockpit_pages: CockpitPages
) -> None:
    page = await cockpit_pages.open()
    username = await asyncio.to_thread(account, app, "frontline")
    error = page.locator("#signin-error")
    for _ in range(10):  # the default lockout takes 5 wrong passwords
        await sign_in(page, username, "guess")
        await expect(page.locator("#signin-submit")).to_be_enabled()
        if "try again in" in (await error.text_content() or ""):
            break
    await expect(error).to_have_text(re.compile(r"^this account is locked.*; try again in \d+ s$"))

    await sign_in(page, username)  # the right password, still locked
    await expect(error).to_contain_text("locked")
    await expect(page.locator("#cockpit")).to_be_hidden()


async def test_frontline_user_sees_their_stores_comments_but_not_another_stores(
    app: App, cockpit_pages: CockpitPages, post: Post
) -> None:
    earlier_own = response(
        org_unit="store-12",
        score=2,
        comment="Store 12: nobody called me back.",
        contact={"name": "Jeanne Martin", "phone": "+33 6 12 34 56 78"},
    )
    earlier_other = response(org_unit="store-40", comment="Store 40 only, before.")
    await post(earlier_own, earlier_other)
    await asyncio.to_thread(wait_until, lambda: len(app.rows()) == 2)
    page = await cockpit_pages.open_as("frontline")

    await expect(page.locator("#who-name")).to_have_text("s12.staff")
    await expect(page.locator("#who-role")).to_have_text("Frontline")
    await expect(page.locator("#scope .scope-chip.org")).to_have_text(["Store 12"])
    await expect(page.locator(item(earlier_own))).to_contain_text(
        earlier_own["comment"], timeout=SHOWN_WITHIN_MS
    )
    # Frontline staff do not get the customer's contact details.
    await expect(page.locator(f"{item(earlier_own)} .contact")).to_have_count(0)

    live_other = response(org_unit="store-40", comment="Store 40 only, live.")
    live_team = response(org_unit="store-12-field", comment="Store 12's field team, live.")
    await post(live_other)
    await post(live_team)
    await expect(page.locator(item(live_team))).to_contain_text(
        live_team["comment"], timeout=SHOWN_WITHIN_MS
    )
    await expect(page.locator(f"{item(earlier_other)}, {item(live_other)}")).to_have_count(0)
    assert "Store 40 only" not in await page.content()


async def test_frontline_user_opening_another_store_gets_a_refusal_notice_not_data(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    other = response(org_unit="store-40", comment="Store 40 only.")
    await post(other)
    await cockpit_pages.open_as("frontline")  # signs the browser in

    page = await cockpit_pages.open("?org_unit=store-40")

    notice = page.locator("#notice")
    await expect(notice).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await expect(notice).to_have_attribute("data-kind", "refused")
    await expect(notice).to_contain_text("outside your units: store-40")
    await expect(page.locator("#conn-state")).to_have_attribute("data-state", "refused")
    await expect(page.locator("#feed-empty")).to_have_text("Nothing to show for this scope.")
    await expect(page.locator("#feed li")).to_have_count(0)
    assert other["comment"] not in await page.content()

    await notice.get_by_role("link", name="Show my units").click()
    await expect_live(page)
    await expect(page.locator("#scope .scope-chip.org")).to_have_text(["Store 12"])


async def test_manager_watches_their_region_by_name_and_picks_a_store_below_it(
    cockpit_pages: CockpitPages,
) -> None:
    page = await cockpit_pages.open_as("manager")
    await expect(page.locator("#scope .scope-chip.org")).to_have_text(["North"])

    picker = page.get_by_label("Watch")
    options = [text.strip() for text in await picker.locator("option").all_text_contents()]
    assert options[:2] == ["All my units", "North"]
    assert "Store 12 field team" in options and "South" not in options and "Store 40" not in options

    await picker.select_option("store-12")
    await expect(page).to_have_url(re.compile(r"/\?org_unit=store-12$"))
    await expect_live(page)
    await expect(page.locator("#scope .scope-chip.org")).to_have_text(["Store 12"])
    await expect(picker).to_have_value("store-12")


async def test_sign_out_returns_to_the_form_and_the_websocket_stops_delivering(
    app: App, cockpit_pages: CockpitPages, cockpit: Cockpit, post: Post
) -> None:
    page = await cockpit_pages.open()
    sockets: list[WebSocket] = []
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    await sign_in(page, await asyncio.to_thread(account, app, "admin"))
    await expect_live(page)
    before = response(org_unit="store-40", comment="Seen before signing out.")
    await post(before)
    await expect(page.locator(item(before))).to_be_visible(timeout=SHOWN_WITHIN_MS)

    await page.get_by_role("button", name="Sign out").click()

    await expect(page.locator("#signin-form")).to_be_visible()
    await expect(page.locator("#signin-note")).to_have_text("You signed out.")
    await expect(page.get_by_label("Username")).to_be_focused()
    await expect(page.locator("#cockpit")).to_be_hidden()
    [socket] = sockets
    if not socket.is_closed():
        await socket.wait_for_event("close")
    # Another cockpit still receives what is posted now; the signed-out page does not.
    await cockpit.subscribe()
    after = response(org_unit="store-12", comment="Posted after signing out.")
    await post(after)
    await cockpit.next(lambda e: e.get("data", {}).get("response_id") == after["response_id"])
    assert not [f for f in frames if after["response_id"] in f]
    assert after["comment"] not in await page.content()
    assert before["comment"] not in await page.content()
    assert len(sockets) == 1

    # The next person on this phone sees their own scope only, none of the previous session.
    await sign_in(page, await asyncio.to_thread(account, app, "frontline"))
    await expect_live(page)
    await expect(page.locator(item(after))).to_be_visible()
    await expect(page.locator(item(before))).to_have_count(0)


@pytest.mark.parametrize("ended_by", ["a-fetch-answering-401", "the-websocket-closing-4401"])
async def test_an_ended_session_brings_back_the_sign_in_form_without_reconnecting(
    app: App, cockpit_pages: CockpitPages, post: Post, ended_by: str
) -> None:
    page = await cockpit_pages.open()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    await sign_in(page, await asyncio.to_thread(account, app, "admin"))
    await expect_live(page)
    [token] = [
        c["value"] for c in await cockpit_pages.context.cookies() if c["name"] == "voc_session"
    ]

    await asyncio.to_thread(_sign_out, app, token)  # as if from another tab, or expired
    if ended_by == "a-fetch-answering-401":
        # Its barometer event makes the page re-fetch the (all units) barometer.
        await post(response(score=3))
    else:
        await asyncio.to_thread(app.stop)
        await asyncio.to_thread(app.start)

    note = page.locator("#signin-note")
    await expect(note).to_have_text(SESSION_ENDED, timeout=RECONNECTED_WITHIN_MS)
    await expect(page.locator("#cockpit")).to_be_hidden()
    opened = len(sockets)
    await asyncio.sleep(3)  # longer than the first reconnect delay
    assert len(sockets) == opened

    await sign_in(page, await asyncio.to_thread(account, app, "admin"))
    await expect_live(page)
    await expect(note).to_be_hidden()


async def test_a_normal_session_logs_no_console_error_or_policy_violation(
    app: App, cockpit_pages: CockpitPages, console: Console, post: Post
) -> None:
    await cockpit_pages.context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));"
    )
    page = await cockpit_pages.open_as("manager")
    happy = response(org_unit="store-3", score=10, comment="Quick and friendly.")
    unhappy = response(org_unit="store-12", score=1, comment="Still waiting for the engineer.")
    await post(happy, unhappy)
    await expect(page.locator(item(unhappy))).to_be_visible(timeout=SHOWN_WITHIN_MS)
    for screen in ("barometer", "journey", "alerts", "feed"):
        await open_screen(page, screen)
    await expect(page.locator("#nps-value")).to_have_text("0", timeout=SHOWN_WITHIN_MS)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#signin-form")).to_be_visible()

    violations = await page.evaluate("window.__violations")
    # Before signing in, the page asks who is signed in: that 401 is the expected answer.
    signed_out_check = f"401 (Unauthorized) at {app.url}/api/v1/auth/me"
    errors = [e for e in console.errors if not e.endswith(signed_out_check)]
    assert violations == []
    assert errors == []


def _sign_out(app: App, token: str) -> None:
    answer = httpx.post(
        app.url + "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 204, answer.text


async def test_signing_out_without_network_says_the_session_is_still_on(
    cockpit_pages: CockpitPages,
) -> None:
    page = await cockpit_pages.open_as("frontline")
    await cockpit_pages.context.set_offline(True)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#notice-text")).to_have_text(
        "You are offline and still signed in: sign out again once the connection is back."
    )
    await expect(page.locator("#cockpit")).to_be_visible()

    await cockpit_pages.context.set_offline(False)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#signin-form")).to_be_visible()
