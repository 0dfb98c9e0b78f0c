"""Themes API: what customers talk about in a scope, the taxonomy that names the themes, and
its replacement by an admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import AdminDep, PrincipalDep, RuntimeDep, client_address
from app.api.errors import SIGNED_IN, Code, Refused, documented
from app.api.live import label_of, named_units
from app.api.scope import OrgUnits, Touchpoints, normalised, scope_of
from app.core.emerging import Emerging
from app.core.theme_board import Period, ThemeBoard, ThemeJourney
from app.db import directory, phrases, rollups, taxonomy
from sentiment.themes import TaxonomyError, Themes, fold

router = APIRouter(
    prefix="/api/v1/themes",
    tags=["themes"],
    responses={**SIGNED_IN, **documented(_404="Unknown units (admins).")},
)


@router.get("")
async def get_themes(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: OrgUnits = (),
    touchpoint: Touchpoints = (),
    period: Period = Period.WEEK,
) -> ThemeBoard:
    """Each theme customers name in the units' comments over `period`: its volume and share of
    the comments read, its tone, the NPS of the responses naming it and its impact on the
    scope's NPS (NPS of all responses minus NPS of the responses not naming it: negative when
    the theme costs points), with the period before beside it (`today`: yesterday; `7d` and
    `28d`: the as many days before). Summed from aggregate rows, like the barometers."""
    org_units, touchpoints = await scope_of(runtime, principal, org_unit), normalised(touchpoint)
    label = label_of(named_units(principal, normalised(org_unit)))

    def compute() -> ThemeBoard:
        return rollups.theme_board(
            runtime.engine,
            runtime.units.get(),
            ZoneInfo(runtime.settings.timezone),
            covered=org_units,
            touchpoints=touchpoints,
            label=label,
            period=period,
            now=datetime.now(UTC),
        )

    return await run_in_threadpool(compute)


@router.get("/journey")
async def get_theme_journey(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    theme: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")],
    org_unit: OrgUnits = (),
    period: Period = Period.WEEK,
) -> ThemeJourney:
    """One theme along the journey (VOC_JOURNEY's touchpoints in order): at each touchpoint, the
    comments naming it, their tone, and its impact on that touchpoint's NPS, so the cockpit
    shows where customers meet it."""
    org_units = await scope_of(runtime, principal, org_unit)
    label = label_of(named_units(principal, normalised(org_unit)))

    def compute() -> ThemeJourney:
        return rollups.theme_journey(
            runtime.engine,
            runtime.units.get(),
            ZoneInfo(runtime.settings.timezone),
            covered=org_units,
            steps=runtime.settings.journey,
            theme=theme,
            label=label,
            period=period,
            now=datetime.now(UTC),
        )

    return await run_in_threadpool(compute)


class TaxonomyTheme(BaseModel):
    id: str
    names: dict[str, str] = Field(description="By language; show `en` when yours is missing.")
    parent: str | None = Field(description="A theme's comments count for its parent's too.")


class Taxonomy(BaseModel):
    version: int
    themes: list[TaxonomyTheme] = Field(description="In the taxonomy file's order.")


@router.get("/taxonomy")
async def get_taxonomy(runtime: RuntimeDep, _: PrincipalDep) -> Taxonomy:
    """The themes comments are sorted into, with their names in each language: what a page
    shows for a theme id."""
    themes = (await run_in_threadpool(runtime.taxonomy.get)).themes
    return Taxonomy(
        version=themes.version,
        themes=[
            TaxonomyTheme(id=t.id, names=dict(t.names), parent=t.parent) for t in themes.themes
        ],
    )


admin_router = APIRouter(
    prefix="/api/v1/admin/themes",
    tags=["admin"],
    responses={
        **SIGNED_IN,
        **documented(_403="Admins only.", _422="A taxonomy that cannot be used: named."),
    },
)


class TaxonomyDocument(BaseModel):
    version: int
    source: str = Field(description="`file` (VOC_THEMES_FILE or the shipped one) or `stored`.")
    document: dict[str, Any] = Field(description="As docs/themes.md describes the file.")


def _document(current: taxonomy.Taxonomy) -> TaxonomyDocument:
    return TaxonomyDocument(
        version=current.themes.version, source=current.source, document=dict(current.document)
    )


@admin_router.get("")
async def get_taxonomy_document(runtime: RuntimeDep, _: AdminDep) -> TaxonomyDocument:
    """The organisation's taxonomy as written: what to edit and PUT back."""
    return _document(await run_in_threadpool(runtime.taxonomy.refresh))


async def _body(request: Request) -> Any:
    """The taxonomy sent as YAML (Content-Type application/yaml, as the file is written) or
    JSON."""
    raw = await request.body()
    kind = request.headers.get("content-type", "")
    try:
        return yaml.safe_load(raw) if "yaml" in kind else json.loads(raw)
    except (yaml.YAMLError, ValueError) as exc:
        raise Refused(
            422, Code.INVALID_TAXONOMY, f"body: not {'YAML' if 'yaml' in kind else 'JSON'}: {exc}"
        ) from exc


def _store(
    runtime: RuntimeDep, admin: AdminDep, request: Request, document: Any, action: str, target: str
) -> TaxonomyDocument:
    current = runtime.taxonomy.refresh()
    try:
        saved = taxonomy.save(runtime.engine, document, after=current, by=admin.username)
    except TaxonomyError as exc:
        raise Refused(422, Code.INVALID_TAXONOMY, str(exc)) from exc
    directory.audit(
        runtime.engine,
        actor=admin.username,
        action=action,
        target=target,
        client=client_address(request),
        version=saved.themes.version,
    )
    return _document(runtime.taxonomy.refresh())


@admin_router.put("")
async def replace_taxonomy(
    request: Request, runtime: RuntimeDep, admin: AdminDep
) -> TaxonomyDocument:
    """Replace the taxonomy (its `version` is set one above the current one). Comments are
    sorted by it from the next one stored, on every instance within seconds; comments stored
    before keep their themes."""
    document = await _body(request)
    if not isinstance(document, dict):
        raise Refused(422, Code.INVALID_TAXONOMY, "themes: a list of themes is required")
    return await run_in_threadpool(
        _store, runtime, admin, request, document, "themes.replaced", "taxonomy"
    )


class EmergingTopics(BaseModel):
    as_of: datetime
    min_count: int
    min_lift: float
    topics: list[Emerging] = Field(description="Strongest first (lift times comments).")


def _caught_by(themes: Themes) -> Callable[[str, str], bool]:
    """Whether a theme catches a phrase already: it is one of a theme's phrases, or each of its
    words is caught ("delivery late" when delivery and lateness are themes); "app crashing"
    is a candidate where only the app is a theme."""
    listed = {fold(p) for t in themes.themes for ps in t.phrases.values() for p in ps}

    def caught(language: str, phrase: str) -> bool:
        return phrase in listed or all(themes.find(w, language) for w in phrase.split())

    return caught


@admin_router.get("/emerging")
async def get_emerging(runtime: RuntimeDep, _: AdminDep) -> EmergingTopics:
    """Phrases (one to three words, stop words left out) customers say far more this week (the
    last 7 UTC days) than in the 28 days before, company-wide, that no theme catches yet:
    candidates for a theme (POST /api/v1/admin/themes/themes). Settings:
    VOC_EMERGING_MIN_COUNT, VOC_EMERGING_MIN_LIFT."""
    settings, now = runtime.settings, datetime.now(UTC)

    def find() -> list[Emerging]:
        return phrases.find_emerging(
            runtime.engine,
            now,
            known=_caught_by(runtime.taxonomy.get().themes),
            min_count=settings.emerging_min_count,
            min_lift=settings.emerging_min_lift,
        )

    return EmergingTopics(
        as_of=now,
        min_count=settings.emerging_min_count,
        min_lift=settings.emerging_min_lift,
        topics=await run_in_threadpool(find),
    )


class NewTheme(BaseModel):
    id: str = Field(description="Lowercase letters, digits and hyphens, e.g. 'parking'.")
    name: dict[str, str] = Field(description="By language, at least `en`.")
    phrases: dict[str, list[str]] = Field(description="By language: one to four words each.")
    parent: str | None = None


@admin_router.post("/themes", status_code=status.HTTP_201_CREATED)
async def add_theme(
    theme: NewTheme, request: Request, runtime: RuntimeDep, admin: AdminDep
) -> TaxonomyDocument:
    """Add one theme to the taxonomy (an emerging topic made a theme, in one step)."""

    def add() -> TaxonomyDocument:
        current = runtime.taxonomy.refresh()
        if current.themes.get(theme.id) is not None:
            raise Refused(409, Code.CONFLICT, f"id: theme {theme.id!r} exists")
        listed = list(current.document.get("themes", []))
        document = {**current.document, "themes": [*listed, theme.model_dump(exclude_none=True)]}
        return _store(runtime, admin, request, document, "theme.added", theme.id)

    return await run_in_threadpool(add)
