"""Who may see what: roles, the units a caller watches, and how a request's units are checked.

Pure rules, no I/O: the API layer resolves a caller to a `Principal` and asks here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.core.errors import Refusal, VocError
from app.core.i18n import N_
from app.core.org import OrgTree


class Role(StrEnum):
    FRONTLINE = "frontline"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """A signed-in user. Every role sees the units it is given and everything below them;
    admins see the whole tree. Roles differ in what they may do, not in how far down they see."""

    user_id: int
    username: str
    role: Role
    units: tuple[str, ...]

    @property
    def sees_everything(self) -> bool:
        return self.role is Role.ADMIN

    def visible(self, tree: OrgTree) -> frozenset[str] | None:
        """The units this caller may read; None: all, including units created later."""
        return None if self.sees_everything else tree.covering(self.units)

    def reads_alerts(self, frontline_callbacks: bool) -> bool:
        """Managers and admins work alerts; frontline staff follow their units' customer
        callbacks where they take them (VOC_FRONTLINE_CALLBACKS)."""
        return self.role is not Role.FRONTLINE or frontline_callbacks

    def may_reveal_contact(self, dissatisfied: bool) -> bool:
        """Managers see contact details on the dissatisfied responses they must call back."""
        return dissatisfied and self.role in {Role.MANAGER, Role.ADMIN}


class OutOfScope(Refusal):
    """The caller asked for units it may not see (none: the caller has no units at all);
    nothing is returned for any of them."""

    def __init__(self, field: str, units: Iterable[str]) -> None:
        self.units = sorted(units)
        if not self.units:
            super().__init__(
                N_("{field}: outside your units: none given to you; ask an admin for your units"),
                field=field,
            )
        else:
            listed = ", ".join(self.units)
            super().__init__(N_("{field}: outside your units: {units}"), field=field, units=listed)


class UnknownUnits(Refusal):
    """An admin asked for units that are not in the tree."""

    def __init__(self, field: str, units: Iterable[str]) -> None:
        self.units = sorted(units)
        listed = ", ".join(self.units)
        super().__init__(N_("{field}: unknown org units: {units}"), field=field, units=listed)


def resolve_units(
    requested: Iterable[str],
    *,
    tree: OrgTree,
    visible: frozenset[str] | None,
    field: str = "org_unit",
) -> frozenset[str] | None:
    """The units a read covers: the requested ones with everything below them (roll-up).

    None means no unit filter (an admin asking for everything). Asking for a unit outside the
    caller's scope raises OutOfScope: a request is refused, never silently narrowed or widened.
    For a scoped caller an unknown unit is just out of scope, so refusals do not reveal which
    units exist.
    """
    wanted = set(requested)
    if visible is not None and not visible:
        raise OutOfScope(field, wanted)
    if not wanted:
        return visible
    if visible is None:
        unknown = {u for u in wanted if u not in tree}
        if unknown:
            raise UnknownUnits(field, unknown)
    else:
        refused = wanted - visible
        if refused:
            raise OutOfScope(field, refused)
    return tree.covering(wanted)


class InvalidAssignment(VocError):
    """Units given to a user or key that cannot work: unknown, or none for a scoped role."""


def check_assignment(role: Role | None, units: Iterable[str], tree: OrgTree) -> None:
    """`role` None: an integrator key, which may have no units (then: all of them)."""
    given = list(units)
    unknown = sorted(u for u in given if u not in tree)
    if unknown:
        raise InvalidAssignment(f"org_units: unknown org units: {', '.join(unknown)}")
    if role in {Role.FRONTLINE, Role.MANAGER} and not given:
        raise InvalidAssignment(f"org_units: a {role.value} needs at least one org unit")
