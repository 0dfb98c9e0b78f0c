"""The FastAPI composition root: builds the runtime once, wires routers, starts embedded workers."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from alerts.rules import DEFAULT_RULES, load_rules
from app.alertdesk.desk import AlertDesk
from app.api import (
    admin,
    alerts,
    auth,
    catalogues,
    errors,
    export,
    ingest,
    me,
    ops,
    praise,
    read,
    ws,
)
from app.api import themes as themes_api
from app.api.deps import Runtime
from app.api.live import LiveBarometers, rollup
from app.api.middleware import BodyLimit, SecurityHeaders
from app.broker.producer import Producer
from app.broker.topics import ensure_topics
from app.core.errors import BrokerUnavailable
from app.core.ratelimit import RateLimiter
from app.core.settings import Settings
from app.db import directory, store
from app.db.taxonomy import TaxonomyCache, from_file
from app.digests import DigestSender
from app.hub import make_hub
from app.hub.fanout import Fanout
from app.notifications import AlertNotifier
from app.orgfile import read_units
from ingest.assembly import build_worker
from ingest.worker import run_worker
from sentiment import CommentScorer
from sentiment.themes import DEFAULT_FILE as DEFAULT_THEMES

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = store.make_engine(settings.database_url)
        if settings.migrate_on_start:
            await run_in_threadpool(store.migrate, engine)
        if settings.org_tree_file is not None:
            listed = await run_in_threadpool(read_units, settings.org_tree_file)
            await run_in_threadpool(directory.save_units, engine, listed)
        try:
            await run_in_threadpool(ensure_topics, settings)
        except BrokerUnavailable as exc:
            # Workers and REST ingest retry on their own; /readyz shows the broker as failed.
            log.warning("could not create topics at start", extra={"error": str(exc)})
        rules = load_rules(settings.alert_rules_file or DEFAULT_RULES)
        taxonomy = TaxonomyCache(engine, from_file(settings.themes_file or DEFAULT_THEMES))
        units = directory.TreeCache(engine)
        live = LiveBarometers(
            rollup(engine, units, ZoneInfo(settings.timezone)),
            every_s=settings.live_barometer_every_ms / 1000,
        )
        hub = make_hub(settings)
        await hub.start()
        fanout = Fanout(hub, settings, observer=live.saw)
        await fanout.start()
        live.start()
        producer = Producer(settings, client_id="voc-api")
        notifier = AlertNotifier(settings, engine, units)
        desk = AlertDesk(settings, engine, units, notifier, hub.sink().publish)
        app.state.runtime = Runtime(
            settings,
            engine,
            producer,
            hub,
            fanout,
            units=units,
            ingest_limiter=RateLimiter(settings.ingest_rate_per_key, settings.ingest_burst_per_key),
            login_limiter=RateLimiter(
                settings.login_attempts_per_minute / 60, settings.login_attempts_per_minute
            ),
            rules=rules,
            live=live,
            desk=desk,
            taxonomy=taxonomy,
        )
        # One scorer for every embedded worker: it is pure and thread-safe, and building it
        # reads the lexicons and model weights.
        scorer = CommentScorer(settings.sentiment_negative_from, taxonomy.themes)
        workers = [
            build_worker(
                settings,
                engine=engine,
                scorer=scorer,
                sink=hub.sink(),
                rules=rules,
                alert_sink=notifier,
                name=f"embedded-{i + 1}",
            )
            for i in range(settings.embedded_workers)
        ]
        app.state.runtime.workers = workers
        threads = [
            threading.Thread(target=run_worker, args=(w,), name=f"ingest-{i}", daemon=True)
            for i, w in enumerate(workers)
        ]
        for thread in threads:
            thread.start()
        escalation = asyncio.create_task(desk.escalate_every(settings.alert_escalation_every_s))
        sessions = asyncio.create_task(ws.watch_sessions(app.state.runtime), name="ws-sessions")
        digests = asyncio.create_task(
            DigestSender(settings, engine, units).run(settings.digest_every_s), name="digests"
        )
        try:
            yield
        finally:
            for task in (escalation, sessions, digests):
                task.cancel()
            await asyncio.gather(escalation, sessions, digests, return_exceptions=True)
            for worker in workers:
                worker.stop()
            for thread in threads:
                await run_in_threadpool(thread.join, 10)
            await run_in_threadpool(notifier.close)
            await run_in_threadpool(desk.close)
            await live.stop()
            await fanout.stop()
            await hub.stop()
            await run_in_threadpool(producer.close)
            engine.dispose()

    app = FastAPI(
        title="Voice-of-customer cockpit",
        summary="Survey responses in, live NPS barometers, comments and dissatisfaction flags out.",
        version="0.1.0",
        lifespan=lifespan,
        # The interactive docs load scripts from a CDN, which the page policy forbids;
        # the schema itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
        responses=errors.COMMON,
    )
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ws.CockpitSocket)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(alerts.router)
    app.include_router(praise.router)
    app.include_router(me.router)
    app.include_router(ingest.router)
    # Before read's /responses/{response_id}, which would take "export" for an id.
    app.include_router(export.router)
    app.include_router(read.router)
    app.include_router(themes_api.router)
    app.include_router(themes_api.admin_router)
    app.include_router(ops.router)
    app.include_router(catalogues.router)
    frontend = settings.frontend_dir
    # The page and the installable app's files, revalidated at every load so a deploy shows at
    # once. The service worker is at the root, not under /static: it controls only the paths
    # below its own.
    revalidate = {"Cache-Control": "no-cache"}

    @app.get("/", include_in_schema=False)
    async def cockpit() -> FileResponse:
        return FileResponse(frontend / "index.html", headers=revalidate)

    @app.get("/manifest.webmanifest", include_in_schema=False)
    async def manifest() -> FileResponse:
        return FileResponse(
            frontend / "manifest.webmanifest",
            media_type="application/manifest+json",
            headers=revalidate,
        )

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> FileResponse:
        return FileResponse(frontend / "sw.js", media_type="text/javascript", headers=revalidate)

    app.mount("/static", StaticFiles(directory=frontend), name="static")
    return app
