"""What a batch raises (ingest/alerting.py): which responses get an alert row, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.rules import load_rules
from app.core.events import Assessment, Severity, SurveyResponse
from app.core.settings import Settings
from app.core.writes import NewAlert, Scored
from ingest.alerting import response_alerts

RULES = load_rules()
# Responses from the future are refused, so the tests run at the present time.
NOW = datetime.now(UTC)
UNHAPPY = Assessment(
    polarity=None,
    dissatisfied=True,
    severity=Severity.MEDIUM,
    negative_comment=False,
    negative_probability=None,
    reasons=[],
)


def csat_1(response_id: str, submitted_at: datetime, customer_ref: str | None = None) -> Scored:
    fields: dict[str, Any] = {
        "response_id": response_id,
        "survey_id": "s",
        "submitted_at": submitted_at,
        "score_kind": "csat",
        "score": 1,
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-1",
        "customer_type": "person",
        "customer_ref": customer_ref,
    }
    return Scored(SurveyResponse.model_validate(fields), UNHAPPY, NOW)


def by_response(alerts: list[NewAlert]) -> dict[str | None, NewAlert]:
    return {a.response_id: a for a in alerts}


@pytest.mark.parametrize(
    ("age", "raised"),
    [(timedelta(minutes=5), True), (timedelta(hours=71), True), (timedelta(hours=73), False)],
)
def test_only_a_response_submitted_within_the_max_age_raises_an_alert(
    age: timedelta, raised: bool
) -> None:
    settings = Settings(alert_max_age_hours=72)
    rows = by_response(response_alerts(RULES, [csat_1("r-1", NOW - age)], {}, NOW, settings))
    assert ("r-1" in rows) is raised


def test_an_imported_history_raises_nothing_by_default() -> None:
    # The README's example response, imported in December.
    history = csat_1("r-old", datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    assert response_alerts(RULES, [history], {}, NOW, Settings()) == []


def test_the_max_age_is_a_setting() -> None:
    month_old = csat_1("r-1", NOW - timedelta(days=30))
    settings = Settings(alert_max_age_hours=24 * 31)
    rows = by_response(response_alerts(RULES, [month_old], {}, NOW, settings))
    assert rows["r-1"].due_ack_at == NOW + timedelta(minutes=60)


def test_an_old_response_raises_nothing_yet_makes_a_new_one_a_repeat() -> None:
    old = csat_1("r-old", NOW - timedelta(days=5), customer_ref="cust-1")
    new = csat_1("r-new", NOW - timedelta(minutes=1), customer_ref="cust-1")
    rows = by_response(response_alerts(RULES, [old, new], {}, NOW, Settings()))
    assert list(rows) == ["r-new"]
    assert rows["r-new"].rules == ("csat-dissatisfied", "repeat-dissatisfied")
    assert rows["r-new"].reasons["repeat-dissatisfied"]["earlier"] == ["r-old"]
