"""The org tree: a tree it must stay, subtrees for scoping, and the file format admins write."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.org import OrgTree, OrgUnit, TreeError, UnitKind
from app.orgfile import read_units


def unit(id: str, parent: str | None = None, kind: UnitKind = UnitKind.SITE) -> OrgUnit:
    return OrgUnit(id=id, name=id.title(), parent=parent, kind=kind)


TREE = OrgTree(
    [
        unit("store-2", "north"),
        unit("acme", kind=UnitKind.COMPANY),
        unit("north", "acme", UnitKind.REGION),
        unit("store-1", "north"),
        unit("team-1a", "store-1", UnitKind.TEAM),
        unit("south", "acme", UnitKind.REGION),
    ]
)


def test_a_subtree_holds_the_unit_and_everything_below_it() -> None:
    assert TREE.subtree("north") == {"north", "store-1", "team-1a", "store-2"}
    assert TREE.subtree("team-1a") == {"team-1a"}
    assert TREE.subtree("nowhere") == frozenset()
    assert TREE.covering(["store-1", "south"]) == {"store-1", "team-1a", "south"}


def test_ancestors_run_from_the_parent_to_the_root() -> None:
    assert TREE.ancestors("team-1a") == ["store-1", "north", "acme"]
    assert TREE.ancestors("acme") == []


def test_iteration_lists_parents_before_children() -> None:
    order = [u.id for u in TREE]
    assert order == ["acme", "north", "store-1", "team-1a", "store-2", "south"]


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ([unit("a"), unit("a")], "a: listed twice"),
        ([unit("a", "b")], "a: parent 'b' is not a known unit"),
        ([unit("a", "b"), unit("b", "a")], "its parents loop back"),
        ([unit("a", "a")], "its parents loop back"),
    ],
)
def test_what_is_not_a_tree_is_refused_naming_the_unit(units: list[OrgUnit], message: str) -> None:
    with pytest.raises(TreeError, match=message):
        OrgTree(units)


def test_moving_a_unit_under_its_own_child_is_refused() -> None:
    with pytest.raises(TreeError, match="loop"):
        TREE.with_unit(unit("north", "team-1a"))
    assert TREE.with_unit(unit("store-2", "south")).subtree("south") == {"south", "store-2"}


def test_a_unit_with_units_below_it_cannot_be_removed() -> None:
    with pytest.raises(TreeError, match="has units below it"):
        TREE.without("store-1")
    assert "team-1a" not in TREE.without("team-1a")


def test_a_tree_file_may_nest_children_or_name_parents(tmp_path: Path) -> None:
    nested = tmp_path / "tree.yaml"
    nested.write_text(
        "- id: Acme\n  name: Acme\n  kind: company\n  children:\n"
        "    - {id: north, name: North, kind: region, children: [{id: s1, name: S1}]}\n"
    )
    flat = tmp_path / "tree.json"
    flat.write_text(
        '{"units": [{"id": "acme", "name": "Acme", "kind": "company"},'
        ' {"id": "north", "name": "North", "kind": "region", "parent": "acme"},'
        ' {"id": "s1", "name": "S1", "parent": "north"}]}'
    )
    assert read_units(nested) == read_units(flat)
    assert OrgTree(read_units(nested)).ancestors("s1") == ["north", "acme"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- id: a\n  name: A\n  colour: red\n", r"units\[0\]: colour: unknown field"),
        (
            "- {id: a, name: A, children: [{name: B}]}\n",
            r"units\[0\].children\[0\]: id: Field required",
        ),
        ("units: 3\n", "expected a list of units"),
        ("- [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_tree_file_is_refused_saying_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tree.yaml"
    path.write_text(text)
    with pytest.raises(TreeError, match=message):
        read_units(path)
