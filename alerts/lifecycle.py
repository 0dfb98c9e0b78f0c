"""The closed loop: an alert's states, the moves between them, and its deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.errors import Refusal
from app.core.events import AlertState, Severity
from app.core.i18n import N_

# Forward moves may skip steps (a manager who calls at once resolves an open alert); a resolved
# or closed alert can be reopened.
MOVES: dict[AlertState, frozenset[AlertState]] = {
    AlertState.OPEN: frozenset(
        {AlertState.ACKNOWLEDGED, AlertState.IN_PROGRESS, AlertState.RESOLVED}
    ),
    AlertState.ACKNOWLEDGED: frozenset({AlertState.IN_PROGRESS, AlertState.RESOLVED}),
    AlertState.IN_PROGRESS: frozenset({AlertState.RESOLVED}),
    AlertState.RESOLVED: frozenset({AlertState.CLOSED, AlertState.OPEN}),
    AlertState.CLOSED: frozenset({AlertState.OPEN}),
}


class InvalidTransition(Refusal):
    """A move the closed loop does not allow, or one missing what it needs."""


def check_move(
    current: AlertState,
    to: AlertState,
    *,
    note: str | None,
    root_cause: str | None,
    root_causes: list[str],
) -> None:
    if to not in MOVES[current]:
        allowed = ", ".join(sorted(MOVES[current])) or "none"
        raise InvalidTransition(
            N_("to: cannot go from {current} to {to}; from {current}: {allowed}"),
            current=current.value,
            to=to.value,
            allowed=allowed,
        )
    if to is AlertState.RESOLVED:
        if not note or not note.strip():
            raise InvalidTransition(N_("note: say how it was resolved"))
        if root_cause not in root_causes:
            raise InvalidTransition(
                N_("root_cause: one of {causes}"), causes=", ".join(root_causes)
            )


def acknowledged(state: AlertState) -> bool:
    return state is not AlertState.OPEN


def deadlines(
    severity: Severity,
    created_at: datetime,
    ack_minutes: dict[str, int],
    resolve_hours: dict[str, int],
) -> tuple[datetime | None, datetime | None]:
    """When the alert must be acknowledged and resolved; None where its severity has no SLA."""
    ack = ack_minutes.get(severity.value)
    resolve = resolve_hours.get(severity.value)
    return (
        created_at + timedelta(minutes=ack) if ack is not None else None,
        created_at + timedelta(hours=resolve) if resolve is not None else None,
    )
