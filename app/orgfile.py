"""Reading an org tree from a YAML or JSON file: nested `children`, or flat with `parent`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.core.events import explain
from app.core.org import OrgUnit, TreeError


def read_units(path: Path) -> list[OrgUnit]:
    """The units the file lists (nested children after their parent); raises TreeError naming
    the problem and place.

    A unit may name a parent the file does not list: one stored before. Whether the units make
    a tree with those is for `directory.save_units` to say.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise TreeError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from exc
    if isinstance(data, dict) and "units" in data:
        data = data["units"]
    if not isinstance(data, list):
        raise TreeError(f"{path}: expected a list of units (or {{units: [...]}})")
    units: list[OrgUnit] = []
    _flatten(data, None, units, path, "units")
    return units


def _flatten(
    items: list[Any], parent: str | None, out: list[OrgUnit], path: Path, where: str
) -> None:
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise TreeError(f"{path}: {here}: expected a mapping with id and name")
        fields = {k: v for k, v in item.items() if k != "children"}
        if parent is not None:
            fields.setdefault("parent", parent)
        try:
            unit = OrgUnit.model_validate(fields)
        except ValidationError as exc:
            raise TreeError(f"{path}: {here}: {explain(exc, whole='unit')}") from exc
        out.append(unit)
        children = item.get("children") or []
        if not isinstance(children, list):
            raise TreeError(f"{path}: {here}.children: expected a list")
        _flatten(children, unit.id, out, path, f"{here}.children")
