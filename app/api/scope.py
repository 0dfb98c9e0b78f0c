"""What a read covers: the query parameters naming units and touchpoints, checked against what
the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Query
from starlette.concurrency import run_in_threadpool

from app.api.deps import RuntimeDep
from app.core.access import Principal, resolve_units

OrgUnits = Annotated[
    Sequence[str],
    Query(
        description="Repeatable; each with every unit below it. None: all of the caller's units.",
        max_length=200,
    ),
]
Touchpoints = Annotated[
    Sequence[str], Query(description="Repeatable; none: every touchpoint.", max_length=50)
]


def normalised(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip().lower() for v in values if v.strip()}))


async def scope_of(
    runtime: RuntimeDep, principal: Principal, requested: Sequence[str]
) -> tuple[str, ...]:
    """The units a read covers (empty: all); raises OutOfScope for units the caller may not see."""
    tree = await run_in_threadpool(runtime.units.get)
    covered = resolve_units(normalised(requested), tree=tree, visible=principal.visible(tree))
    return () if covered is None else tuple(sorted(covered))
