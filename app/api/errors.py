"""The one place errors become HTTP answers: always JSON with a `message` naming the problem."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.core.errors import BrokerUnavailable

RETRY_AFTER_S = 5


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field(tuple(e["loc"])),
            "message": "unknown field"
            if e["type"] == "extra_forbidden"
            else str(e["msg"]).removeprefix("Value error, "),
        }
        for e in exc.errors()
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"message": message, "errors": errors}, status_code=422)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _broker_down(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"message": f"not accepted: {exc}; nothing was stored, retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BrokerUnavailable, _broker_down)
