"""The one place errors become HTTP answers: always JSON with a `message` naming the problem."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.core.access import InvalidAssignment, OutOfScope, UnknownUnits
from app.core.errors import BrokerUnavailable, MessageTooLarge
from app.core.org import TreeError
from app.db.directory import Conflict

RETRY_AFTER_S = 5


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _describe(error: dict[str, Any]) -> dict[str, str]:
    if error["type"] == "json_invalid":
        where = error["loc"][-1]
        detail = error.get("ctx", {}).get("error", "")
        return {"field": "body", "message": f"not valid JSON at character {where}: {detail}"}
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return {"field": _field(tuple(error["loc"])), "message": message}


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(e) for e in exc.errors()]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"message": message, "errors": errors}, status_code=422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette names the methods of the first route matching the path only; a path served
        # by several routes (GET and POST /api/v1/admin/users) must list them all.
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the client learns only that it was not its fault.
    return JSONResponse({"message": "internal error; it was logged, retry later"}, status_code=500)


async def _broker_down(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"message": f"not accepted: {exc}; nothing was stored, retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MessageTooLarge)
    where = f"responses.{exc.index}" if request.url.path.endswith(":batch") else "body"
    return JSONResponse(
        {"message": f"{where}: {exc} (VOC_MAX_MESSAGE_BYTES); nothing was accepted"},
        status_code=413,
    )


def _status(code: int) -> Any:
    async def answer(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=code)

    return answer


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(OutOfScope, _status(403))
    app.add_exception_handler(UnknownUnits, _status(404))
    app.add_exception_handler(TreeError, _status(422))
    app.add_exception_handler(InvalidAssignment, _status(422))
    app.add_exception_handler(Conflict, _status(409))
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BrokerUnavailable, _broker_down)
    app.add_exception_handler(MessageTooLarge, _too_large)
