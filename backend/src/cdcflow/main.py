"""create_app(): the FastAPI application with its routers, error handlers and shared resources."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse

from cdcflow import __version__
from cdcflow.auth.router import router as auth_router
from cdcflow.auth.service import LoginGuard
from cdcflow.connections.router import router as connections_router
from cdcflow.core.config import Settings, get_settings
from cdcflow.core.crypto import secret_box_from_settings
from cdcflow.core.db import make_engine, make_session_factory
from cdcflow.core.errors import install_error_handlers
from cdcflow.core.logging import RequestLogMiddleware
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.reconciler import Reconciler
from cdcflow.events.realtime import Realtime
from cdcflow.events.service import EventLoggerService
from cdcflow.health.router import router as health_router
from cdcflow.monitoring.lag import pipeline_lag
from cdcflow.monitoring.offsets import OffsetsCollector
from cdcflow.monitoring.prometheus import render as render_prometheus
from cdcflow.monitoring.router import router as monitoring_router
from cdcflow.pipelines.lifecycle_router import router as lifecycle_router
from cdcflow.pipelines.recovery_router import router as recovery_router
from cdcflow.pipelines.resync import ResyncTracker
from cdcflow.pipelines.runner import EngineContext
from cdcflow.pipelines.router import router as pipelines_router
from cdcflow.pipelines.schema_watch import SchemaWatcher
from cdcflow.users.router import router as users_router

API_PREFIX = "/api/v1"
API_ROUTERS = (auth_router, users_router, connections_router, pipelines_router, lifecycle_router, recovery_router,
               monitoring_router)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = SchemaWatcher(app.state.engine_context, settings.schema_watch_interval_seconds,
                                publish=app.state.realtime.publish_schema_changes,
                                tracker=ResyncTracker(app.state.engine_context))
        reconciler = Reconciler(app.state.session_factory, settings.kafka_connect_url, app.state.jobs,
                                settings.reconciler_interval_seconds, healing=watcher.claims)
        await app.state.realtime.startup()
        if settings.run_background_services:
            reconciler.start()
            watcher.start()
            app.state.offsets.start()
            if settings.event_logger_enabled:
                app.state.event_logger.start()
        yield
        app.state.event_logger.stop()
        app.state.offsets.stop()
        await app.state.realtime.shutdown()
        reconciler.stop()
        watcher.stop()
        app.state.jobs.shutdown()
        app.state.engine.dispose()

    app = FastAPI(title="cdcflow", version=__version__, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url="/docs")
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.secret_box = secret_box_from_settings(settings)
    app.state.login_guard = LoginGuard(settings)
    app.state.jobs = JobRunner()
    app.state.engine_context = EngineContext(settings, app.state.secret_box, app.state.session_factory)
    app.state.realtime = Realtime(settings, app.state.session_factory)
    app.state.event_logger = EventLoggerService(settings, app.state.realtime.publish)
    app.state.offsets = OffsetsCollector(
        app.state.session_factory, settings.kafka_bootstrap_servers,
        lag_probe=lambda pid: pipeline_lag(app.state.engine_context, pid))

    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"])
    install_error_handlers(app)
    app.include_router(health_router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        with app.state.session_factory() as session:
            body = render_prometheus(session, app.state.offsets, app.state.event_logger)
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4")

    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app


def create_asgi_app(settings: Settings | None = None):
    """What `cdcflow serve` runs: Socket.IO (path /socket.io) in front of the FastAPI app, one port."""
    import socketio

    app = create_app(settings)
    return socketio.ASGIApp(app.state.realtime.sio, other_asgi_app=app, socketio_path="socket.io")
