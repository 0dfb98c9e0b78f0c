"""Searching the comments (`GET /api/v1/responses?q=`), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.db import store
from app.db.models import UTCDateTime
from tests.harness import App, post_batch, response, wait_until
from tests.pg import create_database

pytestmark = pytest.mark.integration


def _post(app: App, *bodies: dict[str, Any]) -> None:
    post_batch(app, *bodies)
    ids = {b["response_id"] for b in bodies}
    wait_until(lambda: ids <= {r["response_id"] for r in app.rows()}, message=f"{len(ids)} stored")


def _search(app: App, who: str = "admin", **params: Any) -> list[dict[str, Any]]:
    with app.as_user(who) as client:
        answer = client.get("/api/v1/responses", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["response_id"] for i in items]


def _found(app: App, who: str, q: str, **params: Any) -> set[str]:
    return set(_ids(_search(app, who, q=q, **params)))


def _set(*bodies: dict[str, Any]) -> set[str]:
    return {b["response_id"] for b in bodies}


def _word() -> str:
    """A word no other test's comment holds: tests share their app."""
    return "mot" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def test_a_search_folds_accents_and_case_and_needs_every_word(module_app: App) -> None:
    tag = _word()
    broken = response(comment=f"Produit défectueux, livraison très en retard. {tag}", language="fr")
    shouting = response(comment=f"DÉFECTUEUX, encore une fois ! {tag}", language="fr")
    english = response(comment=f"The unit was defective on arrival. {tag}", language="en")
    _post(module_app, broken, shouting, english)

    assert _ids(_search(module_app, q=f"defectueux {tag}")) == _ids([shouting, broken])
    assert _ids(_search(module_app, q=f"Défectueux LIVRAISON {tag}")) == _ids([broken])
    assert _ids(_search(module_app, q=f"tres {tag}")) == _ids([broken])
    # Punctuation between words is no word of its own.
    assert _ids(_search(module_app, q=f"«défectueux» — {tag.upper()}!")) == _ids([shouting, broken])
    assert _search(module_app, q=f"défectueux absentword {tag}") == []


@pytest.mark.stacks("postgresql+redis")
def test_postgresql_finds_other_forms_of_a_word_in_the_comments_language(module_app: App) -> None:
    tag = _word()
    french = response(
        comment=f"La livraison est arrivée avec deux semaines de retard, personne ne répond. {tag}",
        language="fr",
    )
    italian = response(
        comment=f"Aspetto ancora il rimborso promesso da un mese, nessuno risponde. {tag}",
        language="it",
    )
    english = response(
        comment=f"I waited three weeks for the engineer to come back. {tag}", language="en"
    )
    _post(module_app, french, italian, english)
    read = {i["response_id"]: i["comment_language"] for i in _search(module_app, q=tag)}
    assert read == {
        french["response_id"]: "fr",
        italian["response_id"]: "it",
        english["response_id"]: "en",
    }

    assert _ids(_search(module_app, q=f"livraisons {tag}")) == _ids([french])
    assert _ids(_search(module_app, q=f"rimborsi {tag}")) == _ids([italian])
    assert _ids(_search(module_app, q=f"waiting engineers {tag}")) == _ids([english])


def test_a_search_stays_in_the_callers_units(module_app: App) -> None:
    word = _word()
    mine = response(org_unit="store-12", comment=f"Long queue at the till, {word}.")
    team = response(org_unit="store-12-field", comment=f"The fitter was late, {word}.")
    north = response(org_unit="store-1", comment=f"Rude answer on the phone, {word}.")
    south = response(org_unit="store-40", comment=f"Long queue again, {word}.")
    _post(module_app, mine, team, north, south)

    # Each unit has its own partition: their responses are stored in no set order between them.
    assert _found(module_app, "frontline", word) == _set(mine, team)
    assert _found(module_app, "manager", word) == _set(mine, team, north)
    assert _found(module_app, "admin", word) == _set(mine, team, north, south)
    assert _found(module_app, "admin", word, org_unit="south") == _set(south)
    with module_app.as_user("frontline") as client:
        refused = client.get("/api/v1/responses", params={"q": word, "org_unit": "store-40"})
    assert refused.status_code == 403, refused.text


def test_a_search_combines_with_every_filter(module_app: App) -> None:
    word = _word()
    since = datetime.now(UTC).isoformat()
    flagged = response(score=1, touchpoint="delivery", channel="sms", comment=f"Awful {word}")
    happy = response(score=10, touchpoint="delivery", channel="web", comment=f"Great {word}")
    billing = response(score=2, touchpoint="billing", channel="sms", comment=f"Wrong bill {word}")
    csat = response(score_kind="csat", score=1, touchpoint="billing", comment=f"Bad {word}")
    other = response(score=1, touchpoint="delivery", channel="sms", comment="Awful, no word")
    _post(module_app, flagged, happy, billing, csat, other)

    assert _ids(_search(module_app, q=word, flagged="true")) == _ids([csat, billing, flagged])
    assert _ids(_search(module_app, q=word, touchpoint="delivery")) == _ids([happy, flagged])
    both = _search(module_app, q=word, flagged="true", touchpoint="delivery", channel="sms")
    assert _ids(both) == _ids([flagged])
    assert _ids(_search(module_app, q=word, score_kind="csat")) == _ids([csat])
    assert _ids(_search(module_app, q=word, since=since, org_unit="store-12")) == _ids(
        [csat, billing, happy, flagged]
    )


