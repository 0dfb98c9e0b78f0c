"""The anonymity floor: figures under it, and differences of shown figures under it, are hidden."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.floor import (
    Group,
    Reason,
    Screening,
    Suppressed,
    may_refresh,
    screen,
    subtree_groups,
)
from app.core.org import OrgTree, OrgUnit, UnitKind


def group(gid: str, cells: str | Iterable[Hashable], answers: int) -> Group:
    return Group(gid, frozenset(cells.split() if isinstance(cells, str) else cells), answers)


def test_a_group_under_the_floor_is_hidden_and_one_at_it_is_shown() -> None:
    result = screen([group("a", "t1", 4), group("b", "t2", 5), group("c", "t3", 0)])
    assert result.shown == {"b"}
    assert result.suppressed["a"].reason is Reason.UNDER_FLOOR
    assert result.suppressed["c"].reason is Reason.UNDER_FLOOR


def test_the_floor_is_a_setting() -> None:
    groups = [group("a", "t1", 4), group("b", "t2", 9)]
    assert screen(groups, floor=3).shown == {"a", "b"}
    assert screen(groups, floor=10).shown == set()
    with pytest.raises(ValueError, match="floor"):
        screen(groups, floor=0)


def test_a_nested_difference_under_the_floor_hides_the_inner_group() -> None:
    # The site's 12 answers minus the team's 9 would give the other 3 answers.
    result = screen([group("site", "t1 t2", 12), group("team", "t1", 9)])
    assert result.shown == {"site"}
    assert result.suppressed["team"].reason is Reason.NESTED_DIFFERENCE
    assert result.suppressed["team"].against == "site"


def test_a_nested_difference_of_zero_or_at_the_floor_shows_both() -> None:
    groups = [group("site", "t1 t2", 14), group("team", "t1", 9), group("same", "t1 t3", 9)]
    assert screen(groups).shown == {"site", "team", "same"}


def test_a_figure_already_published_stays_and_the_other_goes() -> None:
    groups = [group("site", "t1 t2", 12), group("team", "t1", 9)]
    result = screen(groups, published={"team"})
    assert result.shown == {"team"}
    assert result.suppressed["site"] == Suppressed(Reason.NESTED_DIFFERENCE, "team")


def test_a_sibling_sum_leaving_a_few_answers_hides_a_sibling() -> None:
    # site = t1 + t2 + t3, t3 under the floor: site - t1 - t2 would give t3's 2 answers, while
    # no pair of shown figures nests with a small difference.
    groups = [
        group("site", "t1 t2 t3", 20),
        group("t1", "t1", 10),
        group("t2", "t2", 8),
        group("t3", "t3", 2),
    ]
    result = screen(groups)
    assert result.suppressed["t3"].reason is Reason.UNDER_FLOOR
    assert result.suppressed["t2"] == Suppressed(Reason.REMAINDER, "site")
    assert result.shown == {"site", "t1"}
    assert_no_small_difference(result, groups)


def test_a_remainder_with_every_part_published_hides_the_whole() -> None:
    groups = [group("site", "t1 t2 t3", 20), group("t1", "t1", 10), group("t2", "t2", 8)]
    result = screen(groups, published={"t1", "t2"})
    assert result.shown == {"t1", "t2"}
    assert result.suppressed["site"].reason is Reason.REMAINDER


def test_a_combination_of_filters_is_screened_like_any_group() -> None:
    # Cells are (team, period): the site this quarter, the site in March, sales teams this
    # quarter and sales teams in March. "Sales in March" nests in all three others.
    quarter = {(team, month) for team in ("s1", "s2", "ops") for month in ("jan", "feb", "mar")}
    sales = {(t, m) for t, m in quarter if t != "ops"}
    march = {(t, m) for t, m in quarter if m == "mar"}
    groups = [
        group("site-quarter", quarter, 40),
        group("site-march", march, 15),
        group("sales-quarter", sales, 30),
        group("sales-march", sales & march, 12),
    ]
    result = screen(groups)
    # site-march - sales-march = 3 answers of ops in March: the inner filter goes.
    assert result.suppressed["sales-march"] == Suppressed(Reason.NESTED_DIFFERENCE, "site-march")
    assert result.shown == {"site-quarter", "site-march", "sales-quarter"}
    assert_no_small_difference(result, groups)


def test_groups_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(ValueError, match="inside site"):
        screen([group("site", "t1 t2", 5), group("team", "t1", 6)])
    with pytest.raises(ValueError, match="given twice"):
        screen([group("a", "t1", 5), group("a", "t2", 6)])
    with pytest.raises(ValueError, match="inside"):
        screen([group("a", "t1", 5), group("b", "t1", 6)])


def test_a_live_figure_is_refreshed_only_when_a_floor_of_answers_came_in() -> None:
    assert may_refresh(7, 7)
    assert not may_refresh(7, 8)
    assert not may_refresh(7, 11)
    assert may_refresh(7, 12)


def tree(parents: list[int]) -> OrgTree:
    """Unit i's parent is unit parents[i - 1] (always an earlier unit); unit 0 is the root."""
    units = [OrgUnit(id="u0", name="u0", kind=UnitKind.COMPANY)]
    units += [
        OrgUnit(id=f"u{i}", name=f"u{i}", parent=f"u{p % i}")
        for i, p in enumerate(parents, start=1)
    ]
    return OrgTree(units)


