"""The cockpit in French and Italian: a cashier whose browser speaks French reads every screen in
French, with French numbers, percentages and relative times, and it stays usable on a phone (WCAG
AA, no sideways scroll though French runs longer than English); the same in Italian; and a user
who picks a language in their settings keeps it whatever the browser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import PHONE, Console, Post, expect_live, open_screen
from tests.e2e.test_accessibility import violations
from tests.harness import PASSWORD, App, make_app, response

pytestmark = pytest.mark.e2e

# Guards while responses go through broker, worker, alert rules and hub: not timing assertions.
SHOWN_WITHIN_MS = 20_000
NARROW_NBSP = "\u202f"  # what Intl puts between a number and "%" in French


@pytest.fixture(scope="module")
def app(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app for the module, frontline callbacks on so staff reach every screen there is."""
    instance = make_app(broker, tmp_path_factory.mktemp("app"), frontline_callbacks="true")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def console() -> Console:
    return Console()


async def _phone(browser: Browser, locale: str, console: Console) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=PHONE, locale=locale)
    try:
        yield context
    finally:
        await context.close()
    assert not console.thrown, f"the page threw: {console.thrown}"


@pytest.fixture
async def french(browser: Browser, console: Console) -> AsyncIterator[BrowserContext]:
    async for context in _phone(browser, "fr-FR", console):
        yield context


@pytest.fixture
async def italian(browser: Browser, console: Console) -> AsyncIterator[BrowserContext]:
    async for context in _phone(browser, "it-IT", console):
        yield context


async def _open(context: BrowserContext, app: App, console: Console) -> Page:
    page = await context.new_page()
    console.watch(page)
    await page.goto(f"{app.url}/")
    await expect(page.locator("#signin-form")).to_be_visible()
    return page


async def _sign_in(page: Page, app: App, role: str, units: list[str]) -> None:
    """As a user of `role` of their own, given `units`: each test reads figures of its own."""
    username = f"{role}.{units[0]}"
    await asyncio.to_thread(app.add_user, username, role, units)
    # By id: the labels are in the reader's language.
    await page.locator("#signin-username").fill(username)
    await page.locator("#signin-password").fill(PASSWORD)
    await page.locator("#signin-password").press("Enter")
    await expect_live(page)


async def _fits_a_phone(page: Page, where: str) -> None:
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths == [PHONE["width"], PHONE["width"]], f"{where} scrolls sideways: {widths}"


def _customers(unit: str, language: str, complaint: str, praise: str) -> list[dict[str, object]]:
    """A detractor who answered 3 minutes ago, a promoter, and two CSAT answers (50 % satisfied)."""
    earlier = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    common = {"org_unit": unit, "language": language, "customer_ref": None}
    return [
        response(score=1, comment=complaint, submitted_at=earlier, **common),
        response(score=10, comment=praise, **common),
        response(score=5, score_kind="csat", comment=None, touchpoint="billing", **common),
        response(score=2, score_kind="csat", comment=None, touchpoint="billing", **common),
    ]


async def test_a_french_browser_gets_every_screen_in_french(
    app: App, french: BrowserContext, console: Console, post: Post
) -> None:
    page = await _open(french, app, console)
    # Before anyone signs in, the browser's language.
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("#signin-submit")).to_have_text("Se connecter")
    await expect(page.get_by_label("Identifiant")).to_be_visible()
    found = {"sign-in": await violations(page)}

    await _sign_in(page, app, "manager", ["store-12"])
    await expect(page.locator("#conn-text")).to_have_text("En direct")
    complaint, *others = _customers(
        "store-12",
        "fr",
        "Livraison en retard de trois jours, aucune excuse, personne ne rappelle.",
        "Très bon accueil en magasin, merci.",
    )
    await post(complaint, *others)

    card = page.locator(f'#feed li[data-response-id="{complaint["response_id"]}"]')
    await expect(card.locator(".why")).to_contain_text("Pourquoi", timeout=SHOWN_WITHIN_MS)
    await expect(card.locator(".why")).to_contain_text("commentaire négatif")
    await expect(card).to_contain_text("Rappeler")
    await expect(card.locator("time")).to_have_text("il y a 3 min")
    found["feed"] = await violations(page)
    await _fits_a_phone(page, "feed")

    await open_screen(page, "barometer")
    await expect(page.locator("#nps-count")).to_have_text(
        "sur 2 réponses NPS aujourd'hui", timeout=SHOWN_WITHIN_MS
    )
    await expect(page.locator(".tile-csat")).to_contain_text(f"50{NARROW_NBSP}%")
    found["barometer"] = await violations(page)
    await _fits_a_phone(page, "barometer")

    await open_screen(page, "journey")
    await expect(page.locator("#journey-title")).to_have_text("Parcours client")
    found["journey"] = await violations(page)
    await _fits_a_phone(page, "journey")

    # The promoter's praise is on the wall.
    await open_screen(page, "praise")
    await expect(page.locator("#praise-title")).to_have_text("Éloges")
    await expect(page.locator("#praise-wall li")).to_have_count(1, timeout=SHOWN_WITHIN_MS)
    found["praise"] = await violations(page)
    await _fits_a_phone(page, "praise")

    await open_screen(page, "alerts")
    alert = page.locator(".alert-card").first
    await expect(alert.locator(".alert-rule").first).to_have_text(
        "Détracteur avec un commentaire négatif", timeout=SHOWN_WITHIN_MS
    )
    await expect(alert.locator(".alert-reason-detail").first).to_contain_text(
        "commentaire négatif ("
    )
    await expect(alert.locator(".alert-state")).to_have_text("Ouverte")
    found["alerts"] = await violations(page)
    await _fits_a_phone(page, "alerts")

    await page.locator("#settings-open").click()
    await expect(page.get_by_label("Langue")).to_be_visible()
    found["settings"] = await violations(page)
    assert found == {screen: [] for screen in found}


