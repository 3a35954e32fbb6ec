"""Typed application errors and the handlers that render every error as one JSON shape, never a stack trace.

    {"error": {"code": "not_found", "message": "...", "details": {...}}}
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class Unauthorized(AppError):
    status_code, code = 401, "unauthorized"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class Unprocessable(AppError):
    status_code, code = 422, "unprocessable"


class InvalidField(AppError):
    """A body field that is well-formed but not acceptable here; the same shape as a request validation error."""

    status_code, code = 422, "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__("The request is invalid",
                         {"fields": [{"loc": ["body", field], "message": message, "type": "value_error"}]})


class TooManyRequests(AppError):
    status_code, code = 429, "too_many_requests"


class ServiceUnavailable(AppError):
    status_code, code = 503, "service_unavailable"


class SecretUnavailable(AppError):
    """A stored secret cannot be decrypted with the configured keys (a key was removed too early)."""

    status_code, code = 500, "secret_unavailable"


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    """The one error shape, as the OpenAPI document declares it."""

    error: ErrorDetail


_DESCRIPTIONS = {400: "Bad request", 401: "Not authenticated, or the token is no longer good",
                 403: "The caller's role may not do this", 404: "Not found", 409: "Conflicts with the current state",
                 413: "Request body too large", 422: "Invalid input", 429: "Too many failed logins",
                 503: "A dependency (Kafka Connect, a source database) is unreachable"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for error statuses, all in the one error shape."""
    return {status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]} for status in statuses}


# Every /api/v1 route may answer any of these (auth, role, missing ids, state conflicts, limits, validation).
API_ERROR_RESPONSES = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               422: "unprocessable", 429: "too_many_requests"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Report where and why, never the offending value: it may be a password or a 1 MB string.
        fields = [
            {"loc": [str(p) for p in err.get("loc", ())], "message": err.get("msg", "invalid"),
             "type": err.get("type", "value_error")}
            for err in exc.errors()
        ]
        return JSONResponse(error_body("validation_error", "The request is invalid", {"fields": fields}),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                     exc_info=exc)
        return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)
