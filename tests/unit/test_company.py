"""The made-up company: a tree the product reads, valid responses, a week's rhythm, weak spots."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import company
from app.cli import main
from app.core.events import SurveyResponse
from app.core.org import OrgTree, UnitKind
from app.demo import TOUCHPOINTS
from app.orgfile import read_units

# In the past whatever the clock says: a response dated in the future is invalid.
END = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture(scope="module")
def firm() -> company.Company:
    return company.build(60, seed=3)


@pytest.fixture(scope="module")
def week(firm: company.Company) -> list[dict[str, Any]]:
    return [json.loads(v) for _, v in company.responses(firm, 30_000, end=END, seed=3)]


def nps(bodies: Iterable[dict[str, Any]]) -> float:
    scores: list[int] = [b["score"] for b in bodies if b["score_kind"] == "nps"]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return 100 * (promoters - detractors) / len(scores)


def test_the_tree_file_is_a_company_of_regions_of_the_stores_asked_for(tmp_path: Path) -> None:
    firm = company.build(500, seed=1)
    units = read_units(company.write_tree(firm, tmp_path / "tree.yaml"))
    tree = OrgTree(units)
    kinds = Counter(u.kind for u in units)
    assert kinds == {UnitKind.COMPANY: 1, UnitKind.REGION: 10, UnitKind.SITE: 500}
    assert len(tree) == 511
    assert tree.children(company.COMPANY_ID) == [f"region-{r:02d}" for r in range(1, 11)]
    assert "store-0412" in tree
    assert tree.ancestors("store-0412") == ["region-09", company.COMPANY_ID]
    assert all(len(tree.children(f"region-{r:02d}")) == 50 for r in range(1, 11))


def test_small_companies_have_fewer_regions_and_the_count_can_be_chosen() -> None:
    assert len(company.build(5).regions) == 1
    assert len(company.build(25).regions) == 3
    assert len(company.build(5000).regions) == 10
    assert len(company.build(40, regions=4).regions) == 4
    with pytest.raises(ValueError, match="regions"):
        company.build(3, regions=4)


def test_every_response_is_a_valid_survey_response_of_a_store_in_the_tree(
    firm: company.Company,
) -> None:
    stores = {s.id for s in firm.stores}
    records = list(company.responses(firm, 5000, end=END, seed=3))
    parsed = [SurveyResponse.model_validate_json(value) for _, value in records]
    assert all(key == r.org_unit for (key, _), r in zip(records, parsed, strict=True))
    assert {r.org_unit for r in parsed} <= stores
    assert {r.touchpoint for r in parsed} == set(TOUCHPOINTS)
    assert len({r.response_id for r in parsed}) == 5000


def test_responses_spread_over_the_days_asked_with_more_by_day_than_by_night(
    week: list[dict[str, Any]],
) -> None:
    times = [datetime.fromisoformat(b["submitted_at"]) for b in week]
    start = company.history_start(END, 7)
    assert start.minute == start.second == 0
    assert timedelta(hours=167) < END - start <= timedelta(hours=168)
    assert start <= min(times) and max(times) <= END
    hours = [t.replace(minute=0, second=0) for t in times]
    assert hours == sorted(hours)
    days = Counter((t - start) // timedelta(days=1) for t in times)
    assert sorted(days) == list(range(7))
    assert min(days.values()) > 0.1 * len(week)
    local_hours = Counter(t.astimezone(company.TIMEZONE).hour for t in times)
    day = sum(local_hours[h] for h in range(10, 18)) / 8
    night = sum(local_hours[h] for h in range(1, 6)) / 5
    assert day > 10 * night


def test_shorter_histories_stay_within_their_days() -> None:
    firm = company.build(5, seed=1)
    times = [
        json.loads(v)["submitted_at"] for _, v in company.responses(firm, 300, end=END, days=1)
    ]
    assert min(datetime.fromisoformat(t) for t in times) >= END - timedelta(days=1)


def test_mostly_nps_some_csat_and_ces(week: list[dict[str, Any]]) -> None:
    kinds = Counter(b["score_kind"] for b in week)
    assert set(kinds) == {"nps", "csat", "ces"}
    assert 0.65 < kinds["nps"] / len(week) < 0.85
    assert kinds["csat"] > kinds["ces"] > 0.03 * len(week)


def test_comments_vary_some_are_empty_and_some_not_english(week: list[dict[str, Any]]) -> None:
    comments = [b.get("comment") for b in week]
    present = [c for c in comments if c]
    assert 0.1 < comments.count(None) / len(week) < 0.2
    assert len(set(present)) > 1500
    assert Counter(present).most_common(1)[0][1] < 0.02 * len(present)
    languages = Counter(b["language"] for b in week if "comment" in b)
    assert {"en", "fr", "it", "de", "es"} <= set(languages)
    assert 0.75 < languages["en"] / len(present) < 0.92
    assert all(("language" in b) == ("comment" in b) for b in week)


def test_some_customers_answer_more_than_once_with_the_same_contact(
    week: list[dict[str, Any]],
) -> None:
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for body in week:
        if "customer_ref" in body:
            by_customer[body["customer_ref"]].append(body)
    returning = [answers for answers in by_customer.values() if len(answers) > 1]
    assert len(returning) > 0.1 * len(by_customer)
    for answers in returning:
        assert len({json.dumps(a["contact"], sort_keys=True) for a in answers}) == 1
        assert len({a["org_unit"] for a in answers}) == 1


def test_weak_spots_and_weaker_regions_show_in_the_figures(
    firm: company.Company, week: list[dict[str, Any]]
) -> None:
    weak = set(firm.weak_spots)
    assert weak
    at_weak = [b for b in week if (b["org_unit"], b["touchpoint"]) in weak]
    weak_stores = {store for store, _ in weak}
    elsewhere = [
        b
        for b in week
        if b["org_unit"] in weak_stores and (b["org_unit"], b["touchpoint"]) not in weak
    ]
    assert nps(at_weak) < nps(elsewhere) - 25
    region_of = {s.id: s.region for s in firm.stores}
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for body in week:
        by_region[region_of[body["org_unit"]]].append(body)
    regions = {region: nps(bodies) for region, bodies in by_region.items()}
    assert max(regions.values()) - min(regions.values()) > 8
    by_touchpoint = defaultdict(list)
    for body in week:
        by_touchpoint[body["touchpoint"]].append(body)
    assert nps(by_touchpoint["purchase"]) > nps(by_touchpoint["installation"]) + 8


def test_the_same_seed_gives_the_same_company_and_another_seed_another() -> None:
    def history(seed: int) -> tuple[company.Company, list[tuple[str, bytes]]]:
        firm = company.build(30, seed=seed)
        return firm, list(company.responses(firm, 500, end=END, seed=seed))

    firm, responses = history(7)
    assert (firm, responses) == history(7)
    other_firm, other_responses = history(8)
    assert other_firm.weak_spots != firm.weak_spots
    assert other_responses != responses
    assert company.tree_yaml(other_firm) == company.tree_yaml(firm), "same ids, same names"


def test_voc_company_writes_the_tree_and_the_responses_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            *("company", "--units", "12", "--responses", "200", "--seed", "5"),
            *("--end", END.isoformat(), "--out", str(tmp_path)),
        ]
    )
    assert len(read_units(tmp_path / "org_tree.yaml")) == 1 + 2 + 12
    lines = (tmp_path / "responses.jsonl").read_bytes().splitlines()
    firm = company.build(12, seed=5)
    assert lines == [v for _, v in company.responses(firm, 200, end=END, seed=5)]
    assert "200 responses" in capsys.readouterr().out
