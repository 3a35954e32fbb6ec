"""The browser's refresh token: an httpOnly, SameSite=Strict cookie scoped to the auth routes.

A browser opts in with `X-Token-Transport: cookie` on login, refresh and logout. The JSON answer then carries only
the short-lived access token, so script running in the page (an XSS) can read neither the cookie nor a refresh
token from a login response. Clients without the header (the CLI, scripts) get and send the refresh token in JSON,
as before. Reading the cookie only when that custom header is present also stops cross-site request forgery: a form
cannot send the header, and a script on another origin needs a CORS preflight that only the configured origins pass.
"""

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from cdcflow.auth.schemas import RefreshRequest, TokenPair
from cdcflow.core.config import Settings
from cdcflow.core.errors import AppError, error_body

REFRESH_COOKIE = "cdcflow_refresh"
# Only the auth routes ever see it: every other API request, and the web app's own origin, never carry it.
COOKIE_PATH = "/api/v1/auth"
TRANSPORT_HEADER = "X-Token-Transport"


def wants_cookie(request: Request) -> bool:
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"


def refresh_token_from(request: Request, body: RefreshRequest | None) -> str | None:
    """The token in the JSON body, else (for a browser that asked for cookies) the one in the cookie."""
    if body is not None:
        return body.refresh_token
    if wants_cookie(request):
        return request.cookies.get(REFRESH_COOKIE) or None
    return None


def _secure(request: Request, settings: Settings) -> bool:
    # Browsers drop Secure cookies sent over plain http, and the local product runs on http://127.0.0.1.
    if settings.auth_cookie_secure is not None:
        return settings.auth_cookie_secure
    return request.url.scheme == "https"


def deliver(request: Request, response: Response, settings: Settings, pair: TokenPair) -> TokenPair:
    """Hands the refresh token over as the client asked: in the cookie (and not in the body), or in the body."""
    if not wants_cookie(request):
        return pair
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token or "", max_age=settings.refresh_token_days * 86400,
                        path=COOKIE_PATH, secure=_secure(request, settings), httponly=True, samesite="strict")
    return pair.model_copy(update={"refresh_token": None})


def clear(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=_secure(request, settings), httponly=True,
                           samesite="strict")


def refused(request: Request, settings: Settings, exc: AppError) -> JSONResponse:
    """The error answer for a failed cookie refresh, also removing the dead cookie from the browser."""
    response = JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)
    clear(request, response, settings)
    return response
