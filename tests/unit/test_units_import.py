"""`voc units import`: a file's units are checked as one tree with the units stored before."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app import directory_cli
from app.core.settings import Settings
from app.db import directory, store

REGIONS = (
    "- {id: acme, name: Acme, kind: company}\n"
    "- {id: south, name: South, kind: region, parent: acme}\n"
)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'voc.db'}"


def _import(database: str, path: Path, text: str) -> None:
    path.write_text(text)
    args = argparse.Namespace(command="units", action="import", file=path)
    directory_cli.run(Settings(database_url=database), args)


def _tree_ids(database: str) -> dict[str, str | None]:
    engine = store.make_engine(database)
    try:
        return {u.id: u.parent for u in directory.load_tree(engine)}
    finally:
        engine.dispose()


def test_a_flat_file_may_name_a_parent_imported_before(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(database, tmp_path / "regions.yaml", REGIONS)
    _import(
        database, tmp_path / "store.yaml", "- {id: grenoble-13, name: Grenoble 13, parent: south}\n"
    )
    assert capsys.readouterr().out.splitlines()[-1] == "1 units saved; the tree has 3"
    assert _tree_ids(database) == {"acme": None, "south": "acme", "grenoble-13": "south"}


def test_a_flat_file_may_list_a_unit_before_its_parent(database: str, tmp_path: Path) -> None:
    _import(database, tmp_path / "regions.yaml", REGIONS)
    _import(
        database,
        tmp_path / "stores.json",
        '[{"id": "lyon-02", "name": "Lyon 2", "parent": "centre"},'
        ' {"id": "centre", "name": "Centre", "kind": "region", "parent": "acme"}]',
    )
    assert _tree_ids(database)["lyon-02"] == "centre"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- {id: grenoble-13, name: G, parent: west}\n",
            "grenoble-13: parent 'west' is not a known unit",
        ),
        (
            "- {id: x, name: X, parent: south}\n- {id: x, name: X2, parent: south}\n",
            "x: listed twice",
        ),
        ("- {id: acme, name: Acme, kind: company, parent: south}\n", "loop back"),
    ],
    ids=["unknown-parent", "listed-twice", "loop"],
)
def test_units_that_do_not_make_a_tree_with_the_stored_ones_are_refused_and_nothing_is_saved(
    database: str, tmp_path: Path, text: str, message: str
) -> None:
    _import(database, tmp_path / "regions.yaml", REGIONS)
    path = tmp_path / "bad.yaml"
    with pytest.raises(SystemExit, match=message) as refused:
        _import(database, path, text)
    assert str(refused.value).startswith(f"{path}: ")
    assert _tree_ids(database) == {"acme": None, "south": "acme"}