async def test_an_italian_browser_gets_the_staff_screens_in_italian(
    app: App, italian: BrowserContext, console: Console, post: Post
) -> None:
    page = await _open(italian, app, console)
    await expect(page.locator("html")).to_have_attribute("lang", "it")
    await expect(page.locator("#signin-submit")).to_have_text("Accedi")
    await _sign_in(page, app, "frontline", ["store-3"])
    complaint, *others = _customers(
        "store-3",
        "it",
        "Consegna in ritardo di una settimana e nessuno mi ha richiamato.",
        "Personale gentilissimo e molto competente, grazie!",
    )
    await post(complaint, *others)

    card = page.locator(f'#feed li[data-response-id="{complaint["response_id"]}"]')
    await expect(card.locator(".why")).to_contain_text("Perché", timeout=SHOWN_WITHIN_MS)
    await expect(card.locator(".why")).to_contain_text("commento negativo")
    await expect(card.locator("time")).to_have_text("3 min fa")
    found = {"feed": await violations(page)}
    await _fits_a_phone(page, "feed")

    await open_screen(page, "barometer")
    await expect(page.locator("#nps-count")).to_have_text(
        "su 2 risposte NPS oggi", timeout=SHOWN_WITHIN_MS
    )
    await expect(page.locator(".tile-csat")).to_contain_text("50%")
    found["barometer"] = await violations(page)
    await _fits_a_phone(page, "barometer")

    await open_screen(page, "journey")
    await expect(page.locator("#journey-title")).to_have_text("Percorso del cliente")
    found["journey"] = await violations(page)
    await _fits_a_phone(page, "journey")

    # Frontline staff take callbacks: the alerts tab is theirs too.
    await open_screen(page, "alerts")
    callback = page.locator(".alert-card").first
    await expect(callback.locator(".alert-rule").first).to_have_text(
        "Detrattore con un commento negativo", timeout=SHOWN_WITHIN_MS
    )
    found["callbacks"] = await violations(page)
    await _fits_a_phone(page, "callbacks")
    assert found == {screen: [] for screen in found}


async def test_a_language_chosen_in_settings_holds_whatever_the_browser(
    app: App, french: BrowserContext, console: Console
) -> None:
    page = await _open(french, app, console)
    await _sign_in(page, app, "manager", ["store-1"])
    await expect(page.locator("#tab-alerts-name")).to_have_text("Alertes")

    await page.locator("#settings-open").click()
    await page.get_by_label("Langue").select_option("it")
    await expect(page.locator("html")).to_have_attribute("lang", "it")
    await expect(page.locator("#tab-alerts-name")).to_have_text("Allerte")
    await expect(page.locator("#settings-title")).to_have_text("Le mie impostazioni")

    # Kept with the account, not the page: a reload in the same French browser stays Italian.
    await page.reload()
    await expect_live(page)
    await expect(page.locator("html")).to_have_attribute("lang", "it")
    await expect(page.locator("#conn-text")).to_have_text("In diretta")

    await page.locator("#settings-open").click()
    await page.get_by_label("Lingua").select_option("")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("#tab-alerts-name")).to_have_text("Alertes")
