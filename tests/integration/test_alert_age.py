"""An imported history is stored but raises no alert (VOC_ALERT_MAX_AGE_HOURS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.harness import App, all_alerts, response, wait_until

pytestmark = pytest.mark.integration


def test_a_response_submitted_days_ago_is_stored_without_an_alert(app: App) -> None:
    five_days_ago = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    old = response(
        org_unit="store-3",
        score_kind="csat",
        score=1,
        customer_ref=None,
        submitted_at=five_days_ago,
    )
    fresh = response(org_unit="store-3", score_kind="csat", score=1, customer_ref=None)
    with app.client() as client:
        posted = client.post("/api/v1/responses:batch", json={"responses": [old, fresh]})
        assert posted.status_code == 202, posted.text

        def alerted() -> list[str]:
            return [a["response_id"] for a in all_alerts(client)]

        wait_until(lambda: fresh["response_id"] in alerted(), message="the fresh one's alert")
        assert old["response_id"] not in alerted()
    assert len(app.rows(f"response_id = '{old['response_id']}'")) == 1