def test_search_results_page_newest_first_with_a_cursor(module_app: App) -> None:
    word = _word()
    bodies = []
    for n in range(12):
        text = f"Comment {n} about {word}" if n % 2 == 0 else f"Comment {n} about nothing"
        bodies.append(response(comment=text))
    _post(module_app, *bodies)
    found: list[str] = []
    cursor = None
    pages = 0
    with module_app.as_user("admin") as client:
        while True:
            params: dict[str, Any] = {"q": word, "limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get("/api/v1/responses", params=params).json()
            found += _ids(page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert pages == 3
    assert found == _ids(list(reversed(bodies[::2])))


def test_an_unsearchable_query_is_refused_and_a_blank_one_ignored(module_app: App) -> None:
    word = _word()
    one = response(comment=f"Nothing special, {word}.")
    _post(module_app, one)
    with module_app.as_user("admin") as client:
        too_long = client.get("/api/v1/responses", params={"q": "a" * 201})
        no_word = client.get("/api/v1/responses", params={"q": " !?… — "})
        blank = client.get("/api/v1/responses", params={"q": "   ", "limit": 1})
        longest = client.get("/api/v1/responses", params={"q": f"{word} ".ljust(200, "b")})
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["code"] == "invalid_input"
    assert too_long.json()["errors"][0]["field"] == "q"
    assert "200" in too_long.json()["message"]
    assert no_word.status_code == 422, no_word.text
    assert no_word.json()["code"] == "invalid_input"
    assert no_word.json()["message"] == "q: no word to search for (letters or digits)"
    assert blank.status_code == 200 and _ids(blank.json()["items"]) == _ids([one])
    assert longest.status_code == 200 and longest.json()["items"] == []


def test_the_search_parameter_is_documented(module_app: App) -> None:
    schema = httpx.get(module_app.url + "/openapi.json", timeout=15).json()
    parameters = schema["paths"]["/api/v1/responses"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert "Words the comment must all hold" in q["description"]
    assert q["schema"]["anyOf"][0]["maxLength"] == 200


BEFORE_SEARCH = "0012"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A database at the revision before the search index."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'voc.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres"))
    engine = store.make_engine(url)
    _upgrade(engine, BEFORE_SEARCH)
    yield engine
    engine.dispose()


def _upgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _row(n: int, comment: str | None, language: str | None = "fr") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "response_id": f"old-{n}",
        "survey_id": "s",
        "submitted_at": now,
        "received_at": now,
        "score": 3,
        "score_kind": "nps",
        "comment": comment,
        "channel": "web",
        "touchpoint": "delivery",
        "org_unit": "store-1",
        "customer_type": "person",
        "metadata": {},
        "dissatisfied": True,
        "severity": "high",
        "comment_language": language,
    }


def _stored(engine: sa.Engine, text: str) -> list[str]:
    with Session(engine) as session:
        rows, _ = store.list_responses(
            session=session, where=store.ResponseFilter(text=text), before=None, limit=50
        )
    return [r.response_id for r in rows]


def test_the_migration_indexes_stored_comments_and_the_index_follows_changes(
    old_engine: sa.Engine,
) -> None:
    types: dict[str, Any] = {"submitted_at": UTCDateTime, "received_at": UTCDateTime}
    types["metadata"] = sa.JSON
    table = sa.table("responses", *(sa.column(name, types.get(name)) for name in _row(0, None)))
    rows = [
        _row(1, "Colis livré cassé, emballage déchiré."),
        _row(2, None),
        _row(3, "Emballage soigné, merci.", None),
    ]
    with old_engine.begin() as connection:
        connection.execute(sa.insert(table), rows)

    _upgrade(old_engine, "head")

    assert _stored(old_engine, "emballage") == ["old-3", "old-1"]
    assert _stored(old_engine, "dechire") == ["old-1"]
    changes = [
        "UPDATE responses SET comment = 'Personne au téléphone.' WHERE response_id = 'old-1'",
        "UPDATE responses SET comment = 'Emballage ok' WHERE response_id = 'old-2'",
        "DELETE FROM responses WHERE response_id = 'old-3'",
    ]
    with old_engine.begin() as connection:
        for change in changes:
            connection.execute(sa.text(change))
    assert _stored(old_engine, "emballage") == ["old-2"]
    assert _stored(old_engine, "telephone") == ["old-1"]
    assert _stored(old_engine, "dechire") == []
