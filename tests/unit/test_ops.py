"""What the ops routes (app/api/ops.py) serve, and what the OpenAPI schema says they serve."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The app with default settings, built but never started (no services)."""
    for key in [k for k in os.environ if k.startswith("VOC_")]:
        monkeypatch.delenv(key)
    transport = httpx.ASGITransport(app=create_app(Settings(_env_file=None)))
    async with httpx.AsyncClient(transport=transport, base_url="http://cockpit") as client:
        yield client


async def test_metrics_are_documented_as_the_prometheus_text_they_are(
    client: httpx.AsyncClient,
) -> None:
    schema: dict[str, Any] = (await client.get("/openapi.json")).json()
    documented = schema["paths"]["/metrics"]["get"]["responses"]["200"]
    served = await client.get("/metrics")

    assert list(documented["content"]) == ["text/plain"]
    assert "Prometheus" in documented["description"]
    assert served.headers["content-type"].startswith("text/plain;")
    assert "# TYPE " in served.text
