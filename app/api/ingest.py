"""REST ingest: responses are produced to the same Kafka topic integrators may produce to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app import metrics
from app.api.deps import IntegratorDep, RuntimeDep
from app.core.events import SurveyResponse

router = APIRouter(prefix="/api/v1", tags=["ingest"], dependencies=[IntegratorDep])


class Accepted(BaseModel):
    """The broker acknowledged these responses; they will be stored and shown exactly once."""

    response_ids: list[str]


class Batch(BaseModel):
    responses: list[SurveyResponse]


_BROKER_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"description": "Broker unavailable; nothing accepted. See Retry-After."}
}


@router.post("/responses", status_code=status.HTTP_202_ACCEPTED, responses=_BROKER_DOWN)
async def post_response(response: SurveyResponse, runtime: RuntimeDep) -> Accepted:
    await run_in_threadpool(runtime.producer.send_responses, [response])
    metrics.ACCEPTED.inc()
    return Accepted(response_ids=[response.response_id])


@router.post("/responses:batch", status_code=status.HTTP_202_ACCEPTED, responses=_BROKER_DOWN)
async def post_batch(batch: Batch, runtime: RuntimeDep) -> Accepted:
    """All or nothing: one invalid response rejects the batch, naming its index and field."""
    limit = runtime.settings.batch_max
    if not batch.responses:
        raise HTTPException(422, "responses: a batch needs at least one response")
    if len(batch.responses) > limit:
        raise HTTPException(
            422, f"responses: {len(batch.responses)} responses; at most {limit} per batch"
        )
    await run_in_threadpool(runtime.producer.send_responses, batch.responses)
    metrics.ACCEPTED.inc(len(batch.responses))
    return Accepted(response_ids=[r.response_id for r in batch.responses])
