"""create_app(): the FastAPI application with its routers, error handlers and shared resources."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cdcflow import __version__
from cdcflow.access.router import alerts_router as alert_access_router
from cdcflow.access.router import connections_router as connection_access_router
from cdcflow.access.router import pipelines_router as pipeline_access_router
from cdcflow.alerts.loops import alert_loops
from cdcflow.alerts.router import router as alerts_router
from cdcflow.auth.router import router as auth_router
from cdcflow.auth.sessions import on_sessions_ended
from cdcflow.auth.throttle import DbLoginGuard
from cdcflow.connections.router import router as connections_router
from cdcflow.core.config import Settings, get_settings
from cdcflow.core.crypto import secret_box_from_settings
from cdcflow.core.db import make_engine, make_session_factory
from cdcflow.core.deps import SessionDep
from cdcflow.core.leader import ClusterLeader, leader_only
from cdcflow.core.errors import API_ERROR_RESPONSES, error_responses, install_error_handlers
from cdcflow.core.limits import BodySizeLimitMiddleware
from cdcflow.core.logging import RequestLogMiddleware
from cdcflow.core.security_headers import SecurityHeadersMiddleware
from cdcflow.core.validation import refuse_nul_characters
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.jobs import JobRunner
from cdcflow.engine.leases import JobLeases, process_identity
from cdcflow.engine.reconciler import Reconciler
from cdcflow.events.realtime import Realtime
from cdcflow.events.relay import RealtimeRelay
from cdcflow.events.service import EventLoggerService
from cdcflow.health.router import router as health_router
from cdcflow.monitoring.health import HealthLimits
from cdcflow.monitoring.lag import pipeline_lag
from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.monitoring.offsets import OffsetsCollector
from cdcflow.monitoring.prometheus import authorize_scrape, render as render_prometheus
from cdcflow.monitoring.router import router as monitoring_router
from cdcflow.pipelines.history_router import router as history_router
from cdcflow.pipelines.lifecycle_router import router as lifecycle_router
from cdcflow.pipelines.recovery_router import router as recovery_router
from cdcflow.pipelines.resync import ResyncTracker
from cdcflow.pipelines.watchdog import JobWatchdog
from cdcflow.engine.context import EngineContext
from cdcflow.pipelines.router import router as pipelines_router
from cdcflow.pipelines.schema_watch import SchemaWatcher
from cdcflow.users.router import router as users_router

API_PREFIX = "/api/v1"
API_ROUTERS = (auth_router, users_router, connections_router, pipelines_router, lifecycle_router, recovery_router,
               monitoring_router, pipeline_access_router, connection_access_router, alerts_router,
               alert_access_router, history_router)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = SchemaWatcher(app.state.engine_context, settings.schema_watch_interval_seconds,
                                publish=app.state.realtime.publish_schema_changes,
                                tracker=ResyncTracker(app.state.engine_context))
        reconciler = Reconciler(app.state.session_factory, lambda: ConnectClient.from_settings(settings, timeout=5),
                                settings.reconciler_interval_seconds, healing=watcher.claims)
        # Once per cluster: the services that act on the data plane from a loop follow the leader lock (core/leader.py);
        # every process keeps its own observers (health, offsets), which only feed its own answers.
        leader_only(watcher, app.state.leader.is_leader)
        leader_only(reconciler, app.state.leader.is_leader)
        watchdog = JobWatchdog(app.state.engine_context, app.state.jobs, settings.job_lease_seconds / 3)
        alert_services = alert_loops(app.state.engine_context, app.state.event_logger, app.state.health)
        await app.state.realtime.startup()
        if app.state.relay is not None:
            app.state.relay.start()
        if settings.run_background_services:
            app.state.leader.start()
            watchdog.start()
            reconciler.start()
            watcher.start()
            app.state.offsets.start()
            app.state.health.start()
            if settings.event_logger_enabled:
                app.state.event_logger.start()
            for service in alert_services:
                service.start()
        yield
        for service in alert_services:
            service.stop()
        app.state.event_logger.stop()
        app.state.health.stop()
        app.state.offsets.stop()
        if app.state.relay is not None:
            app.state.relay.stop()
        await app.state.realtime.shutdown()
        reconciler.stop()
        watchdog.stop()
        watcher.stop()
        app.state.leader.stop()
        app.state.jobs.shutdown()
        app.state.engine.dispose()

    app = FastAPI(title="cdcflow", version=__version__, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url="/docs",
                  dependencies=[Depends(refuse_nul_characters)])
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.secret_box = secret_box_from_settings(settings)
    # In the database: N API processes limit logins as one (auth/throttle.py).
    app.state.login_guard = DbLoginGuard(settings, app.state.session_factory)
    app.state.jobs = JobRunner()
    identity = process_identity()
    app.state.leader = ClusterLeader(settings.database_url, identity, settings.leader_interval_seconds,
                                     settings.database_connect_timeout)
    app.state.engine_context = EngineContext(settings, app.state.secret_box, app.state.session_factory,
                                             JobLeases(identity, settings.job_lease_seconds))
    app.state.realtime = Realtime(settings, app.state.session_factory)
    on_sessions_ended(app.state.session_factory, app.state.realtime.end_sessions)
    if settings.realtime_relay:
        # Events reach this process's sockets through PostgreSQL NOTIFY whichever logger stored them (events/relay.py);
        # the in-process logger announces its own the same way, so each event is pushed once per API process.
        app.state.relay = RealtimeRelay(settings.database_url, app.state.realtime.publish,
                                        app.state.realtime.watched)
        app.state.event_logger = EventLoggerService(settings, None)  # its store NOTIFYs the relays
    else:
        app.state.relay = None
        app.state.event_logger = EventLoggerService(settings, app.state.realtime.publish)
    app.state.offsets = OffsetsCollector(
        app.state.session_factory, settings.kafka_bootstrap_servers,
        lag_probe=lambda pid: pipeline_lag(app.state.engine_context, pid))
    app.state.health = HealthMonitor(
        app.state.engine_context,
        logger_status=app.state.event_logger.status if settings.event_logger_enabled else None,
        limits=HealthLimits(max_age=settings.health_max_age_seconds, sink_stall=settings.health_sink_stall_seconds,
                            slot_grace=settings.health_slot_grace_seconds),
        interval=settings.health_interval_seconds, probe_timeout=settings.health_probe_timeout_seconds)

    # Innermost first: the size limit sits inside the request log (413s are logged) and before any route.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: CORS preflight answers get the headers too
    install_error_handlers(app)
    app.include_router(health_router, responses=error_responses(413, 422))

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(
        request: Request, session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
    ) -> PlainTextResponse:
        scope = authorize_scrape(request, session, credentials)
        body = render_prometheus(session, app.state.offsets, app.state.event_logger, app.state.health, scope)
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4")

    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=API_ERROR_RESPONSES)
    return app


def create_asgi_app(settings: Settings | None = None):
    """What `cdcflow serve` runs: Socket.IO (path /socket.io) in front of the FastAPI app, one port."""
    import socketio

    app = create_app(settings)
    return socketio.ASGIApp(app.state.realtime.sio, other_asgi_app=app, socketio_path="socket.io")
