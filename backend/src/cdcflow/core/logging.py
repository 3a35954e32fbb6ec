"""Logging: JSON lines by default (time, level, logger, message, request id, pipeline id), LOG_FORMAT=text for
humans. Request ids and pipeline ids travel in context variables, so every log line of a request carries them."""

import contextvars
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
pipeline_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("pipeline_id", default=None)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if request_id_var.get():
            entry["request_id"] = request_id_var.get()
        pipeline_id = getattr(record, "pipeline_id", None) or pipeline_id_var.get()
        if pipeline_id:
            entry["pipeline_id"] = str(pipeline_id)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in (("request_id", request_id_var.get()),
                                                   ("pipeline_id", getattr(record, "pipeline_id", None)
                                                    or pipeline_id_var.get())) if v)
        line = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S.%f')[:-3]} {record.levelname:7s} " \
               f"{record.name}: {record.getMessage()}" + (f" [{extra}]" if extra else "")
        return line + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


def configure_logging(level: str | None = None, fmt: str | None = None) -> None:
    fmt = (fmt or os.environ.get("LOG_FORMAT", "json")).lower()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("LOG_LEVEL", "INFO")).upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by the request log below
    for noisy in ("httpx", "httpcore", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def client_request_id(raw: bytes | None) -> str | None:
    """The caller's X-Request-ID if it is a sane token (ASCII letters, digits, . _ : -, at most 64); anything else
    is ignored rather than refused, and the request gets a fresh id."""
    if raw is None or not _REQUEST_ID.fullmatch(raw):
        return None
    return raw.decode("ascii")


class RequestLogMiddleware:
    """One line per HTTP request: method, path (never the query string, which may hold secrets), status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger("cdcflow.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = client_request_id(headers.get(b"x-request-id")) or uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path not in ("/healthz", "/readyz"):
                self.logger.info("%s %s %s", scope.get("method"), path, status,
                                 extra={"method": scope.get("method"), "path": path, "status": status,
                                        "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            request_id_var.reset(token)
