"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from app.api.deps import Runtime, RuntimeDep
from app.db import store

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the broker, the database and (when configured) Redis all answer, and no
    embedded worker is stuck. `delivery` tells how far behind this instance's sockets are."""
    checks: dict[str, str] = {}
    for name, check in (
        ("broker", runtime.producer.check),
        ("database", lambda: store.ping(runtime.engine)),
    ):
        try:
            await run_in_threadpool(check)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"failed: {exc}"
    try:
        await runtime.hub.ping()
        checks["hub"] = "ok"
    except Exception as exc:
        checks["hub"] = f"failed: {exc}"
    if runtime.workers:
        checks["worker"] = _workers(runtime)
    ready = all(v == "ok" for v in checks.values())
    # A load figure, not a check: an instance behind on its sockets still serves.
    delivery = {"lag_s": round(runtime.fanout.lag(), 3), "clients": runtime.fanout.clients}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks, "delivery": delivery},
        status_code=200 if ready else 503,
    )


def _workers(runtime: Runtime) -> str:
    """An embedded worker stuck on one batch ingests nothing, though every service answers."""
    problems = [p for w in runtime.workers if (p := w.degraded()) is not None]
    return f"degraded: {'; '.join(problems)}" if problems else "ok"


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus metrics, in its text exposition format."}},
)
async def prometheus() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