def test_org_roll_ups_are_screened_from_subtree_groups() -> None:
    # company > region r1 (teams t1, t2) and region r2 (team t3).
    org = OrgTree(
        [
            OrgUnit(id="co", name="Co", kind=UnitKind.COMPANY),
            OrgUnit(id="r1", name="R1", kind=UnitKind.REGION, parent="co"),
            OrgUnit(id="r2", name="R2", kind=UnitKind.REGION, parent="co"),
            OrgUnit(id="t1", name="T1", kind=UnitKind.TEAM, parent="r1"),
            OrgUnit(id="t2", name="T2", kind=UnitKind.TEAM, parent="r1"),
            OrgUnit(id="t3", name="T3", kind=UnitKind.TEAM, parent="r2"),
        ]
    )
    groups = subtree_groups(org, {"t1": 8, "t2": 6, "t3": 3})
    assert {g.id: g.answers for g in groups} == {
        "co": 17,
        "r1": 14,
        "r2": 3,
        "t1": 8,
        "t2": 6,
        "t3": 3,
    }
    result = screen(groups)
    # r2 is under the floor; co - r1 = 3 would give it: r1 goes, and with it the sum t1 + t2
    # must not stand for r1 inside co either (17 - 8 - 6 = 3): t2 goes.
    assert result.shown == {"co", "t1"}
    assert_no_small_difference(result, groups)
    assert_no_small_remainder(result, groups)


def assert_no_small_difference(result: Screening, groups: list[Group]) -> None:
    shown = [g for g in groups if g.id in result.shown]
    floor = result.floor
    for a in shown:
        assert a.answers >= floor, a
        for b in shown:
            if b.cells < a.cells:
                assert not 0 < a.answers - b.answers < floor, (a, b)
    assert {g.id for g in groups} == result.shown | result.suppressed.keys()
    assert not result.shown & result.suppressed.keys()


def assert_no_small_remainder(result: Screening, groups: list[Group]) -> None:
    """For nested or disjoint groups: what a shown group holds beyond its largest shown
    subgroups (the finest set any arithmetic on shown figures singles out) is 0 or >= floor."""
    shown = [g for g in groups if g.id in result.shown]
    for a in shown:
        inner = [b for b in shown if b.cells < a.cells]
        tops = [b for b in inner if not any(b.cells < c.cells for c in inner)]
        left = a.answers - sum(b.answers for b in tops)
        assert not 0 < left < result.floor, (a, tops)


@settings(max_examples=300, deadline=None)
@given(
    parents=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=25),
    answers=st.lists(st.integers(min_value=0, max_value=12), min_size=26, max_size=26),
    floor=st.integers(min_value=1, max_value=8),
    filters=st.lists(st.sets(st.integers(min_value=0, max_value=25), min_size=1), max_size=4),
)
def test_random_trees_and_filters_show_no_figure_or_nested_difference_under_the_floor(
    parents: list[int], answers: list[int], floor: int, filters: list[set[int]]
) -> None:
    org = tree(parents)
    counts = {f"u{i}": answers[i] for i in range(len(org))}
    roll_ups = subtree_groups(org, counts)
    result = screen(roll_ups, floor)
    assert_no_small_difference(result, roll_ups)
    assert_no_small_remainder(result, roll_ups)

    # Filters pick any units: the groups overlap and only the nested guarantee holds.
    picked = [
        Group(
            f"filter-{n}",
            frozenset(cells := {f"u{i}" for i in chosen if i < len(org)}),
            sum(counts[c] for c in cells),
        )
        for n, chosen in enumerate(filters)
    ]
    mixed = roll_ups + picked
    assert_no_small_difference(screen(mixed, floor), mixed)
