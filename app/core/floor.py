"""The anonymity floor: which group figures a screen, an export or a push may show.

A group is what one figure covers: an id, the cells it counts (team ids for an org subtree; pairs
such as (team, period) when periods are filtered too) and its number of answers. `screen` takes
every group a reader would be shown (or could ask for: see the limits) and keeps a figure only
when showing it, alone or against another shown figure, covers no fewer than `floor` answers:

1. under the floor: a group with fewer than `floor` answers is suppressed (0 included);
2. nested difference: for shown groups B strictly inside A (B's cells a proper subset of A's),
   0 < |A| - |B| < floor would give the figure of the few answers in A but not in B: the inner
   group B is suppressed, unless only B was published already (then A is);
3. remainder: for a shown group A whose largest shown subgroups M1..Mk are pairwise disjoint,
   0 < |A| - (|M1| + ... + |Mk|) < floor would give the figure of the answers left over (the
   sibling sum A = B + C + small D): the smallest unpublished Mi is suppressed, else A, and the
   check runs again until nothing changes.

Why the inner group: it is the one closer to the floor and seen by fewer readers; the outer
figure (a site, the company) is what every level above reads and compares against.

Guaranteed, for the groups given: no shown group has fewer than `floor` answers, and no
difference of two shown groups one of which lies inside the other covers between 1 and
`floor` - 1 answers. When the shown groups nest or are disjoint (org subtrees: the roll-up case),
the remainders of rule 3 are the finest sets any sum or difference of shown figures can single
out, each empty or of at least `floor` answers: no arithmetic on the shown figures isolates fewer.

Not guaranteed:
- with overlapping filters (sales teams of a region beside the teams of a site) the shown figures
  may still combine, by inclusion-exclusion over three or more of them, into a set of fewer
  answers: choosing the fewest figures to withhold against every combination (complementary
  suppression) is a known hard problem, and is not solved here;
- groups not given: a figure shown by another screen, an earlier export or an earlier push is
  differenced against this one only if it is passed in (`published`). Screen the whole family
  a reader can reach (e.g. every subtree of the tree for a period) once, and use the one
  decision for the Team screen, roll-ups, exports and pushes;
- time: a live figure refreshed after each answer gives each answer away; treat the previous
  value as a published group (cells per time bucket), or refresh only when `may_refresh` says so.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.core.org import OrgTree

DEFAULT_FLOOR = 5


@dataclass(frozen=True, slots=True)
class Group:
    """What one figure covers: the cells it counts and its number of answers over them."""

    id: str
    cells: frozenset[Hashable]
    answers: int


class Reason(StrEnum):
    UNDER_FLOOR = "under_floor"
    NESTED_DIFFERENCE = "nested_difference"
    REMAINDER = "remainder"


@dataclass(frozen=True, slots=True)
class Suppressed:
    """Why a figure is withheld, and the shown group it would have been differenced with."""

    reason: Reason
    against: str | None = None


@dataclass(frozen=True, slots=True)
class Screening:
    floor: int
    shown: frozenset[str]
    suppressed: Mapping[str, Suppressed]

    def shows(self, group_id: str) -> bool:
        return group_id in self.shown


def may_refresh(shown_answers: int, answers: int, floor: int = DEFAULT_FLOOR) -> bool:
    """Whether a figure last shown over `shown_answers` answers may be shown again over
    `answers` (the same group, later): only when nothing changed or `floor` answers came in."""
    return answers == shown_answers or answers - shown_answers >= floor


def subtree_groups(
    tree: OrgTree, answers: Mapping[str, int], units: Iterable[str] | None = None
) -> list[Group]:
    """A group per unit of `units` (every unit by default): its subtree, with the answers stored
    at the units of that subtree (`answers` per unit, usually per team)."""
    ids = [u.id for u in tree] if units is None else list(units)
    groups = []
    for unit in ids:
        cells = tree.subtree(unit)
        if not cells:
            raise ValueError(f"{unit}: not a unit of the tree")
        groups.append(Group(unit, frozenset(cells), sum(answers.get(c, 0) for c in cells)))
    return groups


def screen(
    groups: Iterable[Group], floor: int = DEFAULT_FLOOR, *, published: Collection[str] = ()
) -> Screening:
    """Which of `groups` may be shown under the anonymity floor (see the module's rules).

    `published` names groups among `groups` the reader has already seen: when one of two
    figures must go, the other goes. ValueError when the groups contradict each other (a group
    inside another with more answers, equal cells with different answers) or `floor` < 1.
    """
    if floor < 1:
        raise ValueError(f"floor must be at least 1, got {floor}")
    by_id = _checked(groups)
    pinned = set(published) & by_id.keys()
    suppressed: dict[str, Suppressed] = {
        g.id: Suppressed(Reason.UNDER_FLOOR) for g in by_id.values() if g.answers < floor
    }
    shown = {gid for gid in by_id if gid not in suppressed}
    inside = _inside({gid: by_id[gid] for gid in shown})

    pairs = sorted(
        ((outer, inner) for outer, inners in inside.items() for inner in inners),
        key=lambda p: (by_id[p[1]].answers, p[1], by_id[p[0]].answers, p[0]),
    )
    for outer, inner in pairs:
        if outer not in shown or inner not in shown:
            continue
        if 0 < by_id[outer].answers - by_id[inner].answers < floor:
            victim, other = inner, outer
            if inner in pinned and outer not in pinned:
                victim, other = outer, inner
            shown.discard(victim)
            suppressed[victim] = Suppressed(Reason.NESTED_DIFFERENCE, other)

    changed = True
    while changed:
        changed = False
        for outer in sorted(shown):
            tops = _largest({i: by_id[i] for i in inside.get(outer, ()) if i in shown})
            if not tops or not _disjoint([by_id[t] for t in tops]):
                continue
            left = by_id[outer].answers - sum(by_id[t].answers for t in tops)
            if left < 0:
                raise ValueError(f"{outer}: fewer answers than its disjoint parts {tops}")
            if 0 < left < floor:
                free = sorted(
                    (t for t in tops if t not in pinned), key=lambda t: (by_id[t].answers, t)
                )
                victim, other = (free[0], outer) if free else (outer, tops[0])
                shown.discard(victim)
                suppressed[victim] = Suppressed(Reason.REMAINDER, other)
                changed = True
                break
    return Screening(floor, frozenset(shown), suppressed)


def _checked(groups: Iterable[Group]) -> dict[str, Group]:
    by_id: dict[str, Group] = {}
    for group in groups:
        if group.id in by_id:
            raise ValueError(f"{group.id}: given twice")
        if group.answers < 0:
            raise ValueError(f"{group.id}: {group.answers} answers")
        if not group.cells and group.answers:
            raise ValueError(f"{group.id}: answers without cells")
        by_id[group.id] = group
    inside = _inside(by_id, proper=False)
    for outer, inners in inside.items():
        for inner in inners:
            if by_id[inner].answers > by_id[outer].answers:
                raise ValueError(
                    f"{inner}: {by_id[inner].answers} answers inside {outer}, which has "
                    f"{by_id[outer].answers}"
                )
    return by_id


def _inside(groups: Mapping[str, Group], *, proper: bool = True) -> dict[str, list[str]]:
    """For each group, the groups whose cells lie inside its cells (strictly when `proper`;
    otherwise equal cells too, each of the two inside the other)."""
    holding: dict[Hashable, list[str]] = {}
    for gid, group in groups.items():
        for cell in group.cells:
            holding.setdefault(cell, []).append(gid)
    found: dict[str, list[str]] = {}
    for gid, group in groups.items():
        if not group.cells:
            continue
        # A group holding all of this one's cells holds any one of them: look only there.
        for other in holding[next(iter(group.cells))]:
            cells = groups[other].cells
            if other != gid and (group.cells < cells or (not proper and group.cells == cells)):
                found.setdefault(other, []).append(gid)
    return found


def _largest(groups: Mapping[str, Group]) -> list[str]:
    """The groups not strictly inside another of them, one per set of cells, sorted."""
    tops: dict[frozenset[Hashable], str] = {}
    for gid in sorted(groups):
        cells = groups[gid].cells
        if not any(cells < g.cells for g in groups.values()):
            tops.setdefault(cells, gid)
    return sorted(tops.values())


def _disjoint(groups: list[Group]) -> bool:
    union: set[Hashable] = set()
    for group in groups:
        if union & group.cells:
            return False
        union |= group.cells
    return True
