"""The page's texts: a language's catalogue as JSON, made from the same gettext catalogue the
server's e-mails and webhooks read (app/core/i18n.py). Public: the sign-in screen needs it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.core.i18n import texts
from app.core.languages import SHIPPED, choose, shipped

router = APIRouter(prefix="/i18n", include_in_schema=False)

# Revalidated at every load, as the page itself is, so a deploy's new texts show at once.
_FRESH = {"Cache-Control": "no-cache"}


@router.get("/catalogue.json")
async def chosen_catalogue(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Before sign-in: the first language the browser accepts, else the organisation's."""
    language = choose(
        None, request.headers.get("accept-language"), runtime.settings.default_language
    )
    return _answer(texts(language).page_catalogue(), vary=True)


@router.get("/{name}.json")
async def catalogue(name: str) -> JSONResponse:
    language = shipped(name)
    if language is None or language != name:
        raise HTTPException(404, f"language {name!r}: not one of {', '.join(SHIPPED)}")
    return _answer(texts(language).page_catalogue(), vary=False)


def _answer(body: dict[str, Any], *, vary: bool) -> JSONResponse:
    headers = {**_FRESH, "Vary": "Accept-Language"} if vary else _FRESH
    return JSONResponse(body, headers=headers)
