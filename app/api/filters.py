"""The feed's filters as query parameters (GET /responses and its export): read and checked once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from app.api.deps import PrincipalDep, RuntimeDep
from app.api.errors import Code, Refused
from app.api.scope import OrgUnits, Touchpoints, normalised, scope_of
from app.core.events import Channel, ScoreKind
from app.core.i18n import N_
from app.db import search, store

SearchText = Annotated[
    str | None,
    Query(
        description="Words the comment must all hold, accents and case aside (PostgreSQL also "
        "matches other forms of a word in the comment's language: `livraisons` finds "
        "`livraison`). Empty or blank: no search. Over "
        f"{search.MAX_QUERY_CHARS} characters, or without a letter or digit: 422.",
        max_length=search.MAX_QUERY_CHARS,
    ),
]
Theme = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z0-9-]+$",
        description="A theme's id: comments naming it (or a theme below it).",
    ),
]
# The query parameters `response_filter` reads, as an export's audit entry records them.
NAMES = ("org_unit", "touchpoint", "channel", "score_kind", "flagged", "since", "q", "theme")


async def response_filter(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: OrgUnits = (),
    touchpoint: Touchpoints = (),
    channel: Channel | None = None,
    score_kind: ScoreKind | None = None,
    flagged: bool | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Submitted at or after.")] = None,
    q: SearchText = None,
    theme: Theme = None,
) -> store.ResponseFilter:
    """The responses asked for, within the caller's units: 422 for a search without a word,
    403 (OutOfScope) for units the caller may not see."""
    text = q.strip() if q is not None and q.strip() else None
    if text is not None and not search.words(text):
        raise Refused(422, Code.INVALID_INPUT, N_("q: no word to search for (letters or digits)"))
    return store.ResponseFilter(
        org_units=await scope_of(runtime, principal, org_unit),
        touchpoints=normalised(touchpoint),
        channel=channel,
        flagged=flagged,
        since=since,
        score_kind=score_kind,
        text=text,
        theme=theme,
    )


ResponseFilterDep = Annotated[store.ResponseFilter, Depends(response_filter)]
