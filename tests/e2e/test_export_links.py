"""The feed's export links: a file of what the feed's filters and search find, on a phone."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import CockpitPages, Post
from tests.harness import response

pytestmark = pytest.mark.e2e

# A guard while a response goes through broker, worker and hub: not a timing assertion.
SHOWN_WITHIN_MS = 20_000


async def _download(page: Page, name: str) -> tuple[str, str]:
    """Clicks the link named `name`; the file's suggested name and its text."""
    async with page.expect_download() as started:
        await page.get_by_role("link", name=name).click()
    download = await started.value
    path = await download.path()
    return download.suggested_filename, Path(path).read_bytes().decode("utf-8")


async def test_the_export_links_download_what_the_feed_finds_for_its_search(
    cockpit_pages: CockpitPages, post: Post
) -> None:
    page = await cockpit_pages.open_as("manager")
    tag = "mot" + uuid.uuid4().hex[:8]
    found = response(score=2, comment=f"=1+1 parcel lost {tag}", org_unit="store-12")
    other = response(score=9, comment="Delivered on time.", org_unit="store-12")
    await post(found, other)
    for body in (found, other):
        await expect(
            page.locator(f'#feed li[data-response-id="{body["response_id"]}"]')
        ).to_be_visible(timeout=SHOWN_WITHIN_MS)
    await page.locator("#screen-feed").get_by_role("searchbox", name="Search comments").fill(tag)
    await expect(page.locator("#feed li")).to_have_count(1)
    await page.locator("#filters-box summary").click()
    exports = page.get_by_role("group", name="Export these comments")
    await expect(exports.get_by_role("link", name="Download CSV")).to_be_visible()

    name, text = await _download(page, "Download CSV")
    assert name.startswith("responses-") and name.endswith(".csv")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["response_id"] for r in rows] == [found["response_id"]]
    assert rows[0]["comment"] == f"'=1+1 parcel lost {tag}"

    name, text = await _download(page, "Download JSON lines")
    assert name.endswith(".jsonl")
    assert [json.loads(line)["response_id"] for line in text.splitlines()] == [found["response_id"]]
    # The page holds a phone's width with the filter box open.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
