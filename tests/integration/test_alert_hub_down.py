"""Moving an alert while the Redis hub is gone: the move is saved, so it is answered as saved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import App, RedisServer, all_alerts, make_app, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def app_on_redis(broker: str, tmp_path: Path, redis_server: RedisServer) -> Iterator[App]:
    """An app whose Redis is its own, so a test may take it away from it alone."""
    instance = make_app(broker, tmp_path, redis_url=redis_server.url)
    instance.start()
    yield instance
    instance.stop()


def _publish_failures(app: App) -> float:
    found = re.search(
        r"^voc_hub_publish_failures_total (\S+)$", httpx.get(app.url + "/metrics").text, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_a_move_made_while_redis_is_down_is_saved_and_answered_200(
    app_on_redis: App, redis_server: RedisServer
) -> None:
    app = app_on_redis
    body = response(org_unit="store-3", score_kind="csat", score=1, customer_ref=None)
    with app.client() as client:
        assert client.post("/api/v1/responses", json=body).status_code == 202
    found: list[dict[str, Any]] = []

    def raised() -> bool:
        with app.as_user("manager") as manager:
            items = all_alerts(manager)
        found[:] = [a for a in items if a["response_id"] == body["response_id"]]
        return bool(found)

    wait_until(raised, message="the alert")
    alert_id = found[0]["id"]
    before = _publish_failures(app)

    redis_server.stop()
    with app.as_user("manager") as manager:
        moved = manager.post(f"/api/v1/alerts/{alert_id}/transition", json={"to": "acknowledged"})
        stored = manager.get(f"/api/v1/alerts/{alert_id}").json()

    assert moved.status_code == 200, moved.text
    assert moved.json()["alert"]["state"] == "acknowledged"
    assert stored["alert"]["state"] == "acknowledged"
    assert [s["action"] for s in stored["history"]] == ["acknowledged"]
    assert _publish_failures(app) > before
