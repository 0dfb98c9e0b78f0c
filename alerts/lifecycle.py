"""The closed loop: an alert's states, the moves between them, and its deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.errors import VocError
from app.core.events import AlertState, Severity

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


class InvalidTransition(VocError):
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
        raise InvalidTransition(f"to: cannot go from {current} to {to}; from {current}: {allowed}")
    if to is AlertState.RESOLVED:
        if not note or not note.strip():
            raise InvalidTransition("note: say how it was resolved")
        if root_cause not in root_causes:
            raise InvalidTransition(f"root_cause: one of {', '.join(root_causes)}")


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
