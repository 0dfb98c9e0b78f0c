"""The org tree (company → region → store → team): the spine of scoping and barometer roll-ups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.core.events import Slug


class UnitKind(StrEnum):
    COMPANY = "company"
    REGION = "region"
    SITE = "site"
    TEAM = "team"


class OrgUnit(BaseModel):
    """One node of the tree; `parent` None for a root (usually the company)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind = UnitKind.SITE
    parent: Slug | None = None


class TreeError(ValueError):
    """The units given do not form a tree; the message names the unit at fault."""


class OrgTree:
    """An immutable, validated forest of org units with subtree and ancestor look-ups.

    `version` is the stored tree's: it grows whenever units are added, moved or removed, so
    roll-ups counted for one tree are never written for another (see app/db/aggregates.py).
    """

    def __init__(self, units: Iterable[OrgUnit] = (), version: int = 0) -> None:
        self.version = version
        self._units: dict[str, OrgUnit] = {}
        for unit in units:
            if unit.id in self._units:
                raise TreeError(f"{unit.id}: listed twice")
            self._units[unit.id] = unit
        self._children: dict[str | None, list[str]] = {}
        for unit in self._units.values():
            if unit.parent is not None and unit.parent not in self._units:
                raise TreeError(f"{unit.id}: parent {unit.parent!r} is not a known unit")
            self._children.setdefault(unit.parent, []).append(unit.id)
        for ids in self._children.values():
            ids.sort()
        for unit_id in self._units:
            self._check_acyclic(unit_id)
        self._rolled_into: dict[str, tuple[str, ...]] = {}

    def _check_acyclic(self, unit_id: str) -> None:
        seen = {unit_id}
        parent = self._units[unit_id].parent
        while parent is not None:
            if parent in seen:
                raise TreeError(f"{unit_id}: its parents loop back to {parent!r}")
            seen.add(parent)
            parent = self._units[parent].parent

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[OrgUnit]:
        """Parents before children, siblings by id."""
        stack = list(reversed(self._children.get(None, [])))
        while stack:
            unit_id = stack.pop()
            yield self._units[unit_id]
            stack.extend(reversed(self._children.get(unit_id, [])))

    def get(self, unit_id: str) -> OrgUnit | None:
        return self._units.get(unit_id)

    def children(self, unit_id: str) -> list[str]:
        return list(self._children.get(unit_id, []))

    def subtree(self, unit_id: str) -> frozenset[str]:
        """The unit and every unit below it; empty for an unknown unit."""
        if unit_id not in self._units:
            return frozenset()
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self._children.get(current, []))
        return frozenset(found)

    def ancestors(self, unit_id: str) -> list[str]:
        """From the parent up to the root."""
        chain = []
        unit = self._units.get(unit_id)
        while unit is not None and unit.parent is not None:
            chain.append(unit.parent)
            unit = self._units.get(unit.parent)
        return chain

    def is_leaf(self, unit_id: str) -> bool:
        return not self._children.get(unit_id)

    def rolled_into(self, unit_id: str) -> tuple[str, ...]:
        """The units whose roll-ups count a response of `unit_id`: its ancestors, and itself
        when units sit below it (a leaf's own counts are its roll-up). Kept per unit: the
        tree does not change, and every stored response asks."""
        found = self._rolled_into.get(unit_id)
        if found is None:
            own = () if self.is_leaf(unit_id) else (unit_id,)
            found = self._rolled_into[unit_id] = (*own, *self.ancestors(unit_id))
        return found

    def tops(self, unit_ids: Iterable[str] | None) -> list[str]:
        """The fewest units whose subtrees hold exactly the subtrees of `unit_ids` (None: the
        roots), sorted: a set of units covered by a read is the sum of its tops' roll-ups."""
        if unit_ids is None:
            return list(self._children.get(None, []))
        given = {u for u in unit_ids if u in self._units}
        return sorted(u for u in given if not set(self.ancestors(u)) & given)

    def structure(self) -> frozenset[tuple[str, str | None]]:
        """Each unit with its parent: what roll-ups depend on (names and kinds do not)."""
        return frozenset((u.id, u.parent) for u in self._units.values())

    def covering(self, unit_ids: Iterable[str]) -> frozenset[str]:
        """Every unit in the subtrees of `unit_ids`."""
        return frozenset().union(*(self.subtree(u) for u in unit_ids))

    def with_unit(self, unit: OrgUnit) -> OrgTree:
        """A new tree with `unit` added or replaced; raises TreeError if that breaks the tree."""
        return OrgTree([*(u for u in self._units.values() if u.id != unit.id), unit])

    def without(self, unit_id: str) -> OrgTree:
        if self._children.get(unit_id):
            raise TreeError(f"{unit_id}: has units below it; move or delete them first")
        return OrgTree(u for u in self._units.values() if u.id != unit_id)
