"""GET /healthz (the process answers) and GET /readyz (the metadata database answers)."""

import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cdcflow.core.db import database_answers

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    latency_ms: float


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")  # no version: a public probe need not tell which release (and its bugs) runs


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> JSONResponse:
    started = time.perf_counter()
    try:
        database_answers(request.app.state.engine)
        checks = {"database": "ok"}
    except Exception as exc:  # any failure means "not ready"; the reason is logged, not leaked
        logger.warning("readiness: metadata database unavailable (%s)", type(exc).__name__)
        checks = {"database": "unavailable"}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks,
                     latency_ms=round((time.perf_counter() - started) * 1000, 2))
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
