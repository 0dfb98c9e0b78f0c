"""Why a response was flagged: stored with it, read back by the API, carried by live events and
alerts, and kept through the migration that added it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session, SQLModel, select

from app.db import store
from app.db.models import ResponseRow
from tests.harness import App, Cockpit, all_alerts, response
from tests.pg import create_database

pytestmark = pytest.mark.integration

MIGRATIONS = Path(store.__file__).resolve().parent / "migrations"
COMPLAINT = "Terrible service, the worst delivery ever. I am still waiting for my parcel."
# Language detection may tell German on its own; "language" is declared so both scorers read it so.
GERMAN = "Der Techniker kam nie, ich warte seit Tagen."
NEW_COLUMNS = {"comment_language", "negative_comment", "negative_probability", "reasons"}
# Columns later migrations add to the table.
LATER_COLUMNS = {"staff", "themes"}


def _kinds(view: dict[str, Any]) -> set[str]:
    return {r["kind"] for r in view["reasons"]}


def _labels(view: dict[str, Any], kind: str) -> list[str]:
    return [r["label"] for r in view["reasons"] if r["kind"] == kind]


def _assert_english_complaint(view: dict[str, Any]) -> None:
    assert {"score", "text"} <= _kinds(view), view["reasons"]
    assert any("NPS 2" in label for label in _labels(view, "score")), view["reasons"]
    assert all(r["label"] for r in view["reasons"])
    assert view["comment_language"] == "en"
    assert view["negative_comment"] is True
    probability = view["negative_probability"]
    assert probability is None or 0.5 <= probability <= 1


def _assert_not_assessed(view: dict[str, Any]) -> None:
    assert view["polarity"] is None
    assert view["negative_comment"] is False
    assert view["negative_probability"] is None
    assert {"score", "language"} <= _kinds(view), view["reasons"]
    assert any("NPS 2" in label for label in _labels(view, "score")), view["reasons"]


async def test_reasons_are_stored_read_back_sent_live_and_carried_by_the_alert(
    app: App, cockpit: Cockpit
) -> None:
    await cockpit.subscribe(org_units=["store-12"])
    english = response(score=2, comment=COMPLAINT, customer_ref=None)
    german = response(score=2, comment=GERMAN, language="de", customer_ref=None)
    with app.client() as client:
        answer = await asyncio.to_thread(
            client.post, "/api/v1/responses:batch", json={"responses": [english, german]}
        )
    assert answer.status_code == 202, answer.text

    async def live(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        event = await cockpit.next(
            lambda e: e["type"] == kind and e["data"]["response_id"] == body["response_id"]
        )
        data: dict[str, Any] = event["data"]
        return data

    _assert_english_complaint(await live("comment", english))
    _assert_english_complaint(await live("flag", english))
    _assert_not_assessed(await live("comment", german))
    _assert_english_complaint((await live("alert", english))["response"])

    with app.as_user("manager") as manager:
        page = manager.get("/api/v1/responses", params={"org_unit": "store-12"}).json()
        items = {i["response_id"]: i for i in page["items"]}
        _assert_english_complaint(items[english["response_id"]])
        _assert_not_assessed(items[german["response_id"]])

        listed = all_alerts(manager)
        (alert,) = [a for a in listed if a["response_id"] == english["response_id"]]
        _assert_english_complaint(alert["response"])
        detail = manager.get(f"/api/v1/alerts/{alert['id']}").json()
        _assert_english_complaint(detail["alert"]["response"])


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'voc.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres"))
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_a_response_stored_before_reasons_were_kept_reads_back_with_none(
    empty_engine: sa.Engine,
) -> None:
    _upgrade(empty_engine, "0004")
    response_id = f"r-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    # The table as 0004 left it: today's columns without those 0005 adds.
    columns = [
        sa.column(c.name, c.type)
        for c in SQLModel.metadata.tables["responses"].c
        if c.name not in {"id", *NEW_COLUMNS, *LATER_COLUMNS}
    ]
    values = {
        "response_id": response_id,
        "survey_id": "nps-delivery",
        "submitted_at": now,
        "received_at": now,
        "score": 2,
        "score_kind": "nps",
        "comment": "Nobody came.",
        "language": "en",
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-12",
        "customer_type": "person",
        "customer_ref": None,
        "contact": None,
        "metadata": {},
        "polarity": -0.4,
        "dissatisfied": True,
        "severity": "high",
    }
    assert {c.name for c in columns} == set(values)
    with empty_engine.begin() as connection:
        connection.execute(sa.insert(sa.table("responses", *columns)), [values])

    store.migrate(empty_engine)

    with Session(empty_engine) as session:
        row = session.exec(select(ResponseRow).where(ResponseRow.response_id == response_id)).one()
    assert (row.reasons, row.negative_comment, row.comment_language) == (None, False, None)
    view = row.view()
    assert (view.reasons, view.negative_comment, view.negative_probability) == ([], False, None)
    assert (view.polarity, view.dissatisfied, view.severity) == (-0.4, True, "high")
