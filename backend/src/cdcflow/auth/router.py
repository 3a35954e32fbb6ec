"""/api/v1/auth: login, refresh, logout, me."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from cdcflow.auth import service
from cdcflow.auth.schemas import LoginRequest, RefreshRequest, TokenPair, UserPublic
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


def login(body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPair:
    try:
        return service.login(session, settings, request.app.state.login_guard, body.username, body.password,
                             client_ip(request))
    except Unauthorized:
        session.commit()  # keep the failed-login audit row
        raise


router.add_api_route("/login", login, methods=["POST"], response_model=TokenPair,
                     route_class_override=_MalformedLoginCounts)


@router.post("/refresh", response_model=TokenPair)
def refresh(body: RefreshRequest, request: Request, settings: SettingsDep) -> TokenPair:
    # Its own unit of work: on reuse the family revocation must commit even though the call fails.
    factory = request.app.state.session_factory
    session = factory()
    try:
        pair = service.refresh(session, settings, body.refresh_token, client_ip(request))
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
def logout(body: RefreshRequest, request: Request, session: SessionDep) -> Response:
    service.logout(session, body.refresh_token, client_ip(request))
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(actor: Reader, session: SessionDep) -> User:
    return session.get(User, actor.user_id)
