"""Scope rules: what each role may read, and how requests for units are checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.access import (
    InvalidAssignment,
    OutOfScope,
    Principal,
    Role,
    UnknownUnits,
    check_assignment,
    resolve_units,
)
from app.core.events import (
    Assessment,
    Channel,
    Contact,
    CustomerType,
    ResponseView,
    ScoreKind,
    Severity,
    SurveyResponse,
)
from app.core.org import OrgTree, OrgUnit

TREE = OrgTree(
    [
        OrgUnit(id="acme", name="Acme"),
        OrgUnit(id="north", name="North", parent="acme"),
        OrgUnit(id="store-1", name="Store 1", parent="north"),
        OrgUnit(id="team-1a", name="Team 1a", parent="store-1"),
        OrgUnit(id="south", name="South", parent="acme"),
    ]
)


def who(role: Role, *units: str) -> Principal:
    return Principal(user_id=1, username="u", role=role, units=units)


def test_a_user_sees_their_units_and_below_an_admin_everything() -> None:
    assert who(Role.FRONTLINE, "store-1").visible(TREE) == {"store-1", "team-1a"}
    assert who(Role.MANAGER, "north", "south").visible(TREE) == {
        "north",
        "store-1",
        "team-1a",
        "south",
    }
    assert who(Role.ADMIN).visible(TREE) is None


def test_no_units_asked_means_all_the_callers_units() -> None:
    staff = who(Role.FRONTLINE, "store-1")
    assert resolve_units([], tree=TREE, visible=staff.visible(TREE)) == {"store-1", "team-1a"}
    assert resolve_units([], tree=TREE, visible=None) is None


def test_a_unit_asked_for_brings_the_units_below_it() -> None:
    manager = who(Role.MANAGER, "north")
    covered = resolve_units(["store-1"], tree=TREE, visible=manager.visible(TREE))
    assert covered == {"store-1", "team-1a"}


@pytest.mark.parametrize("asked", [["south"], ["store-1", "south"], ["acme"], ["nowhere"]])
def test_asking_outside_scope_is_refused_whole(asked: list[str]) -> None:
    manager = who(Role.MANAGER, "north")
    with pytest.raises(OutOfScope) as refused:
        resolve_units(asked, tree=TREE, visible=manager.visible(TREE))
    assert refused.value.units == sorted(set(asked) - {"store-1"})


def test_a_user_without_units_sees_nothing_rather_than_everything() -> None:
    with pytest.raises(OutOfScope, match="ask an admin"):
        resolve_units([], tree=TREE, visible=who(Role.FRONTLINE).visible(TREE))


def test_an_admin_asking_for_an_unknown_unit_is_told_it_is_unknown() -> None:
    with pytest.raises(UnknownUnits, match="unknown org units: nowhere"):
        resolve_units(["nowhere"], tree=TREE, visible=None)


@pytest.mark.parametrize(
    ("role", "units", "message"),
    [
        (Role.FRONTLINE, [], "a frontline needs at least one org unit"),
        (Role.MANAGER, ["north", "atlantis"], "unknown org units: atlantis"),
        (None, ["atlantis"], "unknown org units: atlantis"),
    ],
)
def test_assignments_that_cannot_work_are_refused(
    role: Role | None, units: list[str], message: str
) -> None:
    with pytest.raises(InvalidAssignment, match=message):
        check_assignment(role, units, TREE)


def test_admins_and_unlimited_keys_need_no_units() -> None:
    check_assignment(Role.ADMIN, [], TREE)
    check_assignment(None, [], TREE)


def test_only_managers_and_admins_see_contacts_and_only_of_dissatisfied_customers() -> None:
    assert who(Role.MANAGER, "north").may_reveal_contact(dissatisfied=True)
    assert not who(Role.MANAGER, "north").may_reveal_contact(dissatisfied=False)
    assert not who(Role.FRONTLINE, "store-1").may_reveal_contact(dissatisfied=True)


def test_a_masked_view_keeps_nothing_that_identifies_the_customer() -> None:
    response = SurveyResponse(
        response_id="r-1",
        survey_id="nps",
        submitted_at=datetime.now(UTC),
        score_kind=ScoreKind.NPS,
        score=2,
        channel=Channel.WEB,
        touchpoint="delivery",
        org_unit="store-1",
        customer_type=CustomerType.PERSON,
        customer_ref="crm-000981",
        contact=Contact(
            name="Jeanne Martin", email="jeanne.martin@example.com", phone="0612345678"
        ),
    )
    assessment = Assessment(polarity=-0.5, dissatisfied=True, severity=Severity.HIGH)
    view = ResponseView.of(response, assessment, datetime.now(UTC))
    assert view.contact_masked
    assert view.contact == Contact.model_construct(
        name="J•••", email="j•••@example.com", phone="•••78"
    )
    assert view.customer_ref == "•••981"
    text = view.model_dump_json()
    for secret in ("Jeanne", "Martin", "jeanne.martin", "0612345678", "crm-000981"):
        assert secret not in text
    assert view.masked() is view
