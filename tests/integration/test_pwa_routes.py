"""The installable app's files at the root: manifest and service worker, their headers and icons."""

from __future__ import annotations

import struct

import httpx
import pytest

from tests.harness import App

pytestmark = pytest.mark.integration


def test_the_page_manifest_and_service_worker_are_served_at_the_root_and_revalidated(
    module_app: App,
) -> None:
    manifest = httpx.get(module_app.url + "/manifest.webmanifest")
    worker = httpx.get(module_app.url + "/sw.js")
    page = httpx.get(module_app.url + "/")

    assert manifest.status_code == worker.status_code == 200
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert worker.headers["content-type"].startswith("text/javascript")
    for answer in (manifest, worker, page):
        assert answer.headers["cache-control"] == "no-cache"
        policy = answer.headers["content-security-policy"]
        assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert manifest.json()["start_url"] == "/"
    assert "caches.open" in worker.text


def test_the_manifest_icons_exist_at_their_declared_sizes(module_app: App) -> None:
    icons = httpx.get(module_app.url + "/manifest.webmanifest").json()["icons"]
    for icon in icons:
        answer = httpx.get(module_app.url + icon["src"])
        assert answer.status_code == 200, icon["src"]
        assert answer.headers["content-type"].startswith(icon["type"])
        if icon["type"] == "image/png":
            width, height = struct.unpack(">II", answer.content[16:24])  # the PNG's IHDR
            assert icon["sizes"] == f"{width}x{height}"


def test_the_app_files_stay_out_of_the_api_schema(module_app: App) -> None:
    paths = httpx.get(module_app.url + "/openapi.json").json()["paths"]
    assert "/manifest.webmanifest" not in paths and "/sw.js" not in paths
