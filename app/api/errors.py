"""The one place errors become HTTP answers: always JSON with a stable machine `code` and a
`message` naming the problem, in the reader's language where a person reads it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.routing import Match

from app.alertdesk.desk import AlertChanged, AlertNotFound, AlertTaken, InvalidStep, NotAllowed
from app.core.access import InvalidAssignment, OutOfScope, UnknownUnits
from app.core.errors import BrokerUnavailable, MessageTooLarge, RecordsTooLarge, Refusal
from app.core.i18n import N_, Texts, texts
from app.core.languages import Language, choose
from app.core.org import TreeError
from app.core.wirejson import field_path
from app.db.directory import Conflict

RETRY_AFTER_S = 5


class Code(StrEnum):
    """What went wrong, for a program: stable, whatever the message says or its language."""

    INVALID_INPUT = "invalid_input"
    INVALID_JSON = "invalid_json"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_STEP = "invalid_step"
    INVALID_TAXONOMY = "invalid_taxonomy"
    UNKNOWN_UNITS = "unknown_units"
    NOT_STORED = "not_stored"
    BAD_REQUEST = "bad_request"
    NOT_SIGNED_IN = "not_signed_in"
    SESSION_ENDED = "session_ended"
    WRONG_CREDENTIALS = "wrong_credentials"
    MISSING_API_KEY = "missing_api_key"
    INVALID_API_KEY = "invalid_api_key"
    FORBIDDEN_ORIGIN = "forbidden_origin"
    FORBIDDEN_ROLE = "forbidden_role"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    ALERT_CHANGED = "alert_changed"
    ALERT_TAKEN = "alert_taken"
    BODY_TOO_LARGE = "body_too_large"
    MESSAGE_TOO_LARGE = "message_too_large"
    RECORDS_TOO_LARGE = "records_too_large"
    RATE_LIMITED = "rate_limited"
    ACCOUNT_LOCKED = "account_locked"
    INTERNAL_ERROR = "internal_error"
    BROKER_UNAVAILABLE = "broker_unavailable"
    HTTP_ERROR = "http_error"


# Each code with its status and meaning: the OpenAPI schema and docs/api.md list them.
MEANINGS: dict[Code, str] = {
    Code.INVALID_INPUT: "422: a field is invalid; `errors` names each (the websocket: its frame).",
    Code.INVALID_JSON: "422: the body (or websocket frame) is not JSON; the character is named.",
    Code.INVALID_CURSOR: "400: a cursor this API did not hand out.",
    Code.INVALID_STEP: "422: a step the alert loop refuses, or one missing a field it needs.",
    Code.INVALID_TAXONOMY: "422: a taxonomy of themes that cannot be used; the theme and field "
    "are named.",
    Code.UNKNOWN_UNITS: "404 (422 when posting a response): org units not in the tree.",
    Code.NOT_STORED: "422: the database refused a value; nothing was written.",
    Code.BAD_REQUEST: "400: the request could not be read.",
    Code.NOT_SIGNED_IN: "401: no session; sign in (POST /api/v1/auth/login).",
    Code.SESSION_ENDED: "401: the session expired or was signed out; sign in again.",
    Code.WRONG_CREDENTIALS: "401: wrong username or password.",
    Code.MISSING_API_KEY: "401: no X-API-Key header.",
    Code.INVALID_API_KEY: "401: an unknown or revoked X-API-Key.",
    Code.FORBIDDEN_ORIGIN: "403: a browser request from an origin not allowed.",
    Code.FORBIDDEN_ROLE: "403: the caller's role may not do this.",
    Code.OUT_OF_SCOPE: "403: units (or a key's surveys) outside the caller's.",
    Code.NOT_FOUND: "404: no such thing in the caller's units.",
    Code.METHOD_NOT_ALLOWED: "405: the path does not take this method; see Allow.",
    Code.CONFLICT: "409: conflicts with what is stored.",
    Code.ALERT_CHANGED: "409: the alert changed since it was read; reload it.",
    Code.ALERT_TAKEN: "409: someone else took the callback; `taken_by` names them.",
    Code.BODY_TOO_LARGE: "413: the body is over VOC_MAX_BODY_BYTES.",
    Code.MESSAGE_TOO_LARGE: "413: a response is over VOC_MAX_MESSAGE_BYTES once serialized.",
    Code.RECORDS_TOO_LARGE: "413: the broker refused responses for their size.",
    Code.RATE_LIMITED: "429: too many requests; see Retry-After.",
    Code.ACCOUNT_LOCKED: "429: the account is locked after wrong passwords; see Retry-After.",
    Code.INTERNAL_ERROR: "500: a fault of ours; it was logged.",
    Code.BROKER_UNAVAILABLE: "503: the broker did not acknowledge; see Retry-After.",
    Code.HTTP_ERROR: "other: any other refusal; its HTTP status says which.",
}
# The code of a refusal that names none (FastAPI's and Starlette's own).
_BY_STATUS = {
    400: Code.BAD_REQUEST,
    401: Code.NOT_SIGNED_IN,
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    409: Code.CONFLICT,
    413: Code.BODY_TOO_LARGE,
    422: Code.INVALID_INPUT,
    429: Code.RATE_LIMITED,
}


class ErrorMessage(BaseModel):
    """Every error answer: a stable code, and one line naming the problem."""

    code: Code = Field(
        description="Stable: test this, not the message. "
        + " ".join(f"`{code}` {meaning}" for code, meaning in MEANINGS.items())
    )
    message: str = Field(
        description="For a person: in the language of Accept-Language where the cockpit shows "
        "it, else in English. Never parse it."
    )


class FieldError(BaseModel):
    field: str
    message: str


class ValidationErrors(ErrorMessage):
    errors: list[FieldError]


class TakenBy(BaseModel):
    username: str
    display_name: str


class Taken(ErrorMessage):
    taken_by: TakenBy


class Refused(HTTPException):
    """An HTTP refusal with its code. `message` is an English msgid (marked `N_` where a person
    reads it) with named parameters; the answer words it in the reader's language."""

    def __init__(
        self,
        status: int,
        code: Code,
        message: str,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(status, message.format(**params) if params else message, headers)
        self.code, self.message, self.params = code, message, params


Responses = dict[int | str, dict[str, Any]]


def documented(**statuses: str) -> Responses:
    """OpenAPI `responses` for error statuses (`_401="..."`), each with the error body."""
    out: Responses = {}
    for status_code, description in statuses.items():
        status = int(status_code.lstrip("_"))
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


def reader(connection: HTTPConnection) -> Texts:
    """The texts of whoever reads the answer: the first language Accept-Language names that the
    cockpit speaks, else the organisation's."""
    runtime = getattr(connection.app.state, "runtime", None)
    default: Language = runtime.settings.default_language if runtime is not None else "en"
    return texts(choose(None, connection.headers.get("accept-language"), default))


def _answer(
    status: int,
    code: Code,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status, headers)


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
    found = exc.errors()
    errors = [_describe(e) for e in found]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    not_json = any(e["type"] == "json_invalid" for e in found)
    code = Code.INVALID_JSON if not_json else Code.INVALID_INPUT
    return _answer(422, code, message, errors=errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette names the methods of the first route matching the path only; a path served
        # by several routes (GET and POST /api/v1/admin/users) must list them all.
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    english = str(exc.detail)
    if isinstance(exc, Refused):
        code, message = exc.code, reader(request).t(exc.message, **exc.params)
    else:
        code, message = _BY_STATUS.get(exc.status_code, Code.HTTP_ERROR), english
    extra: dict[str, Any] = {}
    if exc.status_code == 422:
        # Same shape as a schema failure: our own checks say "field: problem" too. The field
        # is a name in the code, the same in every language.
        field, _, problem = english.partition(": ")
        problem = message.removeprefix(f"{field}: ") if problem else ""
        extra["errors"] = [{"field": field, "message": problem}] if problem else []
    return _answer(exc.status_code, code, message, headers, **extra)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the client learns only that it was not its fault.
    message = reader(request).t(N_("internal error; it was logged, retry later"))
    return _answer(500, Code.INTERNAL_ERROR, message)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value SQLite would have taken (a NUL character in a text, a name
    # longer than its column): the request's fault, and nothing was written.
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    message = reader(request).t(N_("not stored: {reason}"), reason=reason)
    return _answer(422, Code.NOT_STORED, message, errors=[])


async def _broker_down(request: Request, exc: Exception) -> JSONResponse:
    # Not "nothing was stored": a record whose acknowledgement timed out may still arrive.
    # A retry is safe either way, each response_id being stored once.
    message = reader(request).t(
        N_("not accepted: {reason}; retry later (a response_id is stored once)"), reason=str(exc)
    )
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    return _answer(503, Code.BROKER_UNAVAILABLE, message, retry)


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MessageTooLarge)
    where = f"responses.{exc.index}" if request.url.path.endswith(":batch") else "body"
    message = f"{where}: {exc} (VOC_MAX_MESSAGE_BYTES); nothing was accepted"
    return _answer(413, Code.MESSAGE_TOO_LARGE, message)


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
    return _answer(413, Code.RECORDS_TOO_LARGE, message)


async def _taken(request: Request, exc: Exception) -> JSONResponse:
    # The loser of a race for a callback is told who won, so they need not ask around.
    assert isinstance(exc, AlertTaken)
    taken_by = {"username": exc.username, "display_name": exc.display_name}
    message = reader(request).t(exc.message, **exc.params)
    return _answer(409, Code.ALERT_TAKEN, message, taken_by=taken_by)


def _refusal(status: int, code: Code) -> Any:
    """The answer to a refusal of the layers below, worded in the reader's language when it is
    a `Refusal` (its msgid and parameters), else in English as it was raised."""

    async def answer(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, Refusal):
            refused = Refused(status, code, exc.message, **exc.params)
        else:
            refused = Refused(status, code, str(exc))
        return await _http(request, refused)

    return answer


# The refusals of the layers below, by the status and code they answer.
REFUSALS: dict[type[Exception], tuple[int, Code]] = {
    OutOfScope: (403, Code.OUT_OF_SCOPE),
    UnknownUnits: (404, Code.UNKNOWN_UNITS),
    TreeError: (422, Code.INVALID_INPUT),
    InvalidAssignment: (422, Code.INVALID_INPUT),
    Conflict: (409, Code.CONFLICT),
    AlertNotFound: (404, Code.NOT_FOUND),
    AlertChanged: (409, Code.ALERT_CHANGED),
    NotAllowed: (403, Code.FORBIDDEN_ROLE),
    InvalidStep: (422, Code.INVALID_STEP),
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    for error, (status, code) in REFUSALS.items():
        app.add_exception_handler(error, _refusal(status, code))
    app.add_exception_handler(AlertTaken, _taken)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BrokerUnavailable, _broker_down)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(MessageTooLarge, _too_large)
    app.add_exception_handler(RecordsTooLarge, _refused_for_size)
