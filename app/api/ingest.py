"""REST ingest: responses are produced to the same Kafka topic integrators may produce to."""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app import metrics
from app.api.deps import Integrator, IntegratorDep, Runtime, RuntimeDep
from app.api.errors import Code, Refused, documented
from app.core.events import SurveyResponse
from app.core.wirejson import parse_json


class _WireRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class _WireRoute(APIRoute):
    """Parses bodies as Kafka messages are parsed: a NaN or a 5,000-digit integer is then refused
    with 422 naming its field, not stored as null nor answered with a bare 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handle(_WireRequest(request.scope, request.receive))

        return route


router = APIRouter(prefix="/api/v1", tags=["ingest"], route_class=_WireRoute)


class Accepted(BaseModel):
    """The broker acknowledged these responses; they will be stored and shown exactly once."""

    response_ids: list[str]


class Batch(BaseModel):
    responses: list[SurveyResponse]


_INGEST = documented(
    _401="Missing, unknown or revoked X-API-Key.",
    _403="The key may not post for this org unit or survey.",
    _413="Body over VOC_MAX_BODY_BYTES, or a response over VOC_MAX_MESSAGE_BYTES.",
    _422="Invalid response, or an org unit not in the tree; the field is named.",
    _429="Over the key's rate; nothing accepted. See Retry-After.",
    _503="Broker unavailable; nothing accepted. See Retry-After.",
)


async def _admit(
    runtime: Runtime, integrator: Integrator, responses: Sequence[SurveyResponse], batch: bool
) -> None:
    """Rate, org tree and key limits; raises the HTTP refusal naming the first response at fault."""
    settings = runtime.settings
    wait = runtime.ingest_limiter.take(integrator.label, cost=len(responses))
    if wait:
        seconds = max(1, math.ceil(wait))
        raise Refused(
            429,
            Code.RATE_LIMITED,
            f"over {settings.ingest_rate_per_key:g} responses/s for this key "
            f"(VOC_INGEST_RATE_PER_KEY); nothing was accepted, retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    def where(index: int, name: str) -> str:
        return f"responses.{index}.{name}" if batch else name

    tree = await run_in_threadpool(runtime.units.get)
    if settings.unknown_org_unit == "reject" and any(r.org_unit not in tree for r in responses):
        tree = await run_in_threadpool(runtime.units.refresh)
        for index, r in enumerate(responses):
            if r.org_unit not in tree:
                raise Refused(
                    422,
                    Code.UNKNOWN_UNITS,
                    f"{where(index, 'org_unit')}: unknown org unit {r.org_unit!r}; "
                    "an admin adds it to the org tree first",
                )
    if integrator.org_units:
        allowed = tree.covering(integrator.org_units)
        for index, r in enumerate(responses):
            if r.org_unit not in allowed:
                units = ", ".join(integrator.org_units)
                raise Refused(
                    403,
                    Code.OUT_OF_SCOPE,
                    f"{where(index, 'org_unit')}: this key posts only for {units}",
                )
    if integrator.surveys:
        for index, r in enumerate(responses):
            if r.survey_id not in integrator.surveys:
                surveys = ", ".join(integrator.surveys)
                raise Refused(
                    403,
                    Code.OUT_OF_SCOPE,
                    f"{where(index, 'survey_id')}: this key posts only for {surveys}",
                )


@router.post("/responses", status_code=status.HTTP_202_ACCEPTED, responses=_INGEST)
async def post_response(
    response: SurveyResponse, runtime: RuntimeDep, integrator: IntegratorDep
) -> Accepted:
    await _admit(runtime, integrator, [response], batch=False)
    await run_in_threadpool(runtime.producer.send_responses, [response])
    metrics.ACCEPTED.inc()
    return Accepted(response_ids=[response.response_id])


@router.post("/responses:batch", status_code=status.HTTP_202_ACCEPTED, responses=_INGEST)
async def post_batch(batch: Batch, runtime: RuntimeDep, integrator: IntegratorDep) -> Accepted:
    """All or nothing: one invalid response rejects the batch, naming its index and field."""
    limit = runtime.settings.batch_max
    if not batch.responses:
        raise Refused(422, Code.INVALID_INPUT, "responses: a batch needs at least one response")
    if len(batch.responses) > limit:
        raise Refused(
            422,
            Code.INVALID_INPUT,
            f"responses: {len(batch.responses)} responses; at most {limit} per batch",
        )
    await _admit(runtime, integrator, batch.responses, batch=True)
    await run_in_threadpool(runtime.producer.send_responses, batch.responses)
    metrics.ACCEPTED.inc(len(batch.responses))
    return Accepted(response_ids=[r.response_id for r in batch.responses])
