"""/api/v1/auth: login, refresh, logout, me.

Browsers send `X-Token-Transport: cookie` and keep the refresh token in an httpOnly cookie (see auth/cookies.py);
other clients send and receive it in the JSON body.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from cdcflow.auth import cookies, service
from cdcflow.auth.schemas import LoginRequest, RefreshRequest, TokenPair, UserPublic
from cdcflow.core.config import Settings
from cdcflow.core.deps import Reader, SessionDep, SettingsDep, client_ip
from cdcflow.core.errors import Unauthorized
from cdcflow.models import User

class _MalformedLoginCounts(APIRoute):
    """A login request refused before the handler (bad JSON, a NUL byte, a missing field, a body too large) counts
    as a failed login of its client address: garbage is no free way around the limiter."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def counted(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException) as exc:
                if isinstance(exc, RequestValidationError) or 400 <= exc.status_code < 500:
                    request.app.state.login_guard.malformed(client_ip(request))
                raise

        return counted


router = APIRouter(prefix="/auth", tags=["auth"])


def login(body: LoginRequest, request: Request, response: Response, session: SessionDep,
          settings: SettingsDep) -> TokenPair:
    try:
        pair = service.login(session, settings, request.app.state.login_guard, body.username, body.password,
                             client_ip(request))
    except Unauthorized:
        session.commit()  # keep the failed-login audit row
        raise
    return cookies.deliver(request, response, settings, pair)


router.add_api_route("/login", login, methods=["POST"], response_model=TokenPair, response_model_exclude_none=True,
                     route_class_override=_MalformedLoginCounts)


@router.post("/refresh", response_model=TokenPair, response_model_exclude_none=True)
def refresh(request: Request, response: Response, settings: SettingsDep,
            body: RefreshRequest | None = None) -> TokenPair | JSONResponse:
    token = cookies.refresh_token_from(request, body)
    try:
        if token is None:
            raise Unauthorized("No refresh token")
        pair = _rotate(request, settings, token)
    except Unauthorized as exc:
        if cookies.wants_cookie(request):
            return cookies.refused(request, settings, exc)
        raise
    return cookies.deliver(request, response, settings, pair)


def _rotate(request: Request, settings: Settings, token: str) -> TokenPair:
    # Its own unit of work: on reuse the family revocation must commit even though the call fails.
    session = request.app.state.session_factory()
    try:
        pair = service.refresh(session, settings, token, client_ip(request))
        session.commit()
        return pair
    except service.RefreshReuse:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, settings: SettingsDep,
           body: RefreshRequest | None = None) -> Response:
    token = cookies.refresh_token_from(request, body)
    if token is not None:
        service.logout(session, token, client_ip(request))
    response = Response(status_code=204)
    if cookies.wants_cookie(request):
        cookies.clear(request, response, settings)
    return response


@router.get("/me", response_model=UserPublic)
def me(actor: Reader, session: SessionDep) -> User:
    return session.get(User, actor.user_id)
