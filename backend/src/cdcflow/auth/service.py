"""Authentication: verify credentials, issue access + refresh tokens, rotate refresh tokens, detect reuse."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.auth import sessions
from cdcflow.auth.ratelimit import LoginGuard
from cdcflow.auth.schemas import TokenPair
from cdcflow.core.config import Settings
from cdcflow.core.errors import Unauthorized
from cdcflow.core.security import (
    DUMMY_PASSWORD_HASH,
    create_access_token,
    hash_refresh_token,
    new_refresh_token,
    verify_password,
)
from cdcflow.models import RefreshToken, User

BAD_CREDENTIALS = "Invalid username or password"


def _issue(session: Session, settings: Settings, user: User, family_id: uuid.UUID) -> TokenPair:
    access, expires_in = create_access_token(settings.jwt_secret, user.id, user.role.value,
                                             settings.access_token_minutes, version=user.token_version or 0,
                                             session_id=family_id)
    refresh, refresh_hash = new_refresh_token()
    session.add(RefreshToken(user_id=user.id, token_hash=refresh_hash, family_id=family_id,
                             expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days)))
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in)


def login(session: Session, settings: Settings, guard: LoginGuard, username: str, password: str,
          client: str | None) -> TokenPair:
    guard.check(username, client)
    user = session.scalar(select(User).where(User.username == username))
    # Same work and the same message whether the user is unknown, inactive or the password is wrong.
    valid = verify_password(password, user.password_hash if user else DUMMY_PASSWORD_HASH)
    if not (user and valid and user.active):
        guard.failed(username, client)
        record(session, username[:64], "auth.login_failed", client_ip=client)
        raise Unauthorized(BAD_CREDENTIALS)
    guard.succeeded(username, client)
    user.last_login_at = datetime.now(UTC)
    record(session, user.username, "auth.login", f"user:{user.id}", client_ip=client)
    return _issue(session, settings, user, family_id=uuid.uuid4())


class RefreshReuse(Unauthorized):
    """A rotated refresh token came back: the family is revoked and must be committed as such."""


def refresh(session: Session, settings: Settings, token: str, client: str | None) -> TokenPair:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
                            .with_for_update())
    if stored is None:
        raise Unauthorized("Invalid refresh token")
    if stored.revoked_at is not None:
        # Reuse of a rotated token means it leaked: end every session descended from the same login.
        sessions.end_session(session, stored.user_id, stored.family_id)
        record(session, "system", "auth.refresh_reuse", f"user:{stored.user_id}", client_ip=client)
        raise RefreshReuse("Refresh token was already used; please log in again")
    user = session.get(User, stored.user_id)
    if stored.expires_at <= datetime.now(UTC) or user is None or not user.active:
        raise Unauthorized("Invalid refresh token")
    stored.revoked_at = datetime.now(UTC)
    return _issue(session, settings, user, family_id=stored.family_id)


def logout(session: Session, token: str, client: str | None) -> None:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token)))
    if stored is not None:
        sessions.end_session(session, stored.user_id, stored.family_id)
        record(session, "system", "auth.logout", f"user:{stored.user_id}", client_ip=client)
