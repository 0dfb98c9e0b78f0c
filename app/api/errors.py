"""The one place errors become HTTP answers: always JSON with a `message` naming the problem."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.alertdesk.desk import AlertChanged, AlertNotFound, AlertTaken, InvalidStep, NotAllowed
from app.core.access import InvalidAssignment, OutOfScope, UnknownUnits
from app.core.errors import BrokerUnavailable, MessageTooLarge, RecordsTooLarge
from app.core.org import TreeError
from app.core.wirejson import field_path
from app.db.directory import Conflict

RETRY_AFTER_S = 5


class ErrorMessage(BaseModel):
    """Every error answer: one line naming the problem."""

    message: str


class FieldError(BaseModel):
    field: str
    message: str


class ValidationErrors(ErrorMessage):
    errors: list[FieldError]


Responses = dict[int | str, dict[str, Any]]


def documented(**statuses: str) -> Responses:
    """OpenAPI `responses` for error statuses (`_401="..."`), each with the error body."""
    out: Responses = {}
    for code, description in statuses.items():
        status = int(code.lstrip("_"))
        model = ValidationErrors if status == 422 else ErrorMessage
        out[status] = {"model": model, "description": description}
    return out


# What any route may answer: a body that does not parse, is too large, or a fault of ours.
COMMON = documented(
    _400="The body is not readable.",
    _413="The body is over VOC_MAX_BODY_BYTES.",
    _422="Invalid input; every offending field is named.",
    _500="An unexpected fault; it was logged.",
)
SIGNED_IN = documented(
    _401="No session, or it expired or was signed out.",
    _403="Outside the caller's units or role, or a foreign Origin.",
)


def _field(loc: tuple[int | str, ...]) -> str:
    if loc and loc[0] in {"body", "query", "path", "header"}:
        loc = loc[1:]
    return field_path(loc)


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
    body: dict[str, Any] = {"message": exc.detail}
    if exc.status_code == 422:
        # Same shape as a schema failure: our own checks say "field: problem" too.
        field, _, problem = str(exc.detail).partition(": ")
        body["errors"] = [{"field": field, "message": problem}] if problem else []
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


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


async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
    # The database refused a value SQLite would have taken (a NUL character in a text, a name
    # longer than its column): the request's fault, and nothing was written.
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    return JSONResponse({"message": f"not stored: {reason}", "errors": []}, status_code=422)


async def _broker_down(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        # Not "nothing was stored": a record whose acknowledgement timed out may still arrive.
        # A retry is safe either way, each response_id being stored once.
        {"message": f"not accepted: {exc}; retry later (a response_id is stored once)"},
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


async def _refused_for_size(request: Request, exc: Exception) -> JSONResponse:
    # The broker takes less than VOC_MAX_MESSAGE_BYTES: a deployment to fix, not a retry.
    assert isinstance(exc, RecordsTooLarge)
    batch = request.url.path.endswith(":batch")
    where = ", ".join(f"responses.{i}" for i in exc.indices) if batch else "body"
    rest = "the other responses were accepted" if batch else "nothing was accepted"
    message = (
        f"{where}: refused by the broker for its size (its limit is below "
        f"VOC_MAX_MESSAGE_BYTES); {rest}"
    )
    return JSONResponse({"message": message}, status_code=413)


async def _taken(_: Request, exc: Exception) -> JSONResponse:
    # The loser of a race for a callback is told who won, so they need not ask around.
    assert isinstance(exc, AlertTaken)
    taken_by = {"username": exc.username, "display_name": exc.display_name}
    return JSONResponse({"message": str(exc), "taken_by": taken_by}, status_code=409)


def _status(code: int) -> Any:
    async def answer(request: Request, exc: Exception) -> JSONResponse:
        return await _http(request, HTTPException(code, str(exc)))

    return answer


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(OutOfScope, _status(403))
    app.add_exception_handler(UnknownUnits, _status(404))
    app.add_exception_handler(TreeError, _status(422))
    app.add_exception_handler(InvalidAssignment, _status(422))
    app.add_exception_handler(Conflict, _status(409))
    app.add_exception_handler(AlertNotFound, _status(404))
    app.add_exception_handler(AlertChanged, _status(409))
    app.add_exception_handler(AlertTaken, _taken)
    app.add_exception_handler(NotAllowed, _status(403))
    app.add_exception_handler(InvalidStep, _status(422))
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BrokerUnavailable, _broker_down)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(MessageTooLarge, _too_large)
    app.add_exception_handler(RecordsTooLarge, _refused_for_size)
